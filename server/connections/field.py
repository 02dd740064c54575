"""A connection's field work: the survey, construction, meter and water-on steps, the
stages they reach, and the tie-in the network suggests.

The field stages are never set by hand: ``refresh`` derives them from the work order's
steps whenever evidence arrives (sync push, upload, HTTP, CLI), so a crew working offline
moves the connection on when its tablet syncs. It meets each reached stage's clock at the
time it was reached, starts the next, puts the fitted meter on the account and queues
the water-on SMS, in the transaction that filed the evidence.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Final

from core import rows
from geo.errors import NetworkEmptyError
from geo.tiein import NoMainNearError, nearest_main
from server.accounts.model import Principal
from server.connections import stages
from server.connections.errors import ConnectionInputError
from server.connections.model import Connection, MeterIn, PhotoStepIn, Stage, StepIn, TieIn
from server.connections.notices import Event, queue_sms, text
from server.connections.store import Row, encode_tie_in, encode_times
from server.fieldwork.completion import step_satisfied
from server.fieldwork.service import EvidenceIn, Item, PhotoIn, StepEvidenceIn
from server.timefmt import from_db
from server.workorders.evidence import Evidence
from server.workorders.model import Deadline

if TYPE_CHECKING:
    from server.connections.service import ConnectionService

ENTITY: Final = "connection"
#: how far from the proposed point the survey looks for a main
TIE_IN_SEARCH_M: Final = 500.0


def parse_point(value: str) -> tuple[float, float]:
    """``"lon,lat"`` in WGS84 degrees, as a tablet's GNSS gives the surveyed point."""
    try:
        lon_s, lat_s = value.split(",")
        lon, lat = float(lon_s), float(lat_s)
    except ValueError as exc:
        raise ConnectionInputError("a surveyed point is 'lon,lat' in WGS84 degrees",
                                   field="ref") from exc
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ConnectionInputError("a surveyed point is 'lon,lat' in WGS84 degrees",
                                   field="ref")
    return lon, lat


def times_of(row: Row) -> dict[str, datetime]:
    """When the connection reached each stage so far."""
    return {k: from_db(v) for k, v in json.loads(str(row["stage_times"])).items()}


