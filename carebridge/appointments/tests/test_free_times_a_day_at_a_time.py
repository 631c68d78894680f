"""The slot list shows one day's free times at a time (issue 9, item 9): links to the days with free times
either side work as plain links, and htmx asks for just the list, which the same view answers.

The `schedule` fixture gives the GP free 15-minute slots 09:00-12:00 every weekday for two weeks (days 0
to 13 from the schedule's Monday) and stops the clock on that Monday at 07:00.
"""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from carebridge.core.actor import Actor
from carebridge.scheduling import services
from carebridge.scheduling.models import Appointment
from carebridge.testing.days import long_day
from carebridge.testing.schedule import schedule_day, slot_at

NINE, TEN = dt.time(9, 0), dt.time(10, 0)
BOOK = reverse("scheduling:book")
FRIDAY, SATURDAY, NEXT_MONDAY = schedule_day(4), schedule_day(5), schedule_day(7)
HTMX = {"HX-Request": "true"}


def _book_url(slot) -> str:
    return reverse("scheduling:book_confirm", args=[slot.public_id])


def _link(page: str, test_id: str) -> str:
    """The address of the link marked `test_id`, as a browser would follow it."""
    tag = page.split(f'data-testid="{test_id}"')[0].rsplit("<a ", 1)[1]
    return tag.split('href="')[1].split('"')[0].replace("&amp;", "&")


def _link_name(page: str, test_id: str) -> str:
    """What a screen reader says for the link marked `test_id` (its aria-label)."""
    tag = page.split(f'data-testid="{test_id}"')[1].split(">", 1)[0]
    return tag.split('aria-label="')[1].split('"')[0]


def _booked(world, slot) -> Appointment:
    return services.appointment_book(
        actor=Actor.command_line(world.reception),
        patient=world.alice,
        slot=slot,
        appointment_type="Routine Consultation",
        reason="Check-up",
    )


def test_the_links_name_the_days_either_side_and_skip_days_without_free_times(schedule, client_for):
    page = client_for(schedule.alice_user).get(BOOK, {"from_date": FRIDAY.isoformat()}).content.decode()

    assert f"Free times on {long_day(FRIDAY)}" in page
    # The weekend has no sessions: the next day with free times is Monday.
    assert _link_name(page, "next-day") == f"Next day: {long_day(NEXT_MONDAY, year=False)}"
    assert _link_name(page, "previous-day") == f"Previous day: {long_day(schedule_day(3), year=False)}"
    assert parse_qs(urlsplit(_link(page, "next-day")).query)["from_date"] == [NEXT_MONDAY.isoformat()]
    following = client_for(schedule.alice_user).get(_link(page, "next-day")).content.decode()
    assert f'data-testid="day-{NEXT_MONDAY}"' in following and f'data-testid="day-{FRIDAY}"' not in following


def test_a_day_without_free_times_shows_the_first_day_after_it_that_has_some(schedule, client_for):
    page = client_for(schedule.alice_user).get(BOOK, {"from_date": SATURDAY.isoformat()}).content.decode()

    assert f"Free times on {long_day(NEXT_MONDAY)}" in page
    assert f"There are no free times left on {long_day(SATURDAY)}" in page
    assert _link_name(page, "previous-day") == f"Previous day: {long_day(FRIDAY, year=False)}"


def test_taken_times_are_left_out_and_a_day_with_none_left_is_skipped(schedule, client_for):
    tuesday = schedule_day(1)
    for slot in schedule.gp.clinician.slots.filter(starts_at__date=tuesday):
        _booked(schedule, slot)

    page = client_for(schedule.alice_user).get(BOOK).content.decode()

    assert _link_name(page, "next-day") == f"Next day: {long_day(schedule_day(2), year=False)}"


def test_after_the_last_free_time_the_page_says_so_and_links_back(schedule, client_for):
    last_friday = schedule_day(11)  # the last weekday within the two weeks of slots
    page = client_for(schedule.alice_user).get(BOOK, {"from_date": schedule_day(14).isoformat()}).content.decode()

    assert "There are no free times from" in page and long_day(schedule_day(14)) in page
    assert 'data-testid="next-day"' not in page
    assert _link_name(page, "previous-day") == f"Previous day: {long_day(last_friday, year=False)}"


