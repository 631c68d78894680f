"""`seed-demo` end to end: generated rows through the real importer, then the demo logins.

Small data sets (200 patients) keep these quick; the properties checked do not depend on the size.
"""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from carebridge.accounts.models import AccountKind, User
from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock, nhs_number
from carebridge.core.actor import Actor
from carebridge.core.roles import Role, role_of
from carebridge.demo import generator
from carebridge.demo.services import DEMO_PASSWORD, DEMO_USERNAMES, DemoDatabaseNotEmpty, DemoImportFailed, demo_seed
from carebridge.organisations.models import Clinician, ClinicianTitle, Facility, FacilityType, StaffMember
from carebridge.patients.models import Patient
from carebridge.prescribing.models import Prescription
from carebridge.referrals.models import Referral
from carebridge.scheduling.models import Appointment, AppointmentStatus

PATIENTS = 200

EXPECTED_ROLES = {
    "patient": Role.PATIENT,
    "gp": Role.GP,
    "nurse": Role.NURSE,
    "specialist": Role.SPECIALIST,
    "reception": Role.FRONT_DESK,
    "hospital-reception": Role.FRONT_DESK,
    "manager": Role.FACILITY_MANAGER,
    "admin": Role.SYSTEM_ADMIN,
    "privacy": Role.PRIVACY_OFFICER,
}


def snapshot() -> dict[str, object]:
    """Everything seed-demo writes, to tell whether a second run changed anything."""
    return {
        "facilities": sorted(Facility.objects.values_list("source_id", "name")),
        "clinicians": Clinician.objects.count(),
        "staff": StaffMember.objects.count(),
        "patients": sorted(Patient.objects.values_list("source_id", "nhs_number", "updated_at")),
        "appointments": sorted(Appointment.objects.values_list("source_id", "starts_at", "updated_at")),
        "prescriptions": Prescription.objects.count(),
        "referrals": Referral.objects.count(),
        "users": sorted(User.objects.values_list("username", "password", "last_login")),
    }


@pytest.mark.django_db
def test_the_demo_imports_with_no_warning_and_no_error():
    result = demo_seed(actor=Actor.command_line(), patients=PATIENTS)
    report = result.report
    assert report.stored
    assert report.error_count == 0
    assert report.warning_count == 0, "\n".join(str(problem) for problem in report.problems[:20])
    # Every generated row was stored as a new record.
    assert Patient.objects.count() == result.rows["patients.csv"] == PATIENTS
    assert Appointment.objects.count() == result.rows["appointments.csv"] > PATIENTS
    assert Prescription.objects.count() == result.rows["prescriptions.csv"] > 0
    assert Referral.objects.count() == result.rows["referrals.csv"] > 0
    assert Facility.objects.filter(facility_type=FacilityType.GP_SURGERY).count() == 4
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, object_type="dataset").count() == 1


@pytest.mark.django_db
def test_every_stored_patient_has_a_verified_unique_nhs_number():
    demo_seed(actor=Actor.command_line(), patients=PATIENTS)
    numbers = list(Patient.objects.values_list("nhs_number", flat=True))
    assert len(numbers) == PATIENTS == len(set(numbers))
    assert all(nhs_number.is_valid(number) for number in numbers)
    assert not Patient.objects.filter(nhs_number_verified=False).exists()


@pytest.mark.django_db
def test_no_stored_appointment_overlaps_another_of_the_same_clinician():
    demo_seed(actor=Actor.command_line(), patients=PATIENTS)
    previous: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for clinician, starts, length in Appointment.objects.order_by("clinician", "starts_at").values_list(
        "clinician", "starts_at", "duration_minutes"
    ):
        ends = starts + dt.timedelta(minutes=length)
        if clinician in previous:
            assert previous[clinician][1] <= starts, f"clinician {clinician} double-booked at {starts}"
        previous[clinician] = (starts, ends)
        local = starts.astimezone(clock.LONDON)
        assert local.weekday() < 5
    assert Appointment.objects.filter(starts_at__gte=clock.now()).exists()


