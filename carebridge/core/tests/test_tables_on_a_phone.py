"""Every table staff (and patients) read stays readable on a 375 px phone (issue 9, item 5).

The tables are the NHS.UK responsive table: on a narrow screen the header row is hidden and each row
becomes a block in which every cell is led by its column's heading (a span hidden from screen readers,
which have the column header already). Nothing on the page may then be wider than the phone, not even
inside a scrolling container. The data is made long on purpose: long double-barrelled names, a long
facility name, an IPv6 address, a long FHIR address and long error messages, as real ones are.

Each page is checked at 375 px and again at 1280 px, where the tables are ordinary tables again.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from carebridge.access.models import BreakGlassAccess
from carebridge.access.services import break_glass_open
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.services import audit_record
from carebridge.core.actor import Actor
from carebridge.delivery.models import OutboundEmail, OutboundFhir
from carebridge.organisations.models import Clinician, Facility, StaffMember
from carebridge.organisations.services import facility_endpoint_set
from carebridge.patients.models import Patient
from carebridge.referrals import services as referrals
from carebridge.scheduling import services as scheduling
from carebridge.scheduling.models import Appointment, AppointmentStatus
from carebridge.testing.schedule import schedule_time, slot_at
from carebridge.testing.world import World

pytestmark = pytest.mark.browser

PHONE, DESKTOP = 375, 1280
LONG_REASON = "Follow-up of persistent lower back pain radiating to the left leg, worse at night, after physiotherapy"
IPV6 = "2001:0db8:85a3:0000:0000:8a2e:0370:7334"
FHIR_BASE = "https://fhir.heartlands-and-solihull-university-hospitals.nhs.example/api/fhir/r4"
SMTP_ERROR = (
    "451 4.2.0 <referrals.cardiology.heartlands-and-solihull@nhs.example>: mailbox temporarily unavailable, "
    "try again later (greylisted)"
)


def _imported(world: World, day: int, time: dt.time) -> Appointment:
    """An appointment a practice brought with it: no slot, as the coursework import makes them."""
    return Appointment.objects.create(
        source_id=f"A-{day}-{time:%H%M}",
        patient=world.alice,
        clinician=world.gp.clinician,
        facility=world.surgery,
        starts_at=schedule_time(day, time),
        duration_minutes=20,
        appointment_type="Routine Consultation",
        reason_for_visit=LONG_REASON,
        status=AppointmentStatus.BOOKED,
        created_at=world.alice.created_at,
        updated_at=world.alice.created_at,
    )


@pytest.fixture
def crowded(schedule) -> World:
    """The schedule's world with long names and something in every table."""
    world = schedule
    Patient.objects.filter(pk=world.alice.pk).update(
        first_name="Wilhelmina-Josephine", last_name="Featherstonehaugh-Cholmondeley"
    )
    Clinician.objects.filter(pk=world.gp.clinician.pk).update(
        first_name="Bartholomew", last_name="Montgomery-Fairweather"
    )
    Facility.objects.filter(pk=world.surgery.pk).update(name="Oak Tree Surgery and Riverside Family Health Centre")
    StaffMember.objects.filter(user=world.reception).update(
        first_name="Marguerite-Anastasia", last_name="Vandenberghe-Oyelaran"
    )
    world.reception.username = "marguerite.vandenberghe-oyelaran"
    world.reception.save(update_fields=["username"])
    for model in (world.alice, world.gp.clinician, world.surgery):
        model.refresh_from_db()

    reception, manager = Actor.command_line(world.reception), Actor.command_line(world.manager)
    # Today: a booked appointment with a long reason, one checked in, one the practice brought with it.
    scheduling.appointment_book(
        actor=reception,
        patient=world.alice,
        slot=slot_at(world, 0, dt.time(9, 0)),
        appointment_type="Routine Consultation",
        reason=LONG_REASON,
    )
    scheduling.appointment_check_in(actor=reception, appointment=_imported(world, 0, dt.time(10, 30)))
    # Thursday: the GP is on leave over an imported appointment, which is to be rebooked.
    _imported(world, 3, dt.time(10, 30))
    scheduling.exception_add(
        actor=manager,
        facility=world.surgery,
        clinician=world.gp.clinician,
        reason="Annual leave (long-planned family visit abroad)",
        starts_at=schedule_time(3, dt.time.min),
        ends_at=schedule_time(4, dt.time.min),
    )
    # Last Friday: one appointment with no outcome, one reception closed this morning.
    _imported(world, -3, dt.time(10, 30))
    scheduling.appointment_record_attended(actor=reception, appointment=_imported(world, -3, dt.time(11, 0)))

    # The hospital has its own system; a referral's messages to it are failing.
    facility_endpoint_set(
        actor=Actor.command_line(world.admin), facility=world.hospital, fhir_base=FHIR_BASE, token="cb-token-1"
    )
    made = referrals.referral_make(
        actor=Actor.command_line(world.gp),
        patient=world.alice,
        receiving_facility=world.hospital,
        speciality="Cardiology",
        priority="urgent",
        reason=LONG_REASON,
    )
    OutboundEmail.objects.filter(idempotency_key__startswith=f"referral:{made.public_id}:").update(
        attempts=3, last_error=SMTP_ERROR
    )
    OutboundFhir.objects.update(attempts=2, last_error=f"Connection refused by {FHIR_BASE}/ServiceRequest")

    # An emergency access, with what was read during it, from an IPv6 address.
    break_glass_open(
        actor=Actor(user=world.other_gp, channel="web", ip_address=IPV6),
        nhs_number_text=world.alice.nhs_number,
        reason="Seen in the out-of-hours clinic with chest pain; needed medication history and allergies",
    )
    audit_record(
        actor=Actor(user=world.other_gp, channel="web", ip_address=IPV6),
        action=AuditAction.VIEW,
        object_type=AuditObject.CONSULTATION,
        patient_id=world.alice.pk,
        reason="Emergency access: chest pain in the out-of-hours clinic, medication history needed",
    )
    world.referral_made = made  # type: ignore[attr-defined]
    return world


