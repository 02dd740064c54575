"""Field hardware from the command line: read a GNSS fix, read a meter, print a test slip.

Every command takes ``--url``, the same URL-like setting the service uses (``serial://``,
``tcp://``, ``file://``, ``sim://``; see docs/hardware.md), so an operator can check a
device on the bench before it goes out with a crew. Errors print the adapter's stable
``code``; with ``--json`` they print ``{"error": code, "detail": ..., ...}`` and exit 1.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NoReturn

import click
import msgspec

from hardware_adapters.errors import HardwareError
from hardware_adapters.gnss import FixPolicy, FixQuality, evaluate_fix, open_receiver
from hardware_adapters.meters import (
    MeterFault,
    MeterSimulator,
    PtyMeterServer,
    SimulatedMeter,
    TcpMeterServer,
    open_meter_bus,
)
from hardware_adapters.printer import NoticeSlip, SlipPosition, SlipReading, open_printer
from hardware_adapters.printer.preview import preview_job
from server.cli.common import json_option, output, settings_from
from server.clock import LOCAL_TZ, system_clock

_encode = msgspec.json.Encoder().encode
_QUALITIES = {q.name.lower(): q for q in FixQuality}


def _demo() -> bool:
    return settings_from(None).demo


def _fail(exc: HardwareError, as_json: bool) -> NoReturn:
    if as_json:
        body = {"error": exc.code, "detail": exc.detail, **exc.extra}
        sys.stdout.write(_encode(body).decode() + "\n")
        raise SystemExit(1)
    raise click.ClickException(f"{exc.code}: {exc.detail}")


@click.group(help="Field hardware: GNSS, CJ/T 188 meters, notice printers, pressure loggers.")
def hardware() -> None:
    pass


@hardware.command("gnss-read", help="Wait for an evidence-grade GNSS fix and print it.")
@click.option("--url", default="sim://", show_default=True, help="receiver setting")
@click.option("--timeout", "timeout_s", default=10.0, show_default=True, type=float)
@click.option("--max-hdop", default=3.0, show_default=True, type=float)
@click.option("--min-sats", default=5, show_default=True, type=int)
@click.option("--min-quality", type=click.Choice(sorted(_QUALITIES)), default="gps",
              show_default=True)
@click.option("--require-3d", is_flag=True)
@click.option("--all", "show_all", is_flag=True, help="print every fix with its verdict")
@json_option
def gnss_read(url: str, timeout_s: float, max_hdop: float, min_sats: int, min_quality: str,
              require_3d: bool, show_all: bool, as_json: bool) -> None:
    policy = FixPolicy(max_hdop=max_hdop, min_satellites=min_sats,
                       min_quality=_QUALITIES[min_quality], require_3d=require_3d)
    try:
        with open_receiver(url, clock=system_clock, demo=_demo()) as receiver:
            if show_all:
                rows = [{"fix": fix, "rejected": evaluate_fix(fix, policy)}
                        for fix in receiver.fixes(timeout_s)]
                output(rows, as_json, lambda rs: "\n".join(
                    f"{r['fix'].time.isoformat()} {r['fix'].lon:.6f} {r['fix'].lat:.6f} "
                    f"{r['fix'].quality.name} sats={r['fix'].satellites} "
                    f"hdop={r['fix'].hdop} {r['rejected'] or 'ok'}" for r in rs) or "no fixes")
                return
            fix = receiver.read_fix(policy, timeout_s)
    except HardwareError as exc:
        _fail(exc, as_json)
    output(fix, as_json, lambda f: (
        f"{f.time.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M:%S} (Beijing)\n"
        f"WGS84  {f.lon:.7f} {f.lat:.7f}  alt {f.altitude_m} m\n"
        f"GCJ-02 {f.lon_gcj02:.7f} {f.lat_gcj02:.7f}\n"
        f"{f.quality.name} sats={f.satellites} hdop={f.hdop} pdop={f.pdop}"))


@hardware.command("meter-read", help="Read a water meter's volume and status (CJ/T 188 901F).")
@click.option("--url", default="sim://", show_default=True, help="meter bus setting")
@click.option("--address", required=True, help="14-digit meter number")
@json_option
def meter_read(url: str, address: str, as_json: bool) -> None:
    try:
        with open_meter_bus(url, clock=system_clock, demo=_demo()) as bus:
            reading = bus.read(address)
    except HardwareError as exc:
        _fail(exc, as_json)
    output(reading, as_json, lambda r: (
        f"meter {r.address}: {r.volume_m3} m³ (settlement day {r.settlement_volume_m3} m³)\n"
        f"valve {r.valve}, battery {'LOW' if r.battery_low else 'ok'}, "
        f"meter clock {r.meter_time.astimezone(LOCAL_TZ) if r.meter_time else 'none'}"))


@hardware.command("meter-address", help="Ask the single meter on the line for its number.")
@click.option("--url", default="sim://", show_default=True, help="meter bus setting")
@json_option
def meter_address(url: str, as_json: bool) -> None:
    try:
        with open_meter_bus(url, clock=system_clock, demo=_demo()) as bus:
            address = bus.read_address()
    except HardwareError as exc:
        _fail(exc, as_json)
    output({"address": address}, as_json, lambda r: str(r["address"]))


@hardware.command("meter-sim", help="Serve simulated meters on a pty or TCP until Ctrl-C.")
@click.option("--tcp", "use_tcp", is_flag=True, help="listen on 127.0.0.1 instead of a pty")
@click.option("--meter", "meters", multiple=True, default=["00000012345678:1234.56"],
              show_default=True, help="address:volume_m3, repeatable")
@click.option("--fault", type=click.Choice([f.value for f in MeterFault]), default="none")
@json_option
def meter_sim(use_tcp: bool, meters: tuple[str, ...], fault: str, as_json: bool) -> None:
    sims = []
    for item in meters:
        address, _, volume = item.partition(":")
        sims.append(SimulatedMeter(address=address, volume_m3=Decimal(volume or "0"),
                                   settlement_m3=Decimal(volume or "0")))
    simulator = MeterSimulator(sims, clock=system_clock, zone=LOCAL_TZ,
                               fault=MeterFault(fault))
    server: PtyMeterServer | TcpMeterServer = (
        TcpMeterServer(simulator) if use_tcp else PtyMeterServer(simulator))
    with server:
        url = (f"tcp://127.0.0.1:{server.port}" if isinstance(server, TcpMeterServer)
               else f"serial://{server.device}")
        output({"url": url}, as_json, lambda r: f"meter simulator on {r['url']} (Ctrl-C stops)")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


def sample_slip(now: datetime) -> NoticeSlip:
    """A realistic meter-replacement slip for bench tests of a printer."""
    return NoticeSlip(
        title="换表通知单", utility_name="城市供水 · 测试打印",
        verification_url="https://waterops.example/verify/TEST-0001",
        seal_hash="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        issued_at=now, account_name="测试用户", address="济南市历下区泉城路1号",
        meter_numbers=["00000012345678"],
        readings=[SlipReading(meter="00000012345678", value_m3=Decimal("1234.56"),
                              label="抄表止度")],
        crew="抄表一班", position=SlipPosition(lon=117.005843, lat=36.650254),
        body=["这是一张测试单据。用于检查打印机的中文与二维码。"], hotline="96345")


@hardware.command("print-test", help="Print a sample notice slip (Chinese text and QR code).")
@click.option("--url", default="sim://", show_default=True, help="printer setting")
@json_option
def print_test(url: str, as_json: bool) -> None:
    slip = sample_slip(system_clock().astimezone(UTC))
    try:
        with open_printer(url, demo=_demo()) as printer:
            job = printer.print_slip(slip)
            preview = preview_job(printer.last_job)
    except HardwareError as exc:
        _fail(exc, as_json)
    result: dict[str, Any] = {"job": job, "preview": preview}
    output(result, as_json, lambda r: "\n".join(
        [*r["preview"].lines, f"-- {r['job'].size_bytes} bytes to {r['job'].device}, "
         f"sha256 {r['job'].sha256[:16]}…"]))


@hardware.command("pressure-watch",
                  help="Poll a pressure logger; print samples and burst alerts (pressure drops).")
@click.option("--url", default="sim://?burst_after_s=60", show_default=True,
              help="logger setting")
@click.option("--count", default=1, show_default=True, type=int, help="samples to take")
@click.option("--interval", "interval_s", default=10.0, show_default=True, type=float,
              help="seconds between samples")
@click.option("--min-drop", "min_drop_mpa", default=0.05, show_default=True, type=float,
              help="MPa below the window's highest pressure that raises an alert")
@click.option("--window", "window_s", default=300.0, show_default=True, type=float)
@json_option
def pressure_watch(url: str, count: int, interval_s: float, min_drop_mpa: float,
                   window_s: float, as_json: bool) -> None:
    # imported here: pymodbus is only needed by operators who poll pressure loggers
    from hardware_adapters.pressure import DropDetector, DropRule, open_pressure_logger

    detector = DropDetector(DropRule(min_drop_mpa=min_drop_mpa, window_s=window_s))
    pause = threading.Event()
    try:
        with open_pressure_logger(url, clock=system_clock, demo=_demo()) as logger:
            for i in range(count):
                if i:
                    pause.wait(interval_s)  # an operator's polling pace, not a test
                sample = logger.read()
                alert = detector.feed(sample)
                output({"sample": sample, "alert": alert}, as_json, lambda r: (
                    f"{r['sample'].measured_at.astimezone(LOCAL_TZ):%H:%M:%S} "
                    f"{r['sample'].logger_id} {r['sample'].pressure_mpa:.3f} MPa"
                    + (f"  BURST? drop {r['alert'].drop_mpa:.3f} MPa" if r["alert"] else "")))
                sys.stdout.flush()
    except HardwareError as exc:
        _fail(exc, as_json)