@pytest.mark.django_db
def test_every_demo_login_signs_in_with_the_printed_password_and_has_its_role():
    output = StringIO()
    call_command("seed_demo", patients=PATIENTS, stdout=output)
    printed = output.getvalue()
    assert f"password {DEMO_PASSWORD}" in printed
    assert "0 import warnings" in printed
    request = RequestFactory().post("/accounts/sign-in/")
    assert set(DEMO_USERNAMES) == set(EXPECTED_ROLES)
    for username, role in EXPECTED_ROLES.items():
        assert f"\n  {username} " in printed, f"{username} is not in the printed table"
        user = authenticate(request, username=username, password=DEMO_PASSWORD)
        assert user is not None, f"{username} cannot sign in with the printed password"
        assert role_of(user) == role, username
        assert authenticate(request, username=username, password="not-the-password") is None
    assert User.objects.get(username="admin").kind == AccountKind.SYSTEM_ADMIN
    assert User.objects.get(username="privacy").kind == AccountKind.PRIVACY_OFFICER


@pytest.mark.django_db
def test_the_logins_are_the_people_of_the_first_surgery_and_hospital():
    demo_seed(actor=Actor.command_line(), patients=PATIENTS)
    users = {user.username: user for user in User.objects.filter(username__in=DEMO_USERNAMES)}
    patient = Patient.objects.get(user=users["patient"])
    surgery = patient.registered_surgery
    assert surgery.source_id == "S001"
    gp = Clinician.objects.get(user=users["gp"])
    nurse = Clinician.objects.get(user=users["nurse"])
    specialist = Clinician.objects.get(user=users["specialist"])
    assert (gp.title, gp.workplace) == (ClinicianTitle.GP, surgery)
    assert (nurse.title, nurse.workplace) == (ClinicianTitle.PRACTICE_NURSE, surgery)
    assert specialist.title == ClinicianTitle.CONSULTANT and specialist.workplace.source_id == "H001"
    reception = StaffMember.objects.get(user=users["reception"])
    hospital_reception = StaffMember.objects.get(user=users["hospital-reception"])
    manager = StaffMember.objects.get(user=users["manager"])
    assert (reception.job_title, reception.facility) == ("Receptionist", surgery)
    assert hospital_reception.facility == specialist.workplace
    assert hospital_reception.job_title in {"Appointments Coordinator", "Receptionist"}
    assert (manager.job_title, manager.access_level, manager.facility) == ("Practice Manager", "manager", surgery)
    # The login carries the person's name.
    assert (users["gp"].first_name, users["gp"].last_name) == (gp.first_name, gp.last_name)
    # The specialist has the demo patient referred to them, with an appointment ahead.
    referral = Referral.objects.get(patient=patient, receiving_clinician=specialist)
    assert referral.appointment is not None and referral.appointment.clinician == specialist
    assert referral.appointment.status == AppointmentStatus.BOOKED
    assert referral.appointment.starts_at > clock.now()
    # The GP and nurse have the demo patient booked too, and the GP prescribes for them.
    assert Appointment.objects.filter(patient=patient, clinician=gp, starts_at__gte=clock.now()).exists()
    assert Appointment.objects.filter(patient=patient, clinician=nurse, starts_at__gte=clock.now()).exists()
    assert Prescription.objects.filter(patient=patient, prescriber=gp).exists()
    # The GP has recorded a penicillin allergy and high blood pressure, so the record has a history.
    assert [(allergy.substance, allergy.recorded_by) for allergy in patient.allergies.all()] == [("penicillins", gp)]
    assert [condition.display for condition in patient.conditions.all()] == ["Essential hypertension"]
    for username in ("admin", "privacy"):
        user = users[username]
        assert not hasattr(user, "patient") and not hasattr(user, "clinician") and not hasattr(user, "staff_member")


