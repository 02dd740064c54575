"""Demo data: a small district around Jinan (lon 117.0, lat 36.65).

The district has its pipe network (``server.demo_network``: pipes, valves, hydrants, a
plant) with every demo customer connected to it, so isolation and outage notices work
on the demo as on a real network.

Deterministic (seeded) so that a demo, a screenshot and a test see the same world:
crews, users with known demo tokens, a few hundred customers in residential compounds
along real-looking streets, and open work orders of every type.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Final

from server.accounts.model import Crew, Role, User
from server.customers.model import Customer
from server.demo_network import import_demo_network
from server.services import Services
from server.workorders.model import Actor, LineString, Point, WorkOrderIn, WorkOrderType

CENTER: Final = (117.0, 36.65)
STREETS: Final = ("经十路", "历山路", "文化东路", "山大路", "和平路", "解放路")
COMPOUNDS: Final = ("燕山小区", "历山名郡", "文化苑", "山大南苑", "和平新村", "解放阁花园")
SURNAMES: Final = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN: Final = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"

#: (user id, name, role, crew, token) — tokens are public demo credentials, never real ones
DEMO_USERS: Final = (
    ("admin", "管理员", Role.ADMIN, None, "wo_demo_admin"),
    ("sup-li", "李主管", Role.SUPERVISOR, None, "wo_demo_supervisor"),
    ("disp-wang", "王调度", Role.DISPATCHER, None, "wo_demo_dispatcher"),
    ("crew-a-zhang", "张师傅", Role.CREW_MEMBER, "crew-a", "wo_demo_crew_a"),
    ("crew-a-zhao", "赵师傅", Role.CREW_MEMBER, "crew-a", "wo_demo_crew_a2"),
    ("crew-b-liu", "刘师傅", Role.CREW_MEMBER, "crew-b", "wo_demo_crew_b"),
    ("reader-chen", "陈抄表", Role.METER_READER, "readers", "wo_demo_reader"),
)


def _customers(rng: random.Random, count: int) -> list[Customer]:
    out = []
    for i in range(count):
        c_idx = i % len(COMPOUNDS)
        street = STREETS[c_idx]
        lon = CENTER[0] + (c_idx % 3 - 1) * 0.006 + rng.uniform(-0.0015, 0.0015)
        lat = CENTER[1] + (c_idx // 3 - 0.5) * 0.006 + rng.uniform(-0.0015, 0.0015)
        building, unit, room = rng.randint(1, 20), rng.randint(1, 4), rng.randint(101, 1802)
        out.append(Customer(
            id=f"cust-{i + 1:05d}",
            account_no=f"37010{i + 1:07d}",
            name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
            phone=f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
            wechat_openid=f"oDemo{rng.getrandbits(48):012x}" if rng.random() < 0.7 else None,
            address=(f"{street}{rng.randint(1, 300)}号{COMPOUNDS[c_idx]}"
                     f"{building}号楼{unit}单元{room}"),
            compound=COMPOUNDS[c_idx], street=street, lon=round(lon, 6), lat=round(lat, 6),
            meter_no=f"M{rng.randint(10_000_000, 99_999_999)}",
            meter_diameter_mm=rng.choice((15, 15, 15, 20, 25)),
            meter_location=rng.choice(("楼道水表井", "户内厨房", "室外表井")),
            property_dispute=i % 97 == 13, court_case=i % 131 == 7,
        ))
    return out


def seed_demo(svc: Services, customers: int = 300, seed: int = 7) -> dict[str, str]:
    """Fill an empty store with the demo world; returns user id -> demo token.

    Idempotent: a store that already has the demo admin is left as it is.
    """
    tokens = {uid: token for uid, _n, _r, _c, token in DEMO_USERS}
    if svc.accounts.store.user("admin") is not None:
        return tokens
    rng = random.Random(seed)  # noqa: S311 - seeded demo data, not secrets
    for crew in (Crew(id="crew-a", name="抢修一班", unit="管网所", supervisor_id="sup-li"),
                 Crew(id="crew-b", name="抢修二班", unit="管网所", supervisor_id="sup-li"),
                 Crew(id="readers", name="抄表组", unit="营业所", supervisor_id="sup-li")):
        svc.accounts.create_crew(crew)
    for uid, name, role, crew_id, token in DEMO_USERS:
        unit = "管网所" if crew_id != "readers" else "营业所"
        svc.accounts.create_user(User(id=uid, name=name, role=role, crew_id=crew_id, unit=unit))
        svc.accounts.register_device(uid, f"demo device of {name}", token=token)
    people = _customers(rng, customers)
    svc.customers.import_customers(people)
    import_demo_network(svc.network, people)
    dispatcher = Actor(user_id="disp-wang", role="dispatcher")
    now = svc.clock()
    orders: list[WorkOrderIn] = []
    for i, c in enumerate(people[:12]):
        if c.lon is None or c.lat is None:  # _customers places every demo customer
            raise ValueError(f"demo customer {c.id} has no position")
        kind = (WorkOrderType.METER_REPLACEMENT, WorkOrderType.METER_REMOVAL,
                WorkOrderType.COMPLAINT)[i % 3]
        orders.append(WorkOrderIn(
            type=kind, location=Point((c.lon, c.lat)), customer_id=c.id,
            title=f"{kind.value} {c.address}", crew_id=("crew-a", "crew-b")[i % 2],
            reported_at=now - timedelta(minutes=10 * i),
        ))
    orders.append(WorkOrderIn(
        type=WorkOrderType.BURST_REPAIR, location=Point((117.0012, 36.6503)),
        title="经十路与历山路口 DN300 爆管", pipe_diameter_mm=300, priority=1, crew_id="crew-a",
    ))
    orders.append(WorkOrderIn(
        type=WorkOrderType.LINE_MARKING,
        location=LineString([(116.9960, 36.6480), (117.0040, 36.6482)]),
        title="地铁施工管线指认", crew_id="crew-b", fields={"contractor": "济南轨道交通施工方"},
    ))
    orders.append(WorkOrderIn(
        type=WorkOrderType.METER_READING_ROUTE, location=Point(CENTER), title="燕山小区 11 月抄表",
        crew_id="readers",
    ))
    for order in orders:
        svc.workorders.create(dispatcher, order)
    return tokens

