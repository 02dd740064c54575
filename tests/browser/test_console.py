"""The dispatch console in headless Chromium: dispatcher, crew member and supervisor.

Each test signs in through the page, drives it like a person would and asserts what the
page shows; each saves a screenshot in its own tmp_path and checks that the page asked
nothing of any host but 127.0.0.1.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import pytest

from server.fieldwork.notices import MeterRemovalSlip
from sync.protocol import SignNotice
from tests.browser.conftest import (
    WAIT_MS,
    Console,
    click_middle,
    playwright_api,
    shot,
    sign_in_with_token,
)
from tests.integration.fieldwork.kit import STROKES, Tablet, strokes_sha

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
expect = playwright_api.expect
expect.set_options(timeout=WAIT_MS)


def _report_position(console: Console, token: str, lon: float, lat: float,
                     age: timedelta) -> None:
    """A crew tablet pushes a buffered GNSS fix through sync (the real endpoint)."""
    taken = (console.clock() - age).isoformat()
    r = httpx.post(f"{console.base}/api/v1/sync/push",
                   headers={"Authorization": f"Bearer {token}"},
                   json={"protocol": 1, "mutations": [], "device_time": console.clock().isoformat(),
                         "positions": [{"taken_at": taken, "lon": lon, "lat": lat,
                                        "accuracy_m": 4.5}]})
    assert r.status_code == 200, r.text


def test_dispatcher_goes_from_a_burst_to_a_delivered_notice(console: Console, page: Page,
                                                             tmp_path: Path) -> None:
    _report_position(console, "wo_demo_crew_a", 117.0005, 36.6501, timedelta(seconds=10))
    _report_position(console, "wo_demo_crew_b", 116.9950, 36.6470, timedelta(minutes=5))
    sign_in_with_token(page, console.base, "wo_demo_dispatcher")
    expect(page.get_by_test_id("who")).to_contain_text("王调度")
    # the map shows the network, colour-coded pipes and valves
    expect(page.locator("path.pipe").nth(20)).to_be_attached()
    assert page.locator("path.pipe").count() > 20
    assert page.locator("path.valve").count() > 10
    # crews: live position for crew A, last-seen for crew B
    page.click("#tabs [data-tab=crews]")
    expect(page.locator("[data-testid=crews] tr[data-crew=crew-a]")).to_contain_text("在线")
    expect(page.locator("[data-testid=crews] tr[data-crew=crew-b]")).to_contain_text("5 min")
    expect(page.locator(".crew-icon:not(.stale)")).to_have_count(1)
    expect(page.locator(".crew-icon.stale")).to_have_count(1)
    # find the burst (filter the list and the map by type), compute the isolation
    page.click("#tabs [data-tab=orders]")
    all_markers = page.locator(".order-icon").count()
    page.get_by_test_id("order-filters").locator("select[name=type]").select_option(
        "burst_repair")
    expect(page.locator("[data-testid=orders] tbody tr")).to_have_count(1)
    expect(page.locator(".order-icon")).to_have_count(1)
    assert all_markers > 10
    page.locator("[data-testid=orders] tr[data-type=burst_repair]").first.click()
    expect(page.get_by_test_id("order-detail")).to_contain_text("爆管")
    page.get_by_test_id("isolate").click()
    valves = page.locator("[data-testid=valves-to-close] li")
    expect(valves.first).to_be_visible()
    first_valve = valves.first.get_attribute("data-valve")
    expect(page.locator(".valve-no")).to_have_count(valves.count())
    expect(page.get_by_test_id("isolation")).to_contain_text("四至")
    before = int(page.get_by_test_id("customer-count").inner_text())
    assert before > 0
    # the first valve is seized: plan B
    page.click(f"[data-inoperable='{first_valve}']")
    expect(page.get_by_test_id("plan-b")).to_contain_text(str(first_valve))
    expect(page.get_by_test_id("extra-valves")).not_to_have_text("—")
    after = int(page.get_by_test_id("customer-count").inner_text())
    assert after >= before
    # create the outage (emergency for a burst: no lead time), announce, watch delivery
    page.get_by_test_id("create-outage").click()
    expect(page.get_by_test_id("lead")).to_contain_text("满足提前通知要求")
    recipients = page.get_by_test_id("recipients")
    expect(recipients).to_have_text(str(after))
    page.get_by_test_id("announce").click()
    expect(page.get_by_test_id("outage-state")).to_have_text("started")
    expect(page.locator("[data-count=reached]")).to_have_text(str(after))
    expect(page.locator("[data-count=queued]")).to_have_text("0")
    expect(page.locator("[data-count=failed]")).to_have_text("0")
    reached_at_gateway = {str(b.get("phone") or b.get("touser"))
                          for b in console.gateway.bodies()}
    assert len(reached_at_gateway) == after
    # the printable posting notice opens as a PDF
    href = page.get_by_test_id("posting-pdf").get_attribute("href")
    assert href is not None
    pdf = page.request.get(console.base + href)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    page.get_by_test_id("delivery").scroll_into_view_if_needed()
    shot(page, tmp_path, "dispatcher-delivered")
    # the English switch redraws the open panel, its counts included
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("isolation")).to_contain_text("Valves to close")
    expect(page.get_by_test_id("isolation")).to_contain_text("Plan B")
    expect(page.get_by_test_id("delivery")).to_contain_text("Delivered")
    expect(page.locator("[data-count=reached]")).to_have_text(str(after))
    expect(page.get_by_test_id("lead")).to_contain_text("Lead time met")
    assert console.outside == []


def test_crew_member_sees_only_their_crew(console: Console, page: Page,
                                          tmp_path: Path) -> None:
    sign_in_with_token(page, console.base, "wo_demo_crew_b")
    expect(page.get_by_test_id("scope-note")).to_contain_text("crew-b")
    rows = page.locator("[data-testid=orders] tbody tr")
    expect(rows.first).to_be_visible()
    crews = {rows.nth(i).locator("[data-crew]").get_attribute("data-crew")
             for i in range(rows.count())}
    assert crews == {"crew-b"}
    assert rows.count() == len(_crew_orders(console, "crew-b"))
    # office-only parts are absent: no outages or crews tab, no crew positions on the map
    expect(page.locator("#tabs [data-tab=outages]")).to_be_hidden()
    expect(page.locator("#tabs [data-tab=crews]")).to_be_hidden()
    expect(page.locator(".crew-icon")).to_have_count(0)
    shot(page, tmp_path, "crew-b")
    assert console.outside == []


def _api(console: Console, method: str, path: str, token: str,
         json: object | None = None) -> Any:
    r = httpx.request(method, f"{console.base}/api/v1{path}", json=json,
                      headers={"Authorization": f"Bearer {token}"})
    assert r.status_code < 300, r.text
    return r.json()


def _crew_orders(console: Console, crew_id: str) -> list[str]:
    r = httpx.get(f"{console.base}/api/v1/workorders?limit=500&crew_id={crew_id}",
                  headers={"Authorization": "Bearer wo_demo_dispatcher"})
    return [o["id"] for o in r.json()["items"] if o["status"] not in ("verified", "cancelled")]


def test_supervisor_reads_the_charts_and_exports_overdue(console: Console, page: Page,
                                                         tmp_path: Path) -> None:
    console.services.sessions.set_password("sup-li", "correct horse battery")
    for i in range(2):  # two complaints crew A contacts at once: on time
        wo = _api(console, "post", "/workorders", "wo_demo_dispatcher", json={
            "type": "complaint", "location": {"type": "Point", "coordinates": [117.0, 36.65]},
            "title": f"水压低 {i}", "crew_id": "crew-a"})
        _api(console, "post", f"/workorders/{wo['id']}/transitions", "wo_demo_crew_a",
             json={"to": "contacted"})
    console.clock.advance(hours=3)  # the other complaints' 20-minute contact is overdue
    views = _api(console, "get", "/console/timeliness", "wo_demo_supervisor")
    crew_a = next(c for c in views["crews"] if c["key"] == "crew-a")
    assert 0 < crew_a["rate"] < 1
    page.goto(console.base + "/console/")
    page.fill("#user", "sup-li")
    page.fill("#password", "wrong password!")
    page.click("#signin button[type=submit]")
    expect(page.locator("#signin-error")).to_contain_text("登录失败")
    page.fill("#password", "correct horse battery")
    page.click("#signin button[type=submit]")
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    for chart in ("chart-rules", "chart-crews", "chart-units", "chart-months"):
        expect(page.locator(f"[data-testid={chart}] canvas")).to_have_count(1)
    expect(page.get_by_test_id("chart-crews").locator("tr", has_text="抢修一班")).to_contain_text(
        f"{crew_a['rate'] * 100:.1f}%")
    expect(page.get_by_test_id("chart-units")).to_contain_text("管网所")
    expect(page.get_by_test_id("chart-rules")).to_contain_text("Complaint")
    overdue = page.locator("[data-testid=overdue] tbody tr")
    expect(overdue.first).to_contain_text("李主管")
    expect(overdue.first).to_contain_text("2026-11-23")
    csv = page.request.get(console.base + "/api/v1/console/overdue.csv")
    assert csv.body().startswith("\ufeff工单号".encode())
    assert csv.body().count(b"\n") == overdue.count() + 1
    # the English switch
    page.get_by_test_id("lang").click()
    expect(page.locator("#tabs [data-tab=stats]")).to_have_text("Statistics")
    expect(page.get_by_test_id("chart-crews")).to_contain_text("By crew")
    shot(page, tmp_path, "supervisor-charts")
    assert console.outside == []


def test_api_docs_work_offline(console: Console, page: Page, tmp_path: Path) -> None:
    loaded: list[tuple[str, int]] = []
    failed: list[str] = []
    page.on("response", lambda r: loaded.append((r.url, r.status)))
    # the browser fetches the favicon on its own and cancels it when the page navigates
    # (net::ERR_ABORTED, seen in CI despite waiting for the network to settle): a cancel
    # by the browser is no asset failing offline; every other failure counts
    page.on("requestfailed", lambda r: None if (
        r.url.endswith("/favicon.svg") and r.failure == "net::ERR_ABORTED")
        else failed.append(r.url))
    for path in ("/schema/swagger", "/schema"):
        page.goto(console.base + path)
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("waterops")
        expect(page.locator(".opblock-tag").first).to_be_visible()
        # the browser fetches the favicon on its own time: let it finish before the next
        # navigation, which would abort it (a "failed" request that is no offline fault)
        page.wait_for_load_state("networkidle")
    # a deep link opens one operation (far down the virtualised list): its response schema
    # is the wire Struct, fields included
    page.goto(console.base + "/schema/swagger#/console/config")
    opened = page.locator(".opblock.is-open")
    expect(opened).to_contain_text("/api/v1/console/config")
    opened.locator("button", has_text="Schema").first.click()
    expect(opened.locator(".responses-wrapper")).to_contain_text("MapConfig")
    expect(opened.locator(".responses-wrapper")).to_contain_text("at_risk_share")
    shot(page, tmp_path, "schema")
    page.wait_for_load_state("networkidle")
    assets = {url.removeprefix(console.base) for url, _ in loaded}
    assert {"/console/vendor/swagger-ui/swagger-ui-bundle.js",
            "/console/vendor/swagger-ui/swagger-ui.css",
            "/console/vendor/swagger-ui/swagger-ui-standalone-preset.js"} <= assets
    assert [(u, s) for u, s in loaded if s >= 400] == []
    assert failed == []
    assert console.outside == []


def test_dispatcher_creates_a_burst_from_a_pipe_and_reassigns_it(console: Console, page: Page,
                                                                  tmp_path: Path) -> None:
    _report_position(console, "wo_demo_crew_b", 116.9950, 36.6470, timedelta(seconds=5))
    sign_in_with_token(page, console.base, "wo_demo_dispatcher")
    # a DN600 pipe of the main: click on its line on the map
    click_middle(page, "path.pipe-P-R2-3")
    page.get_by_test_id("popup-new-order").click()
    detail = page.get_by_test_id("order-detail")
    expect(detail).to_contain_text("DN600")
    expect(page.get_by_test_id("order-crew")).to_have_text("—")
    expect(detail).to_contain_text("爆管抢修")
    order_id = detail.get_attribute("data-order")
    created = _api(console, "get", f"/workorders/{order_id}", "wo_demo_dispatcher")
    assert created["pipe_diameter_mm"] == 600
    assert created["type"] == "burst_repair"
    # assign to crew B: the choice shows each crew's load and how fresh its position is
    choice = page.get_by_test_id("assign-crew")
    expect(choice.locator("option[value=crew-b]")).to_contain_text("在办")
    expect(choice.locator("option[value=crew-b]")).to_contain_text("5 s")
    choice.select_option("crew-b")
    page.get_by_test_id("assign").click()
    expect(page.get_by_test_id("order-crew")).to_have_text("抢修二班")
    assert _api(console, "get", f"/workorders/{order_id}", "wo_demo_dispatcher")["crew_id"] == \
        "crew-b"
    # and reassign to crew A
    page.get_by_test_id("assign-crew").select_option("crew-a")
    page.get_by_test_id("assign").click()
    expect(page.get_by_test_id("order-crew")).to_have_text("抢修一班")
    assert _api(console, "get", f"/workorders/{order_id}", "wo_demo_dispatcher")["crew_id"] == \
        "crew-a"
    shot(page, tmp_path, "dispatcher-new-burst")
    assert console.outside == []


@pytest.mark.parametrize("console", ["gcj02"], indirect=True)
def test_a_gcj02_basemap_moves_the_overlays_not_the_data(console: Console, page: Page,
                                                         tmp_path: Path) -> None:
    sign_in_with_token(page, console.base, "wo_demo_dispatcher")
    expect(page.locator("#map[data-datum=gcj02]")).to_have_count(1)
    expect(page.locator("img.leaflet-tile-loaded").first).to_be_visible()
    assert console.tiles
    assert all(p.startswith("/tiles/") for p in console.tiles)
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("本地测试底图")
    # a click on the drawn DN600 main (drawn shifted to GCJ-02) is stored in WGS84,
    # on the main's true latitude (36.6505), not ~300 m off
    click_middle(page, "path.pipe-P-R2-3")
    page.get_by_test_id("popup-new-order").click()
    detail = page.get_by_test_id("order-detail")
    expect(detail).to_contain_text("DN600")
    order = _api(console, "get", f"/workorders/{detail.get_attribute('data-order')}",
                 "wo_demo_dispatcher")
    lon, lat = order["location"]["coordinates"]
    assert abs(lat - 36.6505) < 0.00005  # within ~5 m (a pixel or two at this zoom)
    assert 117.002 < lon < 117.006
    shot(page, tmp_path, "gcj02-basemap")
    assert console.outside == []


def test_supervisor_overrides_a_short_lead_time_with_a_reason(console: Console, page: Page,
                                                              tmp_path: Path) -> None:
    sign_in_with_token(page, console.base, "wo_demo_supervisor")
    page.click("#tabs [data-tab=orders]")
    click_middle(page, "path.pipe-P-C3-1")
    page.get_by_test_id("popup-isolate").click()
    expect(page.get_by_test_id("valves-to-close").locator("li").first).to_be_visible()
    form = page.get_by_test_id("outage-form")
    form.locator("select[name=kind]").select_option("planned")
    form.locator("input[name=cause]").fill("阀门更换")
    page.get_by_test_id("create-outage").click()
    # it starts in 10 minutes: a planned outage needs 24 h notice (JN 10.3.1)
    expect(page.get_by_test_id("lead")).to_contain_text("提前时间不足")
    page.get_by_test_id("announce").click()
    expect(page.get_by_test_id("outage")).to_contain_text("需主管填写理由后发布")
    expect(page.get_by_test_id("outage-state")).to_have_text("draft")
    page.get_by_test_id("override-reason").fill("爆管后抢修阀门，无法提前24小时通知")
    page.get_by_test_id("announce").click()
    expect(page.get_by_test_id("outage-state")).to_have_text("announced")
    outage_id = page.get_by_test_id("outage").get_attribute("data-outage")
    stored = _api(console, "get", f"/outages/{outage_id}", "wo_demo_supervisor")
    assert stored["override_reason"] == "爆管后抢修阀门，无法提前24小时通知"
    assert stored["override_by"] == "sup-li"
    assert stored["customer_count"] > 0
    expect(page.locator("[data-count=reached]")).to_have_text(str(stored["customer_count"]))
    page.get_by_test_id("delivery").scroll_into_view_if_needed()
    shot(page, tmp_path, "supervisor-override")
    assert console.outside == []


def test_dispatcher_sees_steps_photos_and_verifies_a_sealed_notice(console: Console,
                                                                   page: Page,
                                                                   tmp_path: Path) -> None:
    c = console.services.customers.store.get("cust-00003")
    assert c is not None
    assert c.lon is not None
    assert c.lat is not None
    wo = _api(console, "post", "/workorders", "wo_demo_dispatcher", json={
        "type": "meter_removal", "customer_id": c.id, "title": "撤表 " + c.address,
        "crew_id": "crew-a", "location": {"type": "Point", "coordinates": [c.lon, c.lat]}})
    wo_id = str(wo["id"])
    # crew A's tablet does the removal over the real HTTP API (sync client)
    with httpx.Client(base_url=console.base) as http:
        tablet = Tablet(http, "wo_demo_crew_a", console.clock, tmp_path / "tablet.db")  # type: ignore[arg-type]
        tablet.sync()
        tablet.move(wo_id, "en_route", "on_site", "in_progress")
        tablet.check(wo_id, "dispute_check")
        for step in ("meter_well_photo", "final_reading", "pipe_cut", "locking_gate"):
            tablet.photo(wo_id, step, c.lon, c.lat)
        slip = MeterRemovalSlip(account_no=c.account_no, account_name=c.name,
                                address=c.address, meter_no=c.meter_no or "",
                                diameter_mm=c.meter_diameter_mm or 15, final_reading=88.0,
                                crew_id="crew-a", performed_at=console.clock(),
                                position=(c.lon, c.lat))
        tablet.record(SignNotice(work_order_id=wo_id, evidence_id=str(uuid.uuid4()),
                                 notice="meter_removal_slip", signer_name=STROKES.signer_name,
                                 signature_sha256=strokes_sha(),
                                 document=msgspec.to_builtins(slip), strokes=STROKES.strokes,
                                 canvas=(STROKES.width, STROKES.height)))
        tablet.sync()
    sign_in_with_token(page, console.base, "wo_demo_dispatcher")
    page.locator(f"[data-testid=orders] tr[data-order='{wo_id}']").click()
    detail = page.get_by_test_id("order-detail")
    expect(detail.locator(".steps li", has_text="✔").first).to_be_visible()
    photos = page.get_by_test_id("evidence").locator("img.thumb")
    expect(photos).to_have_count(5)  # the four step photos and the customer's signature
    for step in ("meter_well_photo", "final_reading", "pipe_cut", "locking_gate"):
        expect(photos.and_(page.locator(f"img[alt^={step}]"))).to_have_count(1)
    expect(page.locator("img.thumb").first).to_have_js_property("complete", True)
    assert page.locator("img.thumb").first.evaluate("i => i.naturalWidth") > 0
    notice_row = detail.locator(".notices .actions").first
    expect(notice_row).to_contain_text("meter_removal_slip")
    notice_row.get_by_role("button").click()
    expect(notice_row.locator(".verdict")).to_have_text("✔")
    pdf_href = notice_row.locator("a").get_attribute("href")
    assert pdf_href is not None
    pdf = page.request.get(console.base + pdf_href)
    assert pdf.body().startswith(b"%PDF")
    shot(page, tmp_path, "dispatcher-sealed-notice")
    assert console.outside == []


def test_a_city_sized_network_is_loaded_by_view_never_past_the_bound(console: Console,
                                                                     page: Page,
                                                                     tmp_path: Path) -> None:
    from server.console.views import MAP_PIPES_MAX
    from tests.factories import grid_network
    grid = grid_network(75, 40)  # 5885 pipes: more than one answer may carry
    assert len(grid.pipes) > MAP_PIPES_MAX
    console.services.network.store.replace_layers(
        grid, {"nodes", "pipes", "valves", "hydrants", "sources", "service_connections"},
        console.clock(), 32650)
    answers: list[tuple[str, int, bool]] = []

    def record(response: Response) -> None:
        url = response.url
        if "/api/v1/console/network" in url:
            body = response.json()
            answers.append((url, len(body["pipes"]["features"]), body["truncated"]))

    page.on("response", record)
    sign_in_with_token(page, console.base, "wo_demo_dispatcher")
    # the whole city: the largest pipes, cut at the bound, drawn on a canvas
    expect(page.locator("#map[data-truncated=true]")).to_have_count(1)
    expect(page.locator("#map")).to_have_attribute("data-pipes", str(MAP_PIPES_MAX))
    expect(page.locator(".leaflet-overlay-pane canvas").first).to_be_attached()
    # zoomed in, the map asks for its view only, and that view is complete
    settled = page.locator("#map:not(.leaflet-zoom-anim):not([data-loading=true])")
    for _ in range(6):  # bounded: a few zoom steps bring the view under the bound
        expect(settled).to_have_count(1)
        if page.locator("#map[data-truncated=false]").count():
            break
        page.locator(".leaflet-control-zoom-in").click()
        expect(settled).to_have_count(1)
    expect(page.locator("#map[data-truncated=false]")).to_have_count(1)
    in_view = [a for a in answers if "bbox=" in a[0]]
    assert in_view
    assert all(n <= MAP_PIPES_MAX for _u, n, _t in answers)
    assert in_view[-1][1] < len(grid.pipes)
    assert in_view[-1][2] is False
    shot(page, tmp_path, "city-network-by-view")
    assert console.outside == []


def test_supervisor_sees_new_connection_statistics_with_a_csv(console: Console, page: Page,
                                                              tmp_path: Path) -> None:
    from tests.integration.connections.kit import (
        API,
        CREW,
        OFFICE,
        apply_and_accept,
        construct_over_http,
        ok,
        survey_over_http,
    )
    with httpx.Client(base_url=console.base) as http:
        # one single-meter connection from acceptance to water on within an hour (limit:
        # days), one general-works connection only accepted: its survey is still open
        c = apply_and_accept(http, "single_meter")  # type: ignore[arg-type]
        apply_and_accept(http, "general_works")  # type: ignore[arg-type]
        survey_over_http(http, console.clock, c["id"])  # type: ignore[arg-type]
        ok(http.post(f"{API}/{c['id']}/design", json={"sha256": "ef" * 32}, headers=OFFICE))
        construct_over_http(http, c["id"], external=False)  # type: ignore[arg-type]
        ok(http.post(f"{API}/{c['id']}/meter", json={"meter_no": "M-BROWSER"}, headers=CREW))
        console.clock.advance(hours=1)
        ok(http.post(f"{API}/{c['id']}/steps", json={"step_key": "water_on"}, headers=CREW))
    sign_in_with_token(page, console.base, "wo_demo_supervisor")
    section = page.get_by_test_id("connections-stats")
    for chart in ("chart-conn-stages", "chart-conn-types", "chart-conn-units"):
        expect(section.locator(f"[data-testid={chart}] canvas")).to_have_count(1)
    # both acceptances were on time; the single-meter service met its whole-service clock
    expect(section.get_by_test_id("chart-conn-stages").locator("tr", has_text="acceptance")
           ).to_contain_text("100.0%")
    expect(section.get_by_test_id("chart-conn-types").locator("tr", has_text="single_meter")
           ).to_contain_text("100.0%")
    expect(section.get_by_test_id("chart-conn-units")).to_contain_text("管网所")
    kf = section.locator("[data-testid=conn-totals] tr[data-type=single_meter]")
    expect(kf).to_contain_text("1 (100.0%)")
    assert section.locator("[data-testid=conn-totals] tr[data-type=general_works]").count() == 0
    href = section.get_by_test_id("export-connections-csv").get_attribute("href")
    assert href is not None
    csv = page.request.get(console.base + href)
    assert csv.body().startswith("\ufeffstage,".encode())
    assert b"\nsingle_meter,1," in csv.body()
    page.get_by_test_id("lang").click()
    expect(section.get_by_test_id("chart-conn-stages")).to_contain_text("By stage")
    section.scroll_into_view_if_needed()
    shot(page, tmp_path, "supervisor-connections")
    assert console.outside == []