@pytest.mark.django_db
def test_a_second_run_does_nothing_and_changes_nothing():
    call_command("seed_demo", patients=PATIENTS, stdout=StringIO())
    before = snapshot()
    output = StringIO()
    call_command("seed_demo", patients=PATIENTS, stdout=output)
    assert "nothing was done" in output.getvalue()
    assert snapshot() == before
    # --force refuses (exit 1) rather than load a second copy.
    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("seed_demo", patients=PATIENTS, force=True, stdout=StringIO())
    assert snapshot() == before
    with pytest.raises(DemoDatabaseNotEmpty):
        demo_seed(actor=Actor.command_line(), patients=PATIENTS)
    assert snapshot() == before


@pytest.mark.django_db
def test_a_database_with_other_data_is_left_alone():
    # No patients yet, but a facility the demo's S001 would collide with.
    Facility.objects.create(
        source_id="S001",
        name="Someone's surgery",
        facility_type=FacilityType.GP_SURGERY,
        address="1 High Street",
        postcode="B1 1AA",
    )
    output = StringIO()
    call_command("seed_demo", patients=PATIENTS, stdout=output)
    assert "1 facilities" in output.getvalue() and "nothing was done" in output.getvalue()
    with pytest.raises(CommandError):
        call_command("seed_demo", patients=PATIENTS, force=True, stdout=StringIO())
    assert Facility.objects.get().name == "Someone's surgery"
    assert not Patient.objects.exists() and not User.objects.exists()


@pytest.mark.django_db
def test_force_loads_an_empty_database():
    call_command("seed_demo", patients=PATIENTS, force=True, stdout=StringIO())
    assert Patient.objects.count() == PATIENTS
    assert User.objects.filter(username__in=DEMO_USERNAMES).count() == len(DEMO_USERNAMES)


@pytest.mark.django_db
def test_if_the_importer_refuses_a_row_nothing_at_all_is_written(monkeypatch):
    real_row = generator.DemoDataset._clinician_row

    def broken_row(self, clinician):
        row = real_row(self, clinician)
        return (row[0], row[1], row[2], "Wizard", *row[4:])  # not a clinician title

    monkeypatch.setattr(generator.DemoDataset, "_clinician_row", broken_row)
    with pytest.raises(DemoImportFailed) as failure:
        demo_seed(actor=Actor.command_line(), patients=PATIENTS)
    assert failure.value.report.error_count > 0
    assert not Facility.objects.exists() and not Patient.objects.exists() and not User.objects.exists()
    err = StringIO()
    with pytest.raises(CommandError, match="refused the generated demo data"):
        call_command("seed_demo", patients=PATIENTS, stdout=StringIO(), stderr=err)
    assert "clinicians.csv:2: title:" in err.getvalue()
    assert not Facility.objects.exists()


@pytest.mark.django_db
def test_the_demo_patient_can_book_with_their_own_surgery_from_today():
    from carebridge.scheduling.selectors import free_slots

    demo_seed(actor=Actor.command_line(), patients=PATIENTS)
    patient = User.objects.get(username="patient").patient
    offered = free_slots(facility_id=patient.registered_surgery_id)
    assert offered.exists()
    first = offered.first()
    assert first.starts_at > clock.now()
    # GPs and practice nurses both have sessions; no free slot overlaps an appointment already booked.
    titles = set(offered.values_list("clinician__title", flat=True).distinct())
    assert {ClinicianTitle.GP, ClinicianTitle.PRACTICE_NURSE} <= titles
    for slot in offered[:200]:
        clashing = Appointment.objects.filter(
            clinician=slot.clinician,
            status=AppointmentStatus.BOOKED,
            starts_at__lt=slot.ends_at,
            starts_at__gte=slot.starts_at - dt.timedelta(hours=2),
        )
        assert all(appointment.ends_at <= slot.starts_at for appointment in clashing)
