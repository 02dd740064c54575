"""A generic HTTP SMS gateway as an apprise plugin: ``smsgw://host:port/path``.

The schema is ``smsgw``: apprise already owns ``httpsms://`` (the httpSMS.com service).

apprise has no Aliyun, Tencent Cloud or operator HTTP gateways; most Chinese SMS
aggregators accept a JSON POST of the number and the text, so one small plugin covers
them (apprise's ``@notify(on=...)`` decorator). URL options:

- ``tls=yes``: POST over https; ``token=...``: ``Authorization: Bearer`` header;
- ``sign=...``: the registered SMS signature, passed through as ``sign``; the gateway
  puts ``【sign】`` at the head of the text, so a text that already starts with it is sent
  without it (the handset shows it once, as ``templates.sms_text`` counted it);
- ``timeout=S``: socket timeout in seconds (default 10);
- ``to=...``: a fixed number (alerts); otherwise the outbox passes the recipient.

The POST body is ``{"phone", "text", "msg_id"[, "sign"]}``; ``msg_id`` is the outbox key,
echoed by the gateway's delivery receipts. A 2xx answer accepts the message unless its
JSON says ``"ok": false`` or a non-zero ``code``.
"""

from __future__ import annotations

import json
from typing import Final

from apprise.decorators import notify

from notifications.channels.base import CURRENT, DeliveryContext, permanent_http_status, query
from notifications.channels.transport import (
    Answer,
    KeepAliveHttp,
    SendTimeoutError,
    UnreachableError,
)
from notifications.templates import sms_text

SCHEMA: Final = "smsgw"
DEFAULT_TIMEOUT_S: Final = 10.0


def gateway_url(meta: dict[str, object]) -> str:
    """The http(s) URL an ``smsgw://`` apprise URL points at."""
    qsd = query(meta)
    scheme = "https" if str(qsd.get("tls", "no")).lower() in ("yes", "true", "1") else "http"
    port = f":{meta['port']}" if meta.get("port") else ""
    return f"{scheme}://{meta.get('host', '')}{port}{meta.get('fullpath') or '/'}"


def post_json(ctx: DeliveryContext | None, url: str, payload: object,
              headers: dict[str, str], timeout: float, provider: str) -> Answer | None:
    """POST ``payload`` as UTF-8 JSON through the sending channel's pool (outside a
    channel's send, apprise used on its own, through a connection of this call's own).
    No answer (timeout, unreachable) is written to the receipt, named for ``provider``,
    and gives None."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **headers}
    http = ctx.http if ctx is not None else KeepAliveHttp(1)
    try:
        return http.post(url, body, headers, timeout)
    except SendTimeoutError:
        why = f"{provider} timed out after {timeout:g} s"
    except UnreachableError as exc:
        why = f"{provider} unreachable: {exc.reason}"
    finally:
        if ctx is None:
            http.close()
    if ctx is not None:
        ctx.receipt.error = why
    return None


def judge(status: int, text: str) -> tuple[bool, str]:
    """Whether a gateway answer accepts the message, and why not."""
    if not 200 <= status < 300:
        return False, f"gateway answered HTTP {status}"
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        return True, ""
    if isinstance(data, dict):
        if data.get("ok") is False:
            return False, str(data.get("error") or data.get("message") or "gateway refused")
        code = data.get("code")
        if code not in (None, 0, "0", "OK", "ok"):
            return False, f"gateway code {code}: {data.get('message', '')}".strip()
    return True, ""


@notify(on=SCHEMA, name="Generic HTTP SMS gateway")  # type: ignore[untyped-decorator,no-untyped-call]
def send_http_sms(body: str, title: str, _notify_type: str, meta: dict[str, object],
                  *_args: object, **_kwargs: object) -> bool:
    """POST one SMS; writes the gateway's answer to the current delivery receipt."""
    ctx = CURRENT.get()
    qsd = query(meta)
    phone = (ctx.address if ctx is not None and ctx.address else None) or qsd.get("to")
    sign = str(qsd.get("sign") or "")
    text = sms_text(title, body, sign)
    if sign and text.startswith(f"【{sign}】"):
        text = text[len(sign) + 2:]  # the gateway adds it back
    receipt = ctx.receipt if ctx is not None else None
    if not phone:
        if receipt is not None:
            receipt.error, receipt.permanent = "no phone number", True
        return False
    payload: dict[str, str] = {"phone": phone, "text": text,
                                  "msg_id": ctx.key if ctx is not None else ""}
    if sign:
        payload["sign"] = sign
    headers = {"Authorization": f"Bearer {qsd['token']}"} if qsd.get("token") else {}
    timeout = float(qsd.get("timeout", DEFAULT_TIMEOUT_S))
    resp = post_json(ctx, gateway_url(meta), payload, headers, timeout, "gateway")
    if resp is None:
        return False
    ok, why = judge(resp.status, resp.text)
    if receipt is not None:
        receipt.status_code = resp.status
        receipt.answer = f"HTTP {resp.status} {resp.text[:500]}"
        receipt.error = why
        receipt.permanent = not ok and permanent_http_status(resp.status)
    return ok
