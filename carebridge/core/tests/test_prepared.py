"""A PreparedQuery answers exactly what its queryset answers, on SQLite and PostgreSQL, and refuses a query
it cannot prepare faithfully. (It reads Django's compiler internals: an upgrade of Django must pass these.)"""

import datetime as dt
import uuid

import pytest

from carebridge.core.prepared import PreparedQuery
from carebridge.scheduling.models import Slot
from carebridge.testing.schedule import schedule_time


def _slots(facility_id, after, appointment_type, clinician):
    return (
        Slot.objects.select_related("clinician", "facility")
        .filter(
            facility_id=facility_id,
            starts_at__gt=after,
            appointment_types__icontains=f'"{appointment_type}"',
            clinician__public_id=clinician,
        )
        .order_by("starts_at")[:7]
    )


PREPARED = PreparedQuery(_slots, facility_id=int, after=dt.datetime, appointment_type=str, clinician=uuid.UUID)


def _seen(slots):
    return [
        (slot.pk, slot.starts_at, slot.appointment_types, slot.clinician.display_name, slot.facility.name)
        for slot in slots
    ]


@pytest.mark.parametrize("appointment_type", ["Follow-up", "Routine Consultation", "Nothing_like%this"])
def test_it_answers_what_the_queryset_answers_with_every_kind_of_value(schedule, appointment_type):
    values = {
        "facility_id": schedule.surgery.pk,
        "after": schedule_time(1, dt.time(10, 0)),
        "appointment_type": appointment_type,
        "clinician": schedule.gp.clinician.public_id,
    }
    expected = list(_slots(**values))
    found = PREPARED.all(**values)
    assert _seen(found) == _seen(expected)
    if appointment_type != "Nothing_like%this":  # LIKE's wildcards in a value are escaped, as Django does
        assert len(found) == 7
    else:
        assert found == []
    # Its related objects came with it: reading them asks the database nothing more.
    assert found == [] or found[0].clinician.workplace_id == schedule.surgery.pk


def test_one_or_none(schedule):
    prepared = PreparedQuery(lambda public_id: Slot.objects.filter(public_id=public_id), public_id=uuid.UUID)
    slot = Slot.objects.first()
    assert prepared.one_or_none(public_id=slot.public_id) == slot
    assert prepared.one_or_none(public_id=uuid.uuid4()) is None
    every = PreparedQuery(lambda facility_id: Slot.objects.filter(facility_id=facility_id), facility_id=int)
    with pytest.raises(Slot.MultipleObjectsReturned):
        every.one_or_none(facility_id=schedule.surgery.pk)


def test_a_value_that_does_not_reach_the_sql_unchanged_is_refused(schedule):
    # The year of a date is computed from the value: the value itself never reaches the SQL.
    ignored = PreparedQuery(lambda facility_id: Slot.objects.filter(facility_id=1), facility_id=int)
    with pytest.raises(ValueError, match="facility_id did not reach the SQL"):
        ignored.all(facility_id=schedule.surgery.pk)
    with pytest.raises(TypeError):
        PreparedQuery(lambda day: Slot.objects.filter(starts_at__date=day), day=dt.date)


def _slot_values(facility_id, after, clinician):
    return (
        Slot.objects.filter(facility_id=facility_id, starts_at__gt=after, clinician__public_id=clinician)
        .order_by("starts_at")
        .values("public_id", "starts_at", "appointment_types", "clinician__last_name", "facility__name")[:5]
    )


def test_a_values_query_gives_the_rows_the_queryset_gives(schedule):
    # Converted as the queryset converts them: UUIDs, aware datetimes and JSON lists on SQLite too.
    prepared = PreparedQuery(_slot_values, facility_id=int, after=dt.datetime, clinician=uuid.UUID)
    values = {
        "facility_id": schedule.surgery.pk,
        "after": schedule_time(1, dt.time(10, 0)),
        "clinician": schedule.gp.clinician.public_id,
    }
    expected = list(_slot_values(**values))
    found = prepared.rows(**values)
    assert found == expected and len(found) == 5
    assert isinstance(found[0]["public_id"], uuid.UUID) and found[0]["starts_at"].tzinfo is not None
    assert isinstance(found[0]["appointment_types"], list) and found[0]["clinician__last_name"] == "Patel"
    # Instances and rows are different answers: asking a query for the other one is a mistake, said so.
    with pytest.raises(TypeError, match="rows"):
        prepared.all(**values)
    with pytest.raises(TypeError, match="values"):
        PREPARED.rows(**values, appointment_type="Follow-up")
