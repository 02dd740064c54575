"""Notice channels: apprise URLs, plus plugins for gateways apprise lacks."""

from notifications.channels.apprise_channel import AppriseChannel, ChannelConfig
from notifications.channels.base import Channel, RateLimiter, SendOutcome

__all__ = ["AppriseChannel", "Channel", "ChannelConfig", "RateLimiter", "SendOutcome"]
