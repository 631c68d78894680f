"""No dead end when a time is taken while a patient books it: the search keeps its date, and the
reason they typed is there again at the next time they choose (kept in the session, never the address)."""

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from carebridge.core.actor import Actor
from carebridge.scheduling import services
from carebridge.scheduling.models import Appointment
from carebridge.testing.days import date_boxes
from carebridge.testing.schedule import schedule_day, slot_at

NINE, TEN = dt.time(9, 0), dt.time(10, 0)
REASON = "Rash on both arms since Friday"


def _confirm_url(slot) -> str:
    return reverse("scheduling:book_confirm", args=[slot.public_id])


def test_after_a_time_is_taken_the_search_keeps_its_date_and_the_next_time_keeps_the_reason(schedule, client_for):
    client = client_for(schedule.alice_user)
    wednesday = schedule_day(2)
    # Alice searches from Wednesday, typing the date into the three boxes, and picks 09:00.
    search_page = client.get(reverse("scheduling:book"), date_boxes("from_date", wednesday)).content.decode()
    first, second = slot_at(schedule, 2, NINE), slot_at(schedule, 2, TEN)
    assert _confirm_url(first) in search_page
    link = next(part for part in search_page.split('"') if part.startswith(_confirm_url(first)))
    search = urlsplit(link.replace("&amp;", "&")).query
    assert parse_qs(search)["from_date"] == [wednesday.isoformat()]  # onward links carry the day as one value
    client.get(link)
    # Someone else books 09:00 first.
    services.appointment_book(
        actor=Actor.command_line(schedule.reception),
        patient=schedule.carol,
        slot=first,
        appointment_type="Routine Consultation",
        reason="Check-up",
    )

    taken = client.post(_confirm_url(first), {"appointment_type": "Follow-up", "reason": REASON, "search": search})

    page = taken.content.decode()
    assert taken.status_code == 409
    assert "That time has just been taken" in page
    # The search is the one she made: Wednesday's times, Wednesday in the date boxes.
    assert f'data-testid="day-{wednesday.isoformat()}"' in page
    assert f'data-testid="day-{schedule_day(0).isoformat()}"' not in page
    assert f'name="from_date_day" value="{wednesday.day}"' in page
    assert REASON not in urlsplit(link).query and REASON.replace(" ", "+") not in page  # not in any address

    confirm = client.get(f"{_confirm_url(second)}?{search}").content.decode()

    assert REASON in confirm  # the reason is in its box again
    assert re.search(r'<input[^>]*value="Follow-up"[^>]*checked', confirm)  # and the type she chose
    booked = client.post(_confirm_url(second), {"appointment_type": "Follow-up", "reason": REASON, "search": search})
    assert booked.status_code == 302
    assert Appointment.objects.get(slot=second).reason_for_visit == REASON
    # Once booked, the kept reason is gone: the next booking starts empty.
    assert REASON not in client.get(_confirm_url(slot_at(schedule, 3, NINE))).content.decode()


def test_a_reason_kept_for_one_patient_is_not_offered_when_booking_for_another(schedule, client_for):
    client = client_for(schedule.reception)
    first = slot_at(schedule, 1, NINE)
    services.appointment_book(
        actor=Actor.command_line(schedule.reception),
        patient=schedule.carol,
        slot=first,
        appointment_type="Routine Consultation",
        reason="Check-up",
    )
    taken = client.post(
        reverse("scheduling:book_for_confirm", args=[schedule.alice.public_id, first.public_id]),
        {"appointment_type": "Follow-up", "reason": REASON, "search": ""},
    )
    assert taken.status_code == 409

    for_bob = client.get(
        reverse("scheduling:book_for_confirm", args=[schedule.bob.public_id, slot_at(schedule, 1, TEN).public_id])
    )
    for_alice = client.get(
        reverse("scheduling:book_for_confirm", args=[schedule.alice.public_id, slot_at(schedule, 1, TEN).public_id])
    )

    assert REASON not in for_bob.content.decode()
    assert REASON in for_alice.content.decode()
