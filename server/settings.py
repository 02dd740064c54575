"""Service settings, read once at start-up.

Nothing else reads ``os.environ``: tests build their own ``Settings`` and pass them to
``create_app``, so no test depends on the process environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

ENV_PREFIX = "WATEROPS_"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: str = "./data"
    db_file: str = "waterops.db"
    host: str = "127.0.0.1"
    port: int = 8000
    policy_profile: str = "strict"
    policy_dir: str | None = None
    calendar_overrides: str | None = None
    problem_base_url: str = "https://waterops.example/problems"
    max_body_bytes: int = 2 * 1024 * 1024
    demo: bool = False
    #: apprise URLs per channel name, e.g. {"sms": "httpsms://...", "wechat": "json://..."}
    channels: dict[str, str] = msgspec.field(default_factory=dict)
    #: apprise URL of the internal level-1 alert group (a WeCom group bot in production)
    alert_group_url: str | None = None
    hotline: str = "96345"
    utility_name: str = "城市供水"
    attachment_max_bytes: int = 25 * 1024 * 1024
    #: metres around a crew's work orders whose network is synced to its tablets
    sync_network_radius_m: float = 500.0

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / self.db_file

    @property
    def attachments_dir(self) -> Path:
        return Path(self.data_dir) / "attachments"


_decoder = msgspec.json.Decoder(dict[str, Any])


def load_settings(
    environ: Mapping[str, str], path: str | Path | None = None, **overrides: Any
) -> Settings:
    """Build settings from an optional TOML file, then ``WATEROPS_*`` variables, then overrides.

    Later sources win. Values from the environment are strings and are converted by
    msgspec to the field's type, so ``WATEROPS_PORT=8080`` becomes ``port=8080``.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        raw.update(msgspec.toml.decode(Path(path).read_bytes()))
    fields = set(Settings.__struct_fields__)
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX) :].lower()
            if name in fields:
                raw[name] = _decoder.decode(value) if name == "channels" else value
    raw.update({k: v for k, v in overrides.items() if v is not None})
    return msgspec.convert(raw, Settings, strict=False)