class FieldProgress:
    """The field half of ``ConnectionService`` (it shares the service's stores)."""

    def __init__(self, service: ConnectionService) -> None:
        self.s = service

    def _field_order(self, connection_id: str) -> str:
        row = self.s._row(connection_id)
        self.s._at(row, {Stage.ACCEPTED, Stage.SURVEYED, Stage.DESIGNED, Stage.CONSTRUCTED,
                       Stage.METER_FITTED}, "record field work on")
        return str(row["work_order_id"])

    def record_step(self, principal: Principal, connection_id: str, data: StepIn
                    ) -> Connection:
        """A survey or construction step; the crew's scope is checked by the order."""
        wo_id = self._field_order(connection_id)
        point = None
        if data.step_key == "survey_point":
            point = parse_point(data.ref)
        with self.s.db.atomic():
            self.s.fieldwork.service.record_step(principal, StepEvidenceIn(
                work_order_id=wo_id, step_key=data.step_key, device_time=data.device_time,
                evidence=[EvidenceIn(kind=data.kind, ref=data.ref)]))
            if point is not None:
                self.surveyed_point(wo_id, point)
            self.refresh(wo_id)
        return self.s.get(principal, connection_id)

    def attach_photo(self, principal: Principal, connection_id: str, data: PhotoStepIn
                     ) -> Connection:
        wo_id = self._field_order(connection_id)
        with self.s.db.atomic():
            self.s.fieldwork.service.attach_photo(principal, PhotoIn(
                work_order_id=wo_id, step_key=data.step_key, sha256=data.sha256,
                device_time=data.device_time, lon=data.lon, lat=data.lat))
            self.refresh(wo_id)
        return self.s.get(principal, connection_id)

    def fit_meter(self, principal: Principal, connection_id: str, data: MeterIn) -> Connection:
        """The meter fitted: filed on its step, then put on the account by ``refresh``."""
        wo_id = self._field_order(connection_id)
        if not data.meter_no.strip():
            raise ConnectionInputError("a fitted meter has a number", field="meter_no")
        with self.s.db.atomic():
            self.s.fieldwork.service.add_evidence(
                principal, wo_id, "meter_fitting",
                [Item(kind="reading", ref=data.meter_no.strip())], data.device_time)
            self.refresh(wo_id)
        return self.s.get(principal, connection_id)

    # -- the field stages, from the work order's steps --------------------------------------
    def refresh(self, wo_id: str) -> Stage | None:
        """Move the connection on to the stages its work order's steps have reached.

        Call inside the transaction that filed the evidence. Meets each reached stage's
        clock at the time it was reached, starts the next, puts the fitted meter on the
        account and queues the water-on SMS. Returns the new stage (None: not a connection).
        """
        row = self.s.store.row_of_work_order(wo_id)
        if row is None or row["accepted_at"] is None:
            return None
        stage = Stage(str(row["stage"]))
        if stage in (Stage.CANCELLED, Stage.VISITED, Stage.WATER_ON):
            return stage
        wo = self.s.workorders.store.get(wo_id)
        if wo is None:
            return None
        now = self.s.clock()
        evidence = self.s.fieldwork.service.evidence_of(wo_id)
        done = {s.key: s.done_at or (now if step_satisfied(s, evidence) else None)
                for s in wo.steps}
        ptype = str(row["project_type"])
        external = self.s.policy.types[ptype].external_works
        reached = stages.reached(done, from_db(str(row["accepted_at"])), external)
        times = times_of(row)
        fresh = [(s, at) for s, at in reached.items() if str(s) not in times]
        if not fresh:
            return stage
        total = next((d for d in wo.deadlines if d.rule == stages.TOTAL), None)
        total_due = None if total is None else total.due_at
        for reached_stage, at in fresh:
            times[str(reached_stage)] = at
            met = [stages.rule_key(stages.CLOCK_OF[reached_stage])]
            new: list[Deadline] = []
            following = stages.NEXT_CLOCK.get(reached_stage)
            if following is not None and (total_due is not None or self.s.policy.stage_limit(
                    ptype, following) is not None):
                new.append(stages.stage_deadline(self.s.policy, ptype, following, at, total_due,
                                                 self.s.calendar))
            if reached_stage is Stage.METER_FITTED:
                visit = self.s.policy.stage_limit(ptype, "return_visit")
                if visit is not None:
                    new.append(stages.stage_deadline(self.s.policy, ptype, "return_visit", at,
                                                     None, self.s.calendar))
                self._fit_meter(row, evidence, at)
            if reached_stage is Stage.WATER_ON:
                met.append(stages.TOTAL)
                title, body = text(Event.WATER_ON, str(row["number"]), hotline=self.s.hotline)
                queue_sms(self.s.outbox, Event.WATER_ON, str(row["id"]), str(row["number"]),
                          str(row["phone"]), title, body, now)
            self.s.workorders.store.meet_deadlines(wo_id, met, at)
            self.s.workorders.store.add_deadlines(wo_id, new)
        stage = fresh[-1][0]
        self.stage_field(wo_id, stage, now)
        self.s.store.update(str(row["id"]), {"stage": str(stage), "stage_times": encode_times(
            times)}, now)
        self.s.audit.record(ENTITY, str(row["id"]), f"stage:{stage}", actor_user_id=None,
                          device_id=None, server_time=now, device_time=None,
                          detail={"reached": [str(s) for s, _ in fresh]})
        self.s._publish(wo_id)
        return stage

    def stage_field(self, wo_id: str, stage: Stage, now: datetime) -> None:
        """The stage as the order's field ``connection_stage``: the crew's tablet shows
        where the connection stands, offline too (call inside the write)."""
        wo = self.s.workorders.store.get(wo_id)
        if wo is not None and wo.fields.get("connection_stage") != str(stage):
            self.s.workorders.store.update_fields(
                wo_id, {**wo.fields, "connection_stage": str(stage)}, wo.steps, now,
                wo.version)

    def surveyed_point(self, wo_id: str, point: tuple[float, float]) -> TieIn | None:
        """The crew's GNSS position of the connection point: the tie-in is looked up again
        from there (the application's address point was only an estimate)."""
        row = self.s.store.row_of_work_order(wo_id)
        if row is None or row["accepted_at"] is None:
            return None
        now = self.s.clock()
        pt = self.s.policy.types[str(row["project_type"])]
        tie = self.tie_in({**row, "lon": point[0], "lat": point[1]}, pt.min_main_dn_mm)
        self.s.store.update(str(row["id"]), {"tie_in": encode_tie_in(tie)}, now)
        self.tie_in_fields(wo_id, tie, now)
        return tie

    def _fit_meter(self, row: Row, evidence: list[Evidence], at: datetime) -> None:
        """The fitted meter goes on the new account, as a sealed replacement notice does."""
        meter_no: object = None
        for ev in evidence:
            if ev.step_key == "meter_fitting" and ev.kind == "reading":
                meter_no = ev.payload.get("meter_no") or ev.payload.get("ref") or meter_no
        if not meter_no:
            return
        customer_id = str(row["customer_id"])
        self.s.customers.set_meter(customer_id, str(meter_no),
                                   rows.opt_integer(row, "service_dn_mm"), at)
        self.s.store.update(str(row["id"]), {"meter_no": str(meter_no)}, at)
        # set_meter touches the customer: the unit of work tells its crews' tablets

    def tie_in(self, row: Row, min_dn_mm: int) -> TieIn | None:
        """The nearest main of sufficient diameter, or None without a network near."""
        if self.s.network is None:
            return None
        wanted = max(min_dn_mm, rows.opt_integer(row, "service_dn_mm") or 0)
        try:
            index = self.s.network.index()
            found = nearest_main(index, rows.number(row, "lon"), rows.number(row, "lat"),
                                 wanted, TIE_IN_SEARCH_M)
        except (NetworkEmptyError, NoMainNearError):
            return None
        pipe = self.s.network.store.read("pipe", [found.pipe_id]).get(found.pipe_id, {})
        return TieIn(pipe_id=found.pipe_id, distance_m=found.distance_m,
                     diameter_mm=found.diameter_mm, material=str(pipe.get("material", "")),
                     street=str(pipe.get("street", "")), point=found.point,
                     valves=found.valves_to_close, customers_affected=found.customers_affected,
                     network_version=found.network_version)

    def tie_in_fields(self, wo_id: str, tie: TieIn | None, now: datetime) -> None:
        """The tie-in as the order's fields: the crew's tablet shows it offline."""
        if tie is None:
            return
        wo = self.s.workorders.store.get(wo_id)
        assert wo is not None  # noqa: S101 - the connection's order exists
        fields = {**wo.fields, "tie_in_pipe_id": tie.pipe_id,
                  "tie_in_distance_m": tie.distance_m, "tie_in_diameter_mm": tie.diameter_mm,
                  "tie_in_material": tie.material, "tie_in_street": tie.street,
                  "tie_in_lon": tie.point[0], "tie_in_lat": tie.point[1],
                  "tie_in_valves": ",".join(tie.valves)}
        self.s.workorders.store.update_fields(wo_id, fields, wo.steps, now, wo.version)

