"""The reports pages and CSV downloads: who may see them (the facility's own managers), what is audited,
that no patient is named, the CSV's exact content, and bad filters answered with a message."""

import datetime as dt
import re

import pytest

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.reports.figures import monday_of
from carebridge.reports.tests.worlds import build_appointments_world, manager_of
from carebridge.testing.days import BASE_DAY

PAGE = "/reports/"


def _csv_url(facility, kind: str) -> str:
    return f"/reports/{facility.public_id}/{kind}.csv"


@pytest.fixture
def filled(world, settings):
    return build_appointments_world(world, settings)


def _sections(html: str) -> list[str]:
    return re.findall(r'data-testid="report-([a-z-]+)"', html)


def test_the_manager_sees_the_surgerys_four_reports_and_the_view_is_audited(world, client_for):
    response = client_for(world.manager).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert _sections(html) == ["appointments", "access", "prescribing", "referrals-sent"]
    # Each has its chart, drawn as an image with a title and a description, and its table beside it.
    assert html.count('role="img"') == 4
    assert html.count("<desc id=") == 4
    assert 'data-testid="table-appointments"' in html
    assert "{#" not in html and "{%" not in html  # no template text shown as if it were content
    [event] = AuditEvent.objects.filter(object_type=AuditObject.REPORT)
    assert event.action == AuditAction.VIEW
    assert event.actor == world.manager
    assert event.object_id == str(world.surgery.public_id)
    assert event.patient_id is None
    assert event.detail["reports"] == ["appointments", "access", "prescribing", "referrals-sent"]
    # The default period: this week and the eleven before it, to today.
    assert (event.detail["from"], event.detail["to"]) == (
        (monday_of(BASE_DAY) - dt.timedelta(weeks=11)).isoformat(),
        BASE_DAY.isoformat(),
    )


def test_a_hospital_manager_sees_the_hospitals_reports(world, client_for):
    manager = manager_of(world.hospital, "hospital-manager")
    response = client_for(manager).get(PAGE)
    assert response.status_code == 200
    assert _sections(response.content.decode()) == ["appointments", "access", "referrals-received"]
    # The referrals the world's alice was sent with are counted, by service, without her.
    assert "Cardiology" in response.content.decode()


def test_no_patient_is_named_or_identified_anywhere_on_the_page(filled, client_for):
    world = filled.world
    html = client_for(world.manager).get(PAGE).content.decode()
    for patient in (world.alice, world.carol):
        for identifier in (patient.first_name, patient.last_name, patient.nhs_number, str(patient.public_id)):
            assert identifier not in html
        assert patient.nhs_number[:3] + " " + patient.nhs_number[3:6] not in html  # nor spaced as shown
    # The figures are there: the GP's attended appointments in the chart's words.
    assert world.gp.clinician.display_name in html


@pytest.mark.parametrize("who", ["gp", "nurse", "reception", "alice_user", "admin", "privacy", "porter"])
def test_nobody_but_a_manager_is_let_in_and_the_refusal_is_audited(world, client_for, who):
    user = getattr(world, who)
    response = client_for(user).get(PAGE)
    assert response.status_code == 403
    [event] = AuditEvent.objects.filter(object_type=AuditObject.REPORT)
    assert (event.action, event.actor, event.detail["refusal"]) == (AuditAction.DENY, user, "not-permitted")


def test_a_manager_of_another_facility_is_refused_and_audited(world, client_for):
    other = manager_of(world.other_surgery, "other-manager")
    for url in (f"/reports/{world.surgery.public_id}/", _csv_url(world.surgery, "appointments")):
        response = client_for(other).get(url)
        assert response.status_code == 403
        assert b"own facility" in response.content
    events = AuditEvent.objects.filter(object_type=AuditObject.REPORT).order_by("id")
    assert [(event.action, event.actor, event.object_id) for event in events] == [
        (AuditAction.DENY, other, str(world.surgery.public_id)),
        (AuditAction.DENY, other, str(world.surgery.public_id)),
    ]
    assert [event.detail["operation"] for event in events] == ["reports_view", "report_download"]


