"""The reference device client: local replica, outbox, uploads, pluggable transport."""

from sync.client.device import DeviceClient, RetryPolicy
from sync.client.replica import Replica
from sync.client.transport import FaultyTransport, HttpTransport, Reply, Transport

__all__ = ["DeviceClient", "FaultyTransport", "HttpTransport", "Replica", "Reply", "RetryPolicy",
           "Transport"]
