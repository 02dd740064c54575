"""Sealed notices: how fast the server signs and seals, and re-verifies the whole archive.

Each notice goes the full service path (strokes checked and rendered to PNG, the PNG
stored by hash, fields and attachments digested, manifest signed with Ed25519, chained,
steps credited, change log written). Then ``verify_chain`` re-hashes every field and
attachment and checks every signature and link, as ``waterops notices verify-chain`` does.

Run: ``python -m bench.sealing [--quick]``.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from bench._common import emit, parse_args, percentiles, table
from server.accounts.model import Principal
from server.clock import SteppingClock
from server.demo import seed_demo
from server.fieldwork.notices import SignNoticeIn, prefill_replacement
from server.fieldwork.signatures import SignatureStrokes
from server.services import Services
from server.settings import Settings
from server.workorders.model import Actor, Point, WorkOrderIn, WorkOrderType

BENCH = "sealing"


def _strokes(rng: random.Random) -> SignatureStrokes:
    strokes = [[(rng.uniform(5, 315), rng.uniform(5, 115)) for _ in range(rng.randint(8, 30))]
               for _ in range(rng.randint(1, 4))]
    return SignatureStrokes(width=320, height=120, strokes=strokes, signer_name="bench")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__ or BENCH, argv)
    n = 40 if args.quick else 1000
    rng = random.Random(6)
    clock = SteppingClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as tmp:
        svc = Services(Settings(data_dir=tmp), clock)
        seed_demo(svc, customers=60)
        crew = svc.accounts.authenticate("wo_demo_crew_a")
        if not isinstance(crew, Principal):
            raise SystemExit("demo crew token missing")
        customers = svc.customers.page(None, 60).items
        orders = []
        for i in range(n):
            c = customers[i % len(customers)]
            orders.append((svc.workorders.create(Actor(user_id="disp-wang", role="dispatcher"),
                                                 WorkOrderIn(type=WorkOrderType.METER_REPLACEMENT,
                                                             location=Point((c.lon or 0.0,
                                                                             c.lat or 0.0)),
                                                             crew_id="crew-a", customer_id=c.id)),
                           c))
        svc.fieldwork.archive.public_key()  # key created before timing
        seal_ms: list[float] = []
        start = time.perf_counter()
        for wo, c in orders:
            notice = prefill_replacement(c, crew_id="crew-a",
                                         new_meter_no=f"N{rng.randrange(10**8)}",
                                         final_reading=round(rng.uniform(0, 9999), 1),
                                         initial_reading=0.0, performed_at=clock(),
                                         position=(c.lon or 0.0, c.lat or 0.0))
            t0 = time.perf_counter()
            svc.fieldwork.archive.sign_notice(crew, SignNoticeIn(
                work_order_id=wo.id, notice=notice, signature=_strokes(rng)))
            seal_ms.append((time.perf_counter() - t0) * 1000)
        seal_s = time.perf_counter() - start
        t0 = time.perf_counter()
        report = svc.fieldwork.archive.verify_chain()
        verify_s = time.perf_counter() - t0
        svc.close()
    if not report.intact:
        raise SystemExit("the freshly sealed chain does not verify")
    p = percentiles(seal_ms)
    table(f"sealing ({n} notices)", [
        ("seal throughput", f"{n / seal_s:,.1f} notices/s"),
        ("seal p50 / p99", f"{p[50]:.2f} / {p[99]:.2f} ms"),
        ("verify whole chain", f"{verify_s:.3f} s ({n / verify_s:,.0f} docs/s)"),
    ])
    emit(BENCH, "seal_notices_per_s", n / seal_s, "1/s", n)
    emit(BENCH, "seal_p50_ms", p[50], "ms", n)
    emit(BENCH, "seal_p99_ms", p[99], "ms", n)
    emit(BENCH, "verify_chain_docs_per_s", n / verify_s, "1/s", n)


if __name__ == "__main__":
    main()