def test_the_csv_holds_the_tables_rows_exactly_and_is_audited(filled, client_for):
    world, w1, w2 = filled.world, filled.first_monday, filled.second_monday
    last = w2 + dt.timedelta(days=6)
    response = client_for(world.manager).get(
        _csv_url(world.surgery, "appointments"), {"from_date": w1.isoformat(), "to_date": last.isoformat()}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="S1-appointments-{w1}-to-{last}.csv"'
    assert response.content.decode() == (
        "Week beginning,Clinician,Booked,Attended,Did not attend,DNA rate,Cancelled by patient,"
        'Cancelled by practice,"Cancelled, by whom not recorded",Slots offered,Slots booked,Utilisation\r\n'
        f"{w1},Dr. Grace Patel,3,2,1,33.3,1,1,0,8,3,37.5\r\n"
        f"{w1},Nurse Nia Jones,1,1,0,0.0,0,0,0,4,1,25.0\r\n"
        f"{w2},Dr. Grace Patel,4,2,1,33.3,0,0,1,8,4,50.0\r\n"
        f"{w2},Nurse Nia Jones,0,0,0,,0,0,0,4,0,0.0\r\n"
    )
    [event] = AuditEvent.objects.filter(object_type=AuditObject.REPORT)
    assert event.action == AuditAction.EXPORT
    assert event.detail == {
        "report": "appointments",
        "format": "csv",
        "rows": 4,
        "from": w1.isoformat(),
        "to": last.isoformat(),
    }


def test_the_page_narrows_to_one_clinician_and_its_csv_link_keeps_the_filter(filled, client_for):
    world = filled.world
    nurse = world.nurse.clinician
    response = client_for(world.manager).get(PAGE, {"clinician": str(nurse.public_id)})
    html = response.content.decode()
    table = html.split('data-testid="table-appointments"')[1].split("</table>")[0]
    assert "Nurse Nia Jones" in table and "Dr. Grace Patel" not in table
    assert f"clinician={nurse.public_id}" in html
    [event] = AuditEvent.objects.filter(object_type=AuditObject.REPORT)
    assert event.detail["clinician"] == str(nurse.public_id)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from_date_day": "31", "from_date_month": "2", "from_date_year": "2026"}, "From must be a real date"),
        ({"to_date_day": "1", "to_date_month": "", "to_date_year": "2026"}, "To must include a month"),
        ({"from_date": "2026-11-20", "to_date": "2026-11-01"}, "To must be the same as or after from"),
        ({"from_date": "2020-01-01", "to_date": "2026-11-01"}, "Choose a period of 2 years or less"),
        ({"clinician": "not-a-clinician"}, "Choose a clinician from the list"),
    ],
)
def test_a_bad_filter_gets_a_clear_message_and_no_figures(world, client_for, query, message):
    client = client_for(world.manager)
    response = client.get(PAGE, query)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="error-summary"' in html and message in html
    assert _sections(html) == []
    assert not AuditEvent.objects.filter(object_type=AuditObject.REPORT).exists()
    download = client.get(_csv_url(world.surgery, "appointments"), query)
    assert download.status_code == 422 and message in download.content.decode()


def test_a_bad_filter_from_someone_who_may_not_see_reports_is_refused_first(world, client_for):
    response = client_for(world.reception).get(PAGE, {"from_date": "nonsense"})
    assert response.status_code == 403


def test_a_report_the_facility_does_not_have_is_not_there(world, client_for):
    client = client_for(world.manager)
    assert client.get(_csv_url(world.surgery, "referrals-received")).status_code == 404
    assert client.get(_csv_url(world.surgery, "no-such-report")).status_code == 404


def test_the_managers_menu_and_home_page_offer_reports_and_receptions_do_not(world, client_for):
    assert b'href="/reports/"' in client_for(world.manager).get("/").content
    assert b'href="/reports/"' not in client_for(world.reception).get("/").content