@dataclass(frozen=True)
class Page:
    name: str
    user: str  # the World attribute of who reads it
    url: Callable[[World], str]
    tables: tuple[str, ...]  # data-testid of each table on it; "sessions" finds every clinician's sessions


def _first_grant(world: World) -> int:
    return BreakGlassAccess.objects.get(patient=world.alice).pk


PAGES = [
    Page("day list", "reception", lambda w: reverse("scheduling:day"), ("day-list", "rebooking")),
    Page("my day", "gp", lambda w: reverse("scheduling:my_day"), ("my-day",)),
    Page("schedules", "manager", lambda w: reverse("scheduling:schedules"), ("sessions", "exceptions", "rebooking")),
    Page("to close", "reception", lambda w: reverse("scheduling:to_close"), ("to-close", "closed-today")),
    Page("staff", "manager", lambda w: reverse("organisations:staff"), ("staff",)),
    Page("audit trail", "privacy", lambda w: reverse("privacy:audit"), ("audit-events",)),
    Page(
        "emergency access",
        "privacy",
        lambda w: reverse("privacy:break_glass_detail", args=[_first_grant(w)]),
        ("break-glass-events",),
    ),
    Page("connected systems", "admin", lambda w: reverse("referrals:systems"), ("systems",)),
    Page("undelivered messages", "admin", lambda w: reverse("referrals:deliveries"), ()),
    Page(
        "a referral's deliveries",
        "gp",
        lambda w: reverse("referrals:referral", args=[w.referral_made.public_id]),  # type: ignore[attr-defined]
        ("deliveries",),
    ),
    Page("referral worklist", "specialist", lambda w: reverse("referrals:worklist"), ("worklist",)),
    Page(
        "patient search",
        "reception",
        lambda w: f"{reverse('records:search')}?nhs_number={w.alice.nhs_number}",
        ("search-results",),
    ),
    Page(
        "patient record",
        "gp",
        lambda w: reverse("records:record", args=[w.alice.public_id]),
        ("appointments", "prescriptions"),
    ),
    Page("the patient's own appointments", "alice_user", lambda w: reverse("scheduling:mine"), ("past",)),
]

