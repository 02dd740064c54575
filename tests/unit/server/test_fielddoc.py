"""Field descriptions are read from the Structs' source: ``#:`` comments and docstrings."""

from __future__ import annotations

from enum import StrEnum

import msgspec
import pytest

from server.fielddoc import FieldDocs, class_description

pytestmark = pytest.mark.unit


class Base(msgspec.Struct, kw_only=True):
    """A base with one described field."""

    #: when it happened (UTC)
    at: str = ""


class Reading(Base, kw_only=True, rename={"value": "m3"}):
    """A meter reading.

    Second paragraph.
    """

    #: the register's value, in cubic metres;
    #: never negative
    value: float
    meter_no: str  #: the meter's number as printed on it
    note: str = ""
    # a plain comment is no description
    flagged: bool = False


class Colour(StrEnum):
    #: the first colour
    RED = "red"
    BLUE = "blue"


def test_comments_above_and_at_the_end_of_a_line_describe_a_field() -> None:
    docs = FieldDocs()
    assert docs.fields(Reading) == {
        "value": "the register's value, in cubic metres; never negative",
        "meter_no": "the meter's number as printed on it",
        "at": "when it happened (UTC)",  # inherited: read in the class that declares it
    }


def test_fields_without_a_comment_have_no_description() -> None:
    texts = FieldDocs().fields(Reading)
    assert "note" not in texts
    assert "flagged" not in texts


def test_enum_members_and_docstrings() -> None:
    assert FieldDocs().members(Colour) == {"RED": "the first colour"}
    assert class_description(Reading) == "A meter reading.\n\nSecond paragraph."
    assert class_description(Colour) is None
