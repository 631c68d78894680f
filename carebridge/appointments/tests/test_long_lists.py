"""Long lists stay quick: the appointments to close come a page at a time, and how many wait is counted
only so far (a practice that brought years of history may have thousands without an outcome)."""

import datetime as dt

from django.urls import reverse

from carebridge.appointments import views
from carebridge.core import clock
from carebridge.scheduling.tests.test_outcomes_and_leave import book
from carebridge.testing.schedule import schedule_time

TIMES = [dt.time(9, 0), dt.time(9, 30), dt.time(10, 0), dt.time(10, 30), dt.time(11, 0)]


def _five_unclosed_yesterday(schedule):
    booked = [book(schedule, 0, time) for time in TIMES]
    clock.freeze(schedule_time(1, dt.time(8, 0)))
    return booked


def test_the_close_list_shows_a_page_of_the_most_recent_and_counts_only_so_far(schedule, client_for, monkeypatch):
    booked = _five_unclosed_yesterday(schedule)
    monkeypatch.setattr(views, "TO_CLOSE_PAGE", 2)
    monkeypatch.setattr(views, "TO_CLOSE_COUNTED", 3)

    page = client_for(schedule.reception).get(reverse("scheduling:to_close")).content.decode()

    assert "Showing the 2 most recent of more than 3." in page
    shown = [appointment for appointment in booked if f"row-{appointment.public_id}" in page]
    assert shown == booked[-2:]


def test_the_close_list_gives_the_number_when_it_is_small(schedule, client_for, monkeypatch):
    _five_unclosed_yesterday(schedule)
    monkeypatch.setattr(views, "TO_CLOSE_PAGE", 2)

    page = client_for(schedule.reception).get(reverse("scheduling:to_close")).content.decode()

    assert "Showing the 2 most recent of 5." in page


def test_the_day_lists_notice_counts_only_so_far(schedule, client_for, monkeypatch):
    _five_unclosed_yesterday(schedule)
    monkeypatch.setattr(views, "TO_CLOSE_COUNTED", 3)

    page = client_for(schedule.reception).get(reverse("scheduling:day")).content.decode()

    assert "More than 3 appointments on earlier days have no outcome recorded" in page
