"""One push request is one transaction, each mutation in a savepoint (issue 19).

A rejected mutation is undone alone and the others of the same request stay applied; a
failure of the store itself rolls the whole request back (nothing of it is kept, the
ledger did not advance), so the client's retry applies every mutation exactly once.
The store failure is a real one: a trigger in the test's own database refuses a note.
"""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.services import Services
from server.workorders.model import Actor
from tests.factories import TOKENS, bearer, order_in

pytestmark = pytest.mark.integration

DISPATCH = Actor(user_id="disp-wang", role="dispatcher")
T = "2026-11-23T01:00:00Z"


def _note(mid: int, wo_id: str, text: str) -> dict[str, object]:
    return {"id": mid, "device_time": T, "intent": {
        "kind": "add_note", "work_order_id": wo_id, "evidence_id": f"ev-tx-{mid}", "text": text}}


def _texts(services: Services, wo_id: str) -> list[str]:
    rows = services.db.execute(
        "SELECT id FROM evidence WHERE work_order_id = ? AND kind = 'note' AND review_id IS NULL "
        "ORDER BY id", [wo_id]).fetchall()
    return [str(r[0]) for r in rows]


def _refuse_notes_saying(services: Services, word: str) -> None:
    """A trigger that fails the insert of a note whose payload contains ``word``."""
    if getattr(services.db, "dialect_name", "sqlite") == "postgresql":
        services.db.executescript(
            "CREATE FUNCTION refuse_note() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.payload LIKE '%{word}%' THEN RAISE EXCEPTION 'disk on fire'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql; "
            "CREATE TRIGGER refuse_note BEFORE INSERT ON evidence "
            "FOR EACH ROW EXECUTE FUNCTION refuse_note();")
    else:
        services.db.executescript(
            "CREATE TRIGGER refuse_note BEFORE INSERT ON evidence "
            f"WHEN NEW.payload LIKE '%{word}%' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;")


def _allow_notes(services: Services) -> None:
    if getattr(services.db, "dialect_name", "sqlite") == "postgresql":
        services.db.executescript("DROP TRIGGER refuse_note ON evidence; "
                                  "DROP FUNCTION refuse_note();")
    else:
        services.db.executescript("DROP TRIGGER refuse_note;")


def test_a_rejected_mutation_leaves_the_others_of_its_push_applied(
        client: TestClient[Litestar], services: Services) -> None:
    mine = services.workorders.create(DISPATCH, order_in(crew_id="crew-a"))
    body = {"mutations": [
        _note(1, mine.id, "first"),
        {"id": 2, "device_time": T, "intent": {
            "kind": "advance_status", "work_order_id": mine.id, "to": "verified"}},
        _note(3, mine.id, "third"),
    ]}
    r = client.post("/api/v1/sync/push", json=body, headers=bearer(TOKENS["crew_a"]))
    assert r.status_code == 200
    answer = r.json()
    assert answer["last_applied_id"] == 3
    assert [x["outcome"] for x in answer["results"]] == ["applied", "rejected", "applied"]
    assert answer["results"][1]["reason_code"] == "illegal-transition"
    assert _texts(services, mine.id) == ["ev-tx-1", "ev-tx-3"]
    status = services.db.execute("SELECT status FROM work_orders WHERE id = ?",
                                 [mine.id]).fetchone()[0]
    assert status != "verified"


def test_a_store_failure_rolls_the_whole_push_back_and_the_retry_applies_it_once(
        client: TestClient[Litestar], services: Services) -> None:
    wo = services.workorders.create(DISPATCH, order_in(crew_id="crew-a"))
    body = {"mutations": [_note(1, wo.id, "fine"), _note(2, wo.id, "boom"),
                          _note(3, wo.id, "also fine")]}
    _refuse_notes_saying(services, "boom")
    failed = client.post("/api/v1/sync/push", json=body, headers=bearer(TOKENS["crew_a"]))
    assert failed.status_code >= 500
    assert _texts(services, wo.id) == []  # the first note went with the rest
    ledger = services.db.execute("SELECT COUNT(*) FROM sync_mutations").fetchone()[0]
    assert ledger == 0
    _allow_notes(services)
    retried = client.post("/api/v1/sync/push", json=body, headers=bearer(TOKENS["crew_a"]))
    assert retried.status_code == 200
    assert [x["duplicate"] for x in retried.json()["results"]] == [False, False, False]
    again = client.post("/api/v1/sync/push", json=body, headers=bearer(TOKENS["crew_a"]))
    assert [x["duplicate"] for x in again.json()["results"]] == [True, True, True]
    assert _texts(services, wo.id) == ["ev-tx-1", "ev-tx-2", "ev-tx-3"]
