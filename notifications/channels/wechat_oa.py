"""WeChat official-account template messages as an apprise plugin: ``wechatoa://``.

apprise reaches WeCom staff (``wechat://``) and WxPusher, but not citizens who follow
the utility's official account (公众号). This plugin POSTs the template-message call
``/cgi-bin/message/template/send?access_token=...`` with
``{"touser": openid, "template_id", "data": {first, keyword1, remark}}``.

URL: ``wechatoa://api.weixin.qq.com/cgi-bin/message/template/send?tls=yes&template=ID
&token=ACCESS_TOKEN`` (the access token comes from the utility's central token service;
fetching one per send would exhaust WeChat's daily quota). ``timeout=S`` as for SMS.
WeChat answers ``{"errcode": 0, "msgid": ...}``; errcodes for an unknown or
unsubscribed openid are permanent, so the outbox falls back to SMS at once.
"""

from __future__ import annotations

import json
from typing import Final

from apprise.decorators import notify

from notifications.channels.base import CURRENT, query
from notifications.channels.http_sms import DEFAULT_TIMEOUT_S, gateway_url, post_json

SCHEMA: Final = "wechatoa"
#: invalid openid, user refused or unsubscribed, openid of another account
PERMANENT_ERRCODES: Final = frozenset({40003, 43004, 43019, 40013, 40037, 47003})


@notify(on=SCHEMA, name="WeChat official account template message")  # type: ignore[untyped-decorator,no-untyped-call]
def send_wechat_template(body: str, title: str, _notify_type: str, meta: dict[str, object],
                         *_args: object, **_kwargs: object) -> bool:
    ctx = CURRENT.get()
    qsd = query(meta)
    openid = (ctx.address if ctx is not None and ctx.address else None) or qsd.get("to")
    receipt = ctx.receipt if ctx is not None else None
    if not openid:
        if receipt is not None:
            receipt.error, receipt.permanent = "no WeChat openid", True
        return False
    payload = {
        "touser": openid,
        "template_id": qsd.get("template", ""),
        "client_msg_id": ctx.key if ctx is not None else "",
        "data": {"first": {"value": title}, "keyword1": {"value": body},
                 "remark": {"value": str(qsd.get("remark", ""))}},
    }
    url = gateway_url(meta) + f"?access_token={qsd.get('token', '')}"
    timeout = float(qsd.get("timeout", DEFAULT_TIMEOUT_S))
    resp = post_json(ctx, url, payload, {}, timeout, "WeChat API")
    if resp is None:
        return False
    try:
        answer = json.loads(resp.text) if resp.text.strip() else {}
    except ValueError:
        answer = {}
    errcode = answer.get("errcode", 0 if resp.status == 200 else -1) \
        if isinstance(answer, dict) else -1
    ok = resp.status == 200 and errcode == 0
    if receipt is not None:
        receipt.status_code = resp.status
        receipt.answer = f"HTTP {resp.status} {resp.text[:500]}"
        receipt.error = "" if ok else (
            f"WeChat errcode {errcode}: {answer.get('errmsg', '')}" if resp.status == 200
            else f"WeChat API answered HTTP {resp.status}")
        receipt.permanent = (not ok) and errcode in PERMANENT_ERRCODES
    return ok
