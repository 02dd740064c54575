"""A range narrowed by project size where the profile says so (KF 表1: 0.5-6 个工作日,
"依据不同管网口径和管线长度"): a utility's own profile with size bands, over HTTP.

Due times are hand counts from Friday 27 Nov 2026 14:00 (08:30-12:00, 13:30-17:30)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.clock import SteppingClock
from server.policy import load_profile
from server.policy.load import PolicyError
from tests.factories import make_services
from tests.integration.connections.kit import (
    API,
    OFFICE,
    SH,
    application,
    deadline,
    local,
    ok,
)

pytestmark = pytest.mark.integration

FRIDAY_1400 = datetime(2026, 11, 27, 14, 0, tzinfo=SH)
BANDS = '''name = "banded"
title = "a utility's own size table"

[connections.types.general_works]
size_bands = [
  { max_dn_mm = 50, max_line_m = 50, limit = 1, clause = "供水集团 接水时效表 第1档" },
  { max_dn_mm = 100, max_line_m = 300, limit = 3, clause = "供水集团 接水时效表 第2档" },
]
'''


def _policies(tmp_path: Path, text: str) -> Path:
    policies = tmp_path / "policies"
    policies.mkdir(exist_ok=True)
    (policies / "banded.toml").write_text(text, encoding="utf-8")
    return policies


@pytest.mark.parametrize(("dn", "accept", "due"), [
    # DN25 and a 30 m line: the first band, 1 working day -> Mon 30 Nov 14:00
    (25, {"line_length_m": 30}, datetime(2026, 11, 30, 14, 0, tzinfo=SH)),
    # no length given: the distance to the tie-in main (about 110 m) -> the second band,
    # 3 working days -> Wed 2 Dec 14:00
    (25, {}, datetime(2026, 12, 2, 14, 0, tzinfo=SH)),
    # DN400 fits no band: the upper end, 6 working days -> Mon 7 Dec 14:00
    (400, {"line_length_m": 30}, datetime(2026, 12, 7, 14, 0, tzinfo=SH)),
    # the office's own commitment wins over the table: 4 working days -> Thu 3 Dec 14:00
    (25, {"line_length_m": 30, "committed_limit": 4},
     datetime(2026, 12, 3, 14, 0, tzinfo=SH)),
])
def test_the_total_follows_the_profiles_size_band(
        tmp_path: Path, dn: int, accept: dict[str, object], due: datetime) -> None:
    clock = SteppingClock(FRIDAY_1400)
    svc = make_services(str(tmp_path / "data"), clock, policy_profile="banded",
                        policy_dir=str(_policies(tmp_path, BANDS)))
    try:
        with TestClient(create_app(svc.settings, clock=clock, services=svc)) as client:
            c = ok(client.post(API, json=application("general_works", service_dn_mm=dn),
                               headers=OFFICE), 201)
            accepted = ok(client.post(f"{API}/{c['id']}/acceptance",
                                      json={"crew_id": "crew-a", **accept}, headers=OFFICE))
            assert local(deadline(accepted, "connection_total")["due_at"]) == due
    finally:
        svc.close()


def test_a_band_outside_the_range_is_refused_when_the_profile_loads(tmp_path: Path) -> None:
    policies = _policies(tmp_path, BANDS.replace("limit = 3", "limit = 9"))
    with pytest.raises(PolicyError, match="outside the total's range"):
        load_profile("banded", str(policies))
