"""A channel URL of the settings becomes a channel: our own query arguments (``rate=``,
``connections=``) are read and taken out before apprise sees the URL; bad values are a
clear error naming the channel, not a channel that silently sends unpaced."""

from __future__ import annotations

import pytest

from server.outage_rules import DEFAULT_RATE_PER_SEC, channel_config


def test_our_arguments_are_read_and_taken_out_of_the_url() -> None:
    c = channel_config("sms", "smsgw://gw.example.cn/api/send?tls=yes&rate=50&sign=城市供水"
                              "&connections=4&token=T")
    assert c.rate_per_sec == 50.0
    assert c.connections == 4
    assert c.url.startswith("smsgw://gw.example.cn/api/send?")
    assert "rate=" not in c.url
    assert "connections=" not in c.url
    assert "tls=yes" in c.url
    assert "token=T" in c.url


def test_without_them_the_defaults_hold() -> None:
    c = channel_config("wechat", "wechatoa://api.weixin.qq.com/cgi-bin/message/template/send")
    assert c.rate_per_sec == DEFAULT_RATE_PER_SEC
    assert c.connections == 16
    assert c.url == "wechatoa://api.weixin.qq.com/cgi-bin/message/template/send"


@pytest.mark.parametrize("query", ["rate=fast", "connections=0", "connections=2.5",
                                   "rate=-1", "rate=nan", "connections=-3"])
def test_bad_values_are_refused_naming_the_channel(query: str) -> None:
    with pytest.raises(ValueError, match="channel 'sms'"):
        channel_config("sms", f"smsgw://gw/send?{query}")
