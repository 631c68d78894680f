"""The small parsers under the FHIR API: date search values, references, JSON Patch and merge patch."""

import datetime as dt
import uuid

import pytest

from carebridge.core import clock
from carebridge.fhir.outcomes import FhirError
from carebridge.fhir.patch import PatchError, json_patch, merge_patch
from carebridge.fhir.search import date_filter, reference_id, token

ID = uuid.UUID("67eba3e2-473e-457f-9e1c-5ef958b75db1")


def _bounds(q) -> dict:
    """The lookups of a simple AND filter, as {lookup: value}."""
    return dict(q.children)


def test_a_day_is_the_uk_calendar_day():
    bounds = _bounds(date_filter("starts_at", "2026-07-01", parameter="start"))
    assert bounds["starts_at__gte"] == clock.london_datetime(dt.date(2026, 7, 1), dt.time.min)
    assert bounds["starts_at__lt"] == clock.london_datetime(dt.date(2026, 7, 2), dt.time.min)
    # 23:00 UTC on 30 June is already 1 July in London (BST).
    assert bounds["starts_at__gte"] == dt.datetime(2026, 6, 30, 23, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "value, lookup, expected",
    [
        ("ge2026-11", "starts_at__gte", clock.london_datetime(dt.date(2026, 11, 1), dt.time.min)),
        ("gt2026-11", "starts_at__gte", clock.london_datetime(dt.date(2026, 12, 1), dt.time.min)),
        ("lt2026", "starts_at__lt", clock.london_datetime(dt.date(2026, 1, 1), dt.time.min)),
        ("le2026-12", "starts_at__lt", clock.london_datetime(dt.date(2027, 1, 1), dt.time.min)),
        ("ge2026-11-30T09:00:00Z", "starts_at__gte", dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)),
        # An unencoded "+" arrives as a space.
        ("ge2026-07-01T09:00:00 01:00", "starts_at__gte", dt.datetime(2026, 7, 1, 8, tzinfo=dt.UTC)),
        # No zone: the UK wall clock.
        ("ge2026-07-01T09:00:00", "starts_at__gte", dt.datetime(2026, 7, 1, 8, tzinfo=dt.UTC)),
    ],
)
def test_prefixes_and_precisions(value, lookup, expected):
    assert _bounds(date_filter("starts_at", value, parameter="start")) == {lookup: expected}


def test_dates_against_a_date_field():
    assert _bounds(date_filter("date_of_birth", "1980", parameter="birthdate", date_only=True)) == {
        "date_of_birth__gte": dt.date(1980, 1, 1),
        "date_of_birth__lt": dt.date(1981, 1, 1),
    }


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "ap2026-01-01", "2026-1-1", ""])
def test_unreadable_dates_are_400(value):
    with pytest.raises(FhirError) as error:
        date_filter("starts_at", value, parameter="start")
    assert error.value.status == 400


def test_references_and_tokens():
    assert reference_id(f"Patient/{ID}", "Patient") == ID
    assert reference_id(str(ID), "Patient") == ID
    assert reference_id(f"https://example.org/fhir/Patient/{ID}", "Patient") == ID
    assert reference_id(f"Practitioner/{ID}", "Patient") is None
    assert reference_id("Patient/123", "Patient") is None
    assert token("https://fhir.nhs.uk/Id/nhs-number|9434765919") == ("https://fhir.nhs.uk/Id/nhs-number", "9434765919")
    assert token("|N123456") == ("", "N123456")
    assert token("9434765919") == (None, "9434765919")


def test_json_patch_operations():
    document = {"status": "booked", "slot": [{"reference": "Slot/a"}], "participant": [{"x": 1}]}
    patched = json_patch(
        document,
        [
            {"op": "test", "path": "/status", "value": "booked"},
            {"op": "replace", "path": "/status", "value": "cancelled"},
            {"op": "add", "path": "/cancelationReason", "value": {"text": "Ill"}},
            {"op": "replace", "path": "/slot/0/reference", "value": "Slot/b"},
            {"op": "add", "path": "/participant/-", "value": {"x": 2}},
            {"op": "copy", "from": "/participant/0", "path": "/participant/0"},
            {"op": "move", "from": "/cancelationReason", "path": "/reason"},
            {"op": "remove", "path": "/participant/1"},
        ],
    )
    assert patched == {
        "status": "cancelled",
        "slot": [{"reference": "Slot/b"}],
        "participant": [{"x": 1}, {"x": 2}],
        "reason": {"text": "Ill"},
    }
    assert document["status"] == "booked"  # the original is untouched


@pytest.mark.parametrize(
    "operations, words",
    [
        ({"op": "replace"}, "array of operations"),
        ([{"op": "replace", "path": "/nothing", "value": 1}], "does not exist"),
        ([{"op": "replace", "path": "status", "value": 1}], "JSON Pointer"),
        ([{"op": "test", "path": "/status", "value": "cancelled"}], "test"),
        ([{"op": "add", "path": "/slot/5", "value": {}}], "past the end"),
        ([{"op": "jump", "path": "/status"}], "not a JSON Patch operation"),
        ([{"op": "add", "path": "/status"}], "needs a value"),
    ],
)
def test_json_patch_refuses_what_cannot_apply(operations, words):
    with pytest.raises(PatchError, match=words):
        json_patch({"status": "booked", "slot": [{"reference": "Slot/a"}]}, operations)


def test_merge_patch():
    current = {"status": "booked", "reasonCode": [{"text": "Rash"}], "meta": {"lastUpdated": "x", "tag": 1}}
    assert merge_patch(current, {"status": "cancelled", "reasonCode": None, "meta": {"tag": None}}) == {
        "status": "cancelled",
        "meta": {"lastUpdated": "x"},
    }
