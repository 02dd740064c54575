"""A notice channel backed by an apprise URL (any apprise service, or our plugins).

Two shapes of URL:

- with an ``{address}`` placeholder (``json://gw/sms?:to={address}``): a fresh apprise
  object per message, the recipient substituted into the URL;
- without one (``smsgw://gw/send``, ``wechatoa://...``, ``wecombot://KEY``): one apprise
  object per sending thread, reused; our plugins read the recipient from the
  ``DeliveryContext``. Reuse matters: building an apprise object costs about as much as
  sending, which halves throughput at 100k recipients. Our own plugins
  (``RECEIPT_SCHEMAS``) go through their plugin instance's ``notify``.

Pacing: apprise's own throttle (``request_rate_per_sec``, misnamed: seconds between
sends, default 5.5 s, per plugin instance) is set to 0 on purpose. It is per instance,
so with one instance per thread it would not bound the channel's total rate anyway; the
worker's ``RateLimiter`` spaces sends across all threads at ``rate_per_sec`` instead.
apprise's own retries stay off (``retry`` unset): the outbox retries, durably.
"""

from __future__ import annotations

import threading
from typing import Final
from urllib.parse import quote, urlsplit

import apprise
import msgspec
from apprise.plugins.base import NotifyBase

# importing registers the decorator plugins with apprise
from notifications.channels import http_sms, wechat_oa
from notifications.channels.base import CURRENT, DeliveryContext, Receipt, SendOutcome
from notifications.channels.transport import DEFAULT_CONNECTIONS, KeepAliveHttp

ADDRESS_PLACEHOLDER: Final = "{address}"
#: our plugins, which write the provider's answer to the ``Receipt``: their channels call
#: the plugin's own ``notify`` (apprise's formatting and send), not ``Apprise.notify``,
#: whose tag matching, dispatch and per-call log capture cost five times the plugin's
#: work (about 0.1 ms a message, a sixth of the worker's time per message; issue 19);
#: a receipt says why a send failed, so nothing needs apprise's log lines
RECEIPT_SCHEMAS: Final = frozenset({http_sms.SCHEMA, wechat_oa.SCHEMA})
#: pacing belongs to the worker's RateLimiter (see the module docstring)
APPRISE_THROTTLE_S: Final = 0.0


class ChannelConfig(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    url: str
    #: the provider's allowed send rate (messages per second; 0 = unlimited)
    rate_per_sec: float = 20.0
    #: honour http(s)_proxy / no_proxy from the environment (off unless needed)
    use_env_proxy: bool = False
    #: keep-alive connections the channel keeps open at most, shared by all sending
    #: threads (``transport``)
    connections: int = DEFAULT_CONNECTIONS


class AppriseChannel:
    def __init__(self, config: ChannelConfig) -> None:
        self.name = config.name
        self.rate_per_sec = config.rate_per_sec
        self._url = config.url
        self.http = KeepAliveHttp(config.connections, use_env_proxy=config.use_env_proxy)
        self._templated = ADDRESS_PLACEHOLDER in config.url
        self._reports = (not self._templated
                         and urlsplit(config.url).scheme.lower() in RECEIPT_SCHEMAS)
        self._asset = apprise.AppriseAsset(async_mode=False, service_timeout=0)
        self._local = threading.local()
        if not self._templated:
            probe = apprise.Apprise(asset=self._asset)
            if not probe.add(config.url):
                raise ValueError(f"channel {config.name!r}: apprise cannot use its URL")

    def _apprise(self, address: str | None) -> apprise.Apprise:
        if self._templated:
            url = self._url.replace(ADDRESS_PLACEHOLDER, quote(address or "", safe=""))
            obj = apprise.Apprise(asset=self._asset)
            obj.add(url)
        else:
            cached: apprise.Apprise | None = getattr(self._local, "apprise", None)
            if cached is not None:
                obj = cached
            else:
                obj = apprise.Apprise(asset=self._asset)
                obj.add(self._url)
                self._local.apprise = obj
        for plugin in obj:
            plugin.request_rate_per_sec = APPRISE_THROTTLE_S
        return obj

    def _plugin(self) -> NotifyBase | None:
        """This thread's instance of the URL's plugin (one of ``RECEIPT_SCHEMAS``)."""
        cached: NotifyBase | None = getattr(self._local, "plugin", None)
        if cached is None:
            cached = apprise.Apprise.instantiate(self._url, asset=self._asset)
            if cached is not None:
                cached.request_rate_per_sec = APPRISE_THROTTLE_S
                self._local.plugin = cached
        return cached

    def send(self, address: str | None, title: str, body: str, key: str) -> SendOutcome:
        """Send once; the outcome carries the provider's answer or apprise's log lines."""
        ctx = DeliveryContext(address=address, key=key, http=self.http)
        token = CURRENT.set(ctx)
        if self._reports:
            try:
                plugin = self._plugin()
                ok = plugin is not None and bool(plugin.notify(body=body, title=title))
            finally:
                CURRENT.reset(token)
            if plugin is None:
                return SendOutcome(ok=False, error="apprise cannot use this channel's URL",
                                   permanent=True)
            return self._outcome(ok, ctx.receipt, f"{self.name}: not sent")
        try:
            obj = self._apprise(address)
            if len(obj) == 0:
                return SendOutcome(ok=False, error="apprise cannot use this channel's URL",
                                   permanent=True)
            result = obj.notify(body=body, title=title)
        finally:
            CURRENT.reset(token)
        logs = "; ".join(e.message for e in result.logs() if e.level in ("WARNING", "ERROR"))
        return self._outcome(bool(result), ctx.receipt,
                             logs or f"apprise status {result.status.name}")

    def _outcome(self, ok: bool, receipt: Receipt, otherwise: str) -> SendOutcome:
        """What a send gives the worker: the plugin's receipt, else ``otherwise`` as why."""
        return SendOutcome(ok=ok, answer=receipt.answer or (f"{self.name}: accepted" if ok
                                                            else ""),
                           error="" if ok else (receipt.error or otherwise),
                           permanent=receipt.permanent)

    def close(self) -> None:
        """Close the channel's idle connections now (a channel dropped without it closes
        them when it is collected)."""
        self.http.close()