# What the browser reads of each table: the problems with its markup, as sentences, and, as the person
# sees it, whether the header row and each cell's own heading are shown.
_READ_TABLES = """
(testids) => testids.map((testid) => {
  const tables = [...document.querySelectorAll(`table[data-testid^="${testid}"]`)];
  const problems = [];
  if (!tables.length) problems.push(`no table ${testid}`);
  let headingsShown = 0, headingsHidden = 0, headerRowShown = false, rows = 0;
  for (const table of tables) {
    const name = table.dataset.testid;
    if (!table.classList.contains("nhsuk-table-responsive")) problems.push(`${name}: not nhsuk-table-responsive`);
    if (table.getAttribute("role") !== "table") problems.push(`${name}: no role=table`);
    const headers = [...table.querySelectorAll("thead th")];
    if (!headers.length || headers.some((th) => th.getAttribute("role") !== "columnheader"))
      problems.push(`${name}: headers without role=columnheader`);
    const head = table.querySelector("thead");
    if (head && head.getBoundingClientRect().height > 1) headerRowShown = true;
    for (const row of table.querySelectorAll("tbody tr")) {
      const cells = [...row.children];
      if (cells.length === 1 && cells[0].colSpan > 1) continue;  // "None", across the whole table
      rows += 1;
      if (row.getAttribute("role") !== "row") problems.push(`${name}: a row without role=row`);
      cells.forEach((cell, index) => {
        if (cell.getAttribute("role") !== "cell") problems.push(`${name}: a cell without role=cell`);
        const header = headers[index];
        // A column whose header is for screen readers only (the actions): its links say what they do.
        const forScreenReaders = header && header.querySelector(":scope > .nhsuk-u-visually-hidden:only-child");
        if (!header || !header.textContent.trim() || forScreenReaders) return;
        const heading = cell.querySelector(":scope > .nhsuk-table-responsive__heading");
        if (!heading) { problems.push(`${name}: a "${header.textContent.trim()}" cell without its heading`); return; }
        if (heading.textContent.trim() !== header.textContent.trim())
          problems.push(`${name}: heading "${heading.textContent.trim()}" under "${header.textContent.trim()}"`);
        if (heading.getAttribute("aria-hidden") !== "true") problems.push(`${name}: a heading read out twice`);
        if (getComputedStyle(heading).display === "none") headingsHidden += 1; else headingsShown += 1;
      });
    }
    const width = table.getBoundingClientRect().width;
    if (width > window.innerWidth) problems.push(`${name}: ${Math.round(width)} px wide`);
  }
  return {testid, problems, rows, headingsShown, headingsHidden, headerRowShown};
})
"""


def _sign_in(page, live_server, user) -> None:
    """Signed in through a session made by Django's test client: signing in is not what is tested here."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


# The innermost elements that reach past the right edge of the window, to say what to fix.
_STICKING_OUT = """
() => {
  const outside = (element) => element.getBoundingClientRect().right > window.innerWidth + 0.5;
  return [...document.body.querySelectorAll("*")]
    .filter((element) => outside(element) && ![...element.children].some(outside))
    .slice(0, 5)
    .map((element) => `${element.tagName.toLowerCase()}: ${element.textContent.trim().slice(0, 60)}`);
}
"""


def _fits(page, width: int) -> tuple[bool, list[str]]:
    return _page_width(page) <= width, page.evaluate(_STICKING_OUT)


@pytest.mark.parametrize("shown", PAGES, ids=[shown.name for shown in PAGES])
def test_the_page_fits_a_phone_and_each_table_names_every_cell_s_column(shown, crowded, page, live_server):
    _sign_in(page, live_server, getattr(crowded, shown.user))
    page.set_viewport_size({"width": PHONE, "height": 800})
    response = page.goto(shown.url(crowded))
    assert response is not None and response.status == 200

    on_the_phone = page.evaluate(_READ_TABLES, list(shown.tables))
    assert [table["problems"] for table in on_the_phone if table["problems"]] == []
    fits, sticking_out = _fits(page, PHONE)
    assert fits, f"{shown.name} is {_page_width(page)} px wide on a {PHONE} px phone: {sticking_out}"
    for table in on_the_phone:
        assert table["rows"], f"{table['testid']} has rows to look at"
        # No header row: every cell is led by its column's heading.
        assert not table["headerRowShown"] and table["headingsShown"] and not table["headingsHidden"], table

    page.set_viewport_size({"width": DESKTOP, "height": 800})
    fits, sticking_out = _fits(page, DESKTOP)
    assert fits, f"{shown.name} is {_page_width(page)} px wide at {DESKTOP} px: {sticking_out}"
    for table in page.evaluate(_READ_TABLES, list(shown.tables)):
        # On a wide screen: an ordinary table, headed once.
        assert table["problems"] == [] and table["headerRowShown"] and not table["headingsShown"], table
