"""Sealing: canonical hashing, Ed25519 signatures, field-level change detection."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.fieldwork.sealing import (
    GENESIS_HASH,
    Manifest,
    UtilityKey,
    canonical,
    compare_attachments,
    compare_fields,
    field_digests,
    manifest_hash,
    seal,
    signature_valid,
)

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
FIELDS: dict[str, object] = {"account_name": "王伟", "final_reading": 123.4, "new_meter_no": "M1",
                             "position": [117.0, 36.65]}


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> UtilityKey:
    return UtilityKey.load_or_create(tmp_path_factory.mktemp("k") / "keys" / "seal.pem")


def test_canonical_form_ignores_key_order() -> None:
    assert canonical({"b": 1, "a": {"y": 2, "x": 3}}) == b'{"a":{"x":3,"y":2},"b":1}'


def test_key_file_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "seal.pem"
    first = UtilityKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = UtilityKey.load_or_create(path)
    assert again.key_id == first.key_id
    assert "BEGIN PUBLIC KEY" in first.public_pem()


def test_seal_is_signed_and_links_to_the_previous_hash(key: UtilityKey) -> None:
    s = seal(key, document_id="d1", kind="k", work_order_id="w", fields=FIELDS,
             attachments={"signature_png": "a" * 64}, sealed_at=AT, prev_hash=GENESIS_HASH)
    assert s.manifest.prev_hash == GENESIS_HASH
    assert manifest_hash(s.manifest) == s.content_hash
    assert signature_valid(key.public_raw, s.content_hash, s.signature)
    assert not signature_valid(key.public_raw, "0" * 64, s.signature)


def test_signature_by_another_key_is_refused(key: UtilityKey, tmp_path: Path) -> None:
    other = UtilityKey.load_or_create(tmp_path / "other.pem")
    s = seal(other, document_id="d1", kind="k", work_order_id="w", fields=FIELDS,
             attachments={}, sealed_at=AT, prev_hash=GENESIS_HASH)
    assert not signature_valid(key.public_raw, s.content_hash, s.signature)


def test_unchanged_fields_and_attachments_report_nothing(key: UtilityKey) -> None:
    s = seal(key, document_id="d", kind="k", work_order_id="w", fields=FIELDS,
             attachments={"photo:0": "b" * 64}, sealed_at=AT, prev_hash=GENESIS_HASH)
    assert compare_fields(s.manifest, dict(FIELDS)) == []
    assert compare_attachments(s.manifest, {"photo:0": "b" * 64}) == []
    missing = compare_attachments(s.manifest, {"photo:0": None})
    assert [(c.name, c.change) for c in missing] == [("photo:0", "missing")]


values = st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=8), st.booleans(),
                   st.none())


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(FIELDS)), value=values)
def test_any_change_of_one_field_is_reported_for_exactly_that_field(name: str,
                                                                    value: object) -> None:
    manifest = Manifest(document_id="d", kind="k", work_order_id="w", sealed_at=AT,
                        prev_hash=GENESIS_HASH, key_id="x", fields=field_digests(FIELDS),
                        attachments={})
    changed = {**FIELDS, name: value}
    report = compare_fields(manifest, changed)
    if canonical(value) == canonical(FIELDS[name]):
        assert report == []
    else:
        assert [(c.name, c.change) for c in report] == [(name, "modified")]
        assert report[0].current == value


def test_added_and_removed_fields_are_named(key: UtilityKey) -> None:
    s = seal(key, document_id="d", kind="k", work_order_id="w", fields=FIELDS, attachments={},
             sealed_at=AT, prev_hash=GENESIS_HASH)
    tampered = {k: v for k, v in FIELDS.items() if k != "new_meter_no"} | {"note": "x"}
    report = {(c.name, c.change) for c in compare_fields(s.manifest, tampered)}
    assert report == {("new_meter_no", "removed"), ("note", "added")}
