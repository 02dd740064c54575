"""The evidence steps each work-order type requires, from the service rules.

Evidence kinds: ``photo``, ``signature``, ``reading``, ``geometry``, ``check`` (a yes/no
the crew confirms), ``note``, ``document``. Field flows fill these in through sync
mutations; the list here is what a fresh order starts with.
"""

from __future__ import annotations

from typing import Final

from server.workorders.model import Step, WorkOrderType

_T = WorkOrderType

CATALOGUE: Final[dict[WorkOrderType, tuple[tuple[str, str, tuple[str, ...], bool], ...]]] = {
    _T.METER_REPLACEMENT: (
        ("post_notice", "Replacement notice posted (换表通知单)", ("photo",), True),
        ("fault_confirmed", "Meter fault confirmed on site", ("check", "photo"), True),
        ("verify_account",
         "Account name, address, meter location, diameter checked with the customer",
         ("check",), True),
        ("final_reading", "Old meter final reading (抄表止度)", ("reading", "photo"), True),
        ("customer_signature", "Customer signs the replacement notice", ("signature",), True),
        ("new_meter", "New meter number and initial reading", ("reading", "photo"), True),
        ("consent", "Customer consent (periodic replacement)", ("signature",), False),
    ),
    _T.METER_REMOVAL: (
        ("dispute_check", "No property dispute or court case", ("check",), True),
        ("illegal_use_check", "Checked for illegal use", ("check",), True),
        ("meter_well_photo", "Photo of the meter well", ("photo",), True),
        ("final_reading", "Final reading", ("reading", "photo"), True),
        ("removal_slip_signature", "Customer signs the removal slip", ("signature",), True),
        ("pipe_cut", "Inlet pipe cut (掐管)", ("photo",), True),
        ("locking_gate", "Locking gate valve fitted and closed", ("photo",), True),
    ),
    _T.LINE_MARKING: (
        ("contractor_request", "Contractor's request recorded", ("document",), True),
        ("contractor_contacted", "Contractor contacted", ("note",), True),
        ("marked_line", "Marked line captured from GNSS", ("geometry",), True),
        ("marks_photos", "Photos of the marks", ("photo",), True),
    ),
    _T.BURST_REPAIR: (
        ("arrival", "Crew on site", ("check",), True),
        ("barriers_photo", "Barriers and warning signs in place", ("photo",), True),
        ("survey", "Cause, leak diameter and other utilities surveyed", ("note",), True),
        ("valves_closed", "Valves closed as planned", ("check",), False),
        ("repair", "Repair done", ("photo",), True),
        ("flushing", "Flushed along the flow direction", ("check",), True),
        ("customer_confirmation", "Customers confirmed water quality and pressure",
         ("check",), True),
        ("cleanup_photo", "Site cleaned", ("photo",), True),
        ("resurfacing_request", "Road resurfacing requested", ("document",), False),
    ),
    _T.METER_READING_ROUTE: (
        ("readings", "Every meter on the route read", ("reading",), True),
    ),
    _T.COMPLAINT: (
        ("contact", "Customer contacted", ("note",), True),
        ("resolution", "Resolution recorded", ("note",), True),
    ),
    # JN 5.2 joint survey and design sketch, the JN 5.2.5 construction list, meter
    # fitting (挂表) and water on (开栓通水); see server.connections.stages
    _T.NEW_CONNECTION: (
        ("survey_photos", "Survey: photos of the site (联合查勘)", ("photo",), True),
        ("survey_point", "Survey: GNSS position of the proposed connection point",
         ("geometry",), True),
        ("survey_notes", "Survey: notes and the connection scheme (接水方案)", ("note",), True),
        ("design_sketch", "Design sketch (设计草图)", ("document",), True),
        ("opening", "Road opening and closing (开合口)", ("check",), True),
        ("trench", "Trench excavation (沟槽开挖)", ("check",), True),
        ("bedding", "Bedding laid (垫层铺设)", ("check",), True),
        ("pipe_laying", "Pipe laid (管道安装)", ("check",), True),
        ("backfill", "Backfill (回填)", ("check",), True),
        ("meter_well", "Meter well built (井室砌筑)", ("check",), True),
        ("meter_installation", "Meter installed (水表安装)", ("check",), True),
        ("completion_acceptance", "Completion acceptance (竣工验收)", ("check",), True),
        ("water_quality_test", "Water-quality test (水质检测)", ("check",), True),
        ("meter_fitting", "Meter fitted on the account: number and initial reading (挂表)",
         ("reading",), True),
        ("water_on", "Water on (开栓通水)", ("check",), True),
    ),
}


def initial_steps(wo_type: WorkOrderType) -> list[Step]:
    return [
        Step(key=key, title=title, requires=list(kinds), required=required)
        for key, title, kinds, required in CATALOGUE[wo_type]
    ]
