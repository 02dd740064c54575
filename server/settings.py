"""Service settings, read once at start-up.

Nothing else reads ``os.environ``: tests build their own ``Settings`` and pass them to
``create_app``, so no test depends on the process environment.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from core.errors import WaterOpsError

ENV_PREFIX = "WATEROPS_"
#: store connections a process keeps beside its request-handler threads: the event loop's
#: own (authentication, kept list pages), the outbox, deadline, attachment and position
#: jobs, and the two alert-sending threads
BACKGROUND_CONNECTIONS = 7


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: str = "./data"
    db_file: str = "waterops.db"
    #: ``postgresql://user@host/db`` to run on PostgreSQL (several app machines); unset:
    #: the SQLite file ``data_dir/db_file``
    database_url: str | None = None
    #: request handlers running at once in one process (the event loop's executor); each holds
    #: one store connection, so more threads than the pool has connections would make the
    #: extra requests wait for a connection and fail after ``database_pool_timeout_s``
    http_threads: Annotated[int, msgspec.Meta(ge=1, le=512)] = 16
    #: connections per process to PostgreSQL (psycopg-pool): at least ``http_threads`` plus
    #: ``BACKGROUND_CONNECTIONS`` (the event loop and the in-process jobs); checked at start-up
    database_pool_size: Annotated[int, msgspec.Meta(ge=1)] = 24
    #: seconds a thread waits for a free pooled connection before its request fails
    database_pool_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    #: bytes of encoded list pages one process keeps (``server.pagecache``; work-order lists):
    #: a page is served again only while the store and the clock leave it true; 0: off
    list_cache_bytes: Annotated[int, msgspec.Meta(ge=0)] = 64 * 1024 * 1024
    #: ``waterops serve`` processes answering HTTP on one socket, each with its own event
    #: loop, threads, pool and page cache (``server.http_server.run``). Safe on either
    #: store: every page and token is checked against the database, never a process's
    #: memory alone. More than one lets the loop's store round trips of one process overlap
    #: another's work (PostgreSQL, issue 19); the background jobs run in the first only.
    http_processes: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    policy_profile: str = "strict"
    policy_dir: str | None = None
    calendar_overrides: str | None = None
    problem_base_url: str = "https://waterops.example/problems"
    max_body_bytes: Annotated[int, msgspec.Meta(gt=0)] = 2 * 1024 * 1024
    demo: bool = False
    #: apprise URLs per channel name, e.g. {"sms": "httpsms://...", "wechat": "json://..."}
    channels: dict[str, str] = msgspec.field(default_factory=dict)
    #: apprise URL of the internal level-1 alert group (a WeCom group bot in production)
    alert_group_url: str | None = None
    hotline: str = "96345"
    #: a CJK font file (TTF/TTC) for printable notices and postings; when set, only this
    #: file is used (a wrong path answers no-cjk-font, never another font); unset: the
    #: usual Debian locations (fonts-wqy-microhei)
    pdf_font: str | None = None
    utility_name: str = "城市供水"
    attachment_max_bytes: Annotated[int, msgspec.Meta(gt=0)] = 25 * 1024 * 1024
    #: the address customers and printed QR codes reach the service at (behind the proxy),
    #: e.g. "https://water.example.cn"; default http://host:port
    public_base_url: str | None = None
    #: metres around a crew's work orders whose network is synced to its tablets
    sync_network_radius_m: Annotated[float, msgspec.Meta(ge=0)] = 500.0
    #: bytes one device may have declared but not finished uploading
    attachment_device_quota_bytes: Annotated[int, msgspec.Meta(gt=0)] = 100 * 1024 * 1024
    #: bytes of attachments one work order may hold
    attachment_order_quota_bytes: Annotated[int, msgspec.Meta(gt=0)] = 500 * 1024 * 1024
    #: an unfinished upload idle this long is removed by the clean-up (row and file)
    attachment_partial_ttl_s: Annotated[float, msgspec.Meta(gt=0)] = 72 * 3600.0
    #: review flags one device may file per hour (rejected pushes beyond it are not kept)
    review_flags_per_device_hour: Annotated[int, msgspec.Meta(ge=0)] = 30
    #: requests per minute per client address without a (valid) token
    public_requests_per_minute: Annotated[int, msgspec.Meta(gt=0)] = 120
    #: wrong complaint lookups per (number, address) before the back-off starts
    lookup_free_failures: Annotated[int, msgspec.Meta(ge=0)] = 3
    #: first lock-out after the free failures, doubled each further failure, capped
    lookup_lockout_s: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    lookup_lockout_max_s: Annotated[float, msgspec.Meta(gt=0)] = 24 * 3600.0
    #: reverse proxies (socket addresses) whose last X-Forwarded-For entry is the client's
    #: address for the per-address limits; from anyone else the header is ignored
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    #: the utility's service area as a WGS84 box "lon_min,lat_min,lon_max,lat_max"
    #: (e.g. "116.2,36.0,117.9,37.3" for Jinan): a network imported with the wrong CRS
    #: lands outside it and is refused with both boxes. Empty: only a sanity check.
    service_area: str = ""
    #: what the SMS gateway bills per message part (CNY), for the cost shown before announcing
    sms_price_per_segment: float = 0.05
    #: console basemap: an XYZ tile URL ("" = no basemap, the network is the map) and the
    #: datum its tiles are drawn in ("wgs84", or "gcj02" for AMap/Tencent tiles)
    console_tile_url: str = ""
    console_tile_datum: Literal["wgs84", "gcj02"] = "wgs84"
    console_tile_attribution: str = ""
    #: console sign-in: session lifetime; mark the cookie Secure behind HTTPS
    console_session_hours: Annotated[float, msgspec.Meta(gt=0, le=24 * 30)] = 12.0
    console_cookie_secure: bool = False
    #: crew positions: local shift hours in which fixes are kept and shown, and retention
    crew_shift_hours: Annotated[str, msgspec.Meta(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")] = \
        "07:00-20:00"
    position_retention_days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 7
    #: the running service for CLI commands that ask it instead of loading the store
    #: (``waterops network isolate``: the service keeps the network precomputed), and the
    #: device token they send; unset: the command works on the local store
    service_url: str | None = None
    service_token: str | None = None
    #: run the background jobs (outbox, deadline scan, clean-up) inside the app process;
    #: ``waterops serve`` turns this on unless ``--no-workers`` (then run ``waterops worker``)
    workers: bool = False
    #: seconds between passes of the outbox job (the deadline scan runs at most every 30 s)
    worker_interval_s: float = 5.0
    #: a request's headers must all arrive within this many seconds of its first byte
    header_timeout_s: float = 10.0
    #: and its body within this many seconds of its headers
    body_timeout_s: float = 60.0
    #: open connections (and running requests) past which uvicorn answers 503
    max_connections: int = 1000
    #: one log line per request (uvicorn's access log); off by default, it cost more per
    #: request than a list page's own work (issue 19)
    access_log: bool = False
    #: uvicorn's HTTP parser: "httptools" (C, from uvicorn[standard]) or "h11" (pure Python)
    http_parser: Literal["httptools", "h11"] = "httptools"

    def __post_init__(self) -> None:
        need = self.http_threads + BACKGROUND_CONNECTIONS
        if self.database_url and self.database_pool_size < need:
            raise SettingsError(
                f"database_pool_size={self.database_pool_size} is too small for "
                f"http_threads={self.http_threads}: each request thread and each of the "
                f"{BACKGROUND_CONNECTIONS} other threads (the event loop, the background "
                f"jobs) holds a connection; use at least {need} (or fewer http_threads)")

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / self.db_file

    @property
    def public_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def attachments_dir(self) -> Path:
        return Path(self.data_dir) / "attachments"


#: variables that say where settings come from, not settings themselves
#: ``WATEROPS_*`` variables that are not settings: the config file's path, and the test
#: and CI switches (the store the suite runs on, the stores CI runs, a bench database)
META_VARIABLES = frozenset({"WATEROPS_CONFIG", "WATEROPS_TEST_DATABASE_URL",
                            "WATEROPS_BENCH_DATABASE_URL", "WATEROPS_CI_STORES"})
_json = msgspec.json.Decoder()


class SettingsError(WaterOpsError, ValueError):
    """A setting is unknown or has a bad value: the service refuses to start.

    Raised at start-up (``waterops serve``, every CLI command), never at request time, so
    a misspelt ``WATEROPS_*`` variable is noticed before it silently changes nothing.
    """

    code = "settings-invalid"


def _structured(name: str) -> bool:
    """Fields whose environment value is JSON (a table of channels, a list)."""
    hint = Settings.__annotations__.get(name, "")
    return str(hint).startswith(("dict", "list"))


def _unknown(names: list[str], known: set[str], prefix: str) -> str:
    """``WATEROPS_PROT (did you mean WATEROPS_PORT?)``; file keys stay lower case."""
    spell = str.upper if prefix else str
    parts = []
    for name in names:
        guess = difflib.get_close_matches(name.lower(), sorted(known), n=1)
        hint = f" (did you mean {prefix}{spell(guess[0])}?)" if guess else ""
        parts.append(f"{prefix}{spell(name)}{hint}")
    return ", ".join(parts)


def load_settings(
    environ: Mapping[str, str], path: str | Path | None = None, **overrides: Any
) -> Settings:
    """Build settings from an optional TOML file, then ``WATEROPS_*`` variables, then overrides.

    Later sources win. Values from the environment are strings and are converted by
    msgspec to the field's type, so ``WATEROPS_PORT=8080`` becomes ``port=8080``; tables
    and lists are JSON. An unknown name (in the file or the environment) or a value of
    the wrong type or range raises ``SettingsError`` naming the variable.
    """
    fields = set(Settings.__struct_fields__)
    raw: dict[str, Any] = {}
    where: dict[str, str] = {}
    if path is not None:
        try:
            from_file = msgspec.toml.decode(Path(path).read_bytes())
        except (OSError, msgspec.DecodeError) as exc:
            raise SettingsError(f"settings file {path}: {exc}") from None
        stray = sorted(k for k in from_file if k not in fields)
        if stray:
            raise SettingsError(f"unknown setting(s) in {path}: {_unknown(stray, fields, '')}")
        raw.update(from_file)
        where.update({k: f"{k} in {path}" for k in from_file})
    stray = []
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key in META_VARIABLES:
            continue
        name = key[len(ENV_PREFIX):].lower()
        if name not in fields:
            stray.append(name)
            continue
        try:
            raw[name] = _json.decode(value) if _structured(name) else value
        except msgspec.DecodeError:
            raise SettingsError(f"{key}: not valid JSON") from None
        where[name] = key
    if stray:
        raise SettingsError("unknown setting(s): " + _unknown(sorted(stray), fields, ENV_PREFIX))
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        found = re.search(r"\$\.(\w+)", text)
        field = found.group(1) if found else ""
        source = where.get(field, field or "settings")
        raise SettingsError(f"{source}: {text.split(' - at ')[0]}") from None