def test_every_link_keeps_the_chosen_clinician_and_type(schedule, client_for):
    chosen = {"clinician": str(schedule.gp.clinician.public_id), "appointment_type": "Follow-up"}
    page = client_for(schedule.alice_user).get(BOOK, {**chosen, "from_date": FRIDAY.isoformat()}).content.decode()

    for test_id in ("next-day", "previous-day"):
        kept = parse_qs(urlsplit(_link(page, test_id)).query)
        assert kept["clinician"] == [chosen["clinician"]] and kept["appointment_type"] == ["Follow-up"]
    confirm = next(part for part in page.split('"') if part.startswith(_book_url(slot_at(schedule, 4, NINE))))
    kept = parse_qs(urlsplit(confirm.replace("&amp;", "&")).query)
    assert kept == {
        "clinician": [chosen["clinician"]],
        "from_date": [FRIDAY.isoformat()],
        "appointment_type": ["Follow-up"],
    }


def test_htmx_gets_only_the_days_free_times_and_the_date_boxes(schedule, client_for):
    client = client_for(schedule.alice_user)
    whole = client.get(BOOK)
    response = client.get(BOOK, {"from_date": schedule_day(1).isoformat()}, headers=HTMX)

    part = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in part and "<h1" not in part and 'data-testid="slot-search"' not in part
    assert f'data-testid="day-{schedule_day(1)}"' in part
    # Focus moves to the new day's heading, so a screen reader says which day it is.
    assert f'tabindex="-1" autofocus>Free times on {long_day(schedule_day(1))}' in part
    # The search's date boxes, swapped out of band, show the day now listed.
    assert 'id="slot-search-date" hx-swap-oob="true"' in part
    assert f'name="from_date_day" value="{schedule_day(1).day}"' in part
    # The links carry htmx's instructions beside their plain addresses.
    assert f'hx-get="{_link(part, "next-day").replace("&", "&amp;")}"' in part
    # One address, two answers: a cache must not hand the part to someone who asked for the page.
    for answer in (whole, response):
        assert "HX-Request" in answer["Vary"]
    assert "autofocus" not in whole.content.decode().split('id="free-times"')[1]


def test_htmx_restoring_a_page_from_history_gets_the_whole_page(schedule, client_for):
    restore = {**HTMX, "HX-History-Restore-Request": "true"}
    page = client_for(schedule.alice_user).get(BOOK, headers=restore).content.decode()

    assert "<html" in page and 'data-testid="slot-search"' in page and 'hx-history="false"' in page


def test_htmx_asking_for_a_day_gone_by_gets_the_message_in_the_list(schedule, client_for):
    # A page left open overnight: its "Previous day" now names a day in the past.
    part = (
        client_for(schedule.alice_user)
        .get(BOOK, {"from_date": schedule_day(-1).isoformat()}, headers=HTMX)
        .content.decode()
    )

    assert "<html" not in part and "Choose today or a later date." in part


def test_moving_an_appointment_steps_through_the_days_too(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    move = reverse("scheduling:move", args=[appointment.public_id])
    client = client_for(schedule.alice_user)

    page = client.get(move).content.decode()
    tuesday = client.get(_link(page, "next-day"), headers=HTMX).content.decode()

    assert _link_name(page, "next-day") == f"Next day: {long_day(schedule_day(1), year=False)}"
    assert (
        reverse("scheduling:move_confirm", args=[appointment.public_id, slot_at(schedule, 1, TEN).public_id]) in tuesday
    )


def test_a_fragment_is_refused_like_the_page(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    move = reverse("scheduling:move", args=[appointment.public_id])

    assert client_for(schedule.bob_user).get(move, headers=HTMX).status_code == 404
    assert client_for(schedule.gp).get(BOOK, headers=HTMX).status_code == 404


def test_a_days_free_times_take_the_same_few_statements_however_many_there_are(
    schedule, client_for, django_assert_max_num_queries
):
    client = client_for(schedule.alice_user)
    client.get(BOOK)
    # The session, the login, its patient (for the role, then with the access check), the read's audit
    # row, the choices of clinician and of type, the day to show, its free times, the days either side,
    # and the menu's question: twelve, and none for each free time or clinician.
    with django_assert_max_num_queries(12):
        response = client.get(BOOK, {"from_date": FRIDAY.isoformat()})
    assert response.status_code == 200
