"""A small, named world for tests: two surgeries, two hospitals, and a user for every role.

Tests read like the access rules: `world.gp` may open `world.alice`, `world.other_gp` may not.
Records are created directly here; what is under test is the code that reads and changes them.
Appointments and referrals made here get their care relationships as imported ones do.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from carebridge.accounts.models import AccountKind, User
from carebridge.core import clock
from carebridge.organisations.models import AccessLevel, Clinician, ClinicianTitle, Facility, FacilityType, StaffMember
from carebridge.patients.models import Gender, Patient
from carebridge.prescribing.models import Prescription
from carebridge.referrals.models import Referral, ReferralPriority
from carebridge.referrals.relationships import referral_relationships_refresh
from carebridge.scheduling.models import Appointment
from carebridge.scheduling.relationships import appointment_relationships_refresh

PASSWORD = "correct-horse-battery"
VALID_NHS_NUMBERS = ["9434765919", "9434765870", "4010232137", "9876543210", "4857773457"]


@dataclass
class World:
    surgery: Facility
    other_surgery: Facility
    hospital: Facility
    other_hospital: Facility
    gp: User
    nurse: User
    other_gp: User
    specialist: User
    hospital_nurse: User
    other_specialist: User
    reception: User
    other_reception: User
    hospital_reception: User
    manager: User
    porter: User
    admin: User
    privacy: User
    alice: Patient  # registered at `surgery`, referred to `specialist`, booked at `hospital`
    bob: Patient  # registered at `other_surgery`, no links to anyone else
    carol: Patient  # registered at `surgery`, no appointments or referrals, no portal login
    alice_user: User
    bob_user: User
    alice_referral: Referral
    alice_prescription: Prescription

    def users_by_name(self) -> dict[str, User]:
        return {name: value for name, value in vars(self).items() if isinstance(value, User)}


def _facility(code: str, name: str, kind: FacilityType, specialities: tuple[str, ...] = ()) -> Facility:
    return Facility.objects.create(
        source_id=code,
        name=name,
        facility_type=kind,
        address=f"1 {name} Road",
        postcode="B1 1AA",
        email=f"{code.lower()}@nhs.example",
        opening_hours="Mon-Fri: 8:00-18:00",
        specialities_offered=list(specialities),
    )


def _user(username: str, kind: AccountKind, first: str, last: str) -> User:
    # As accounts.services.user_create does: only the system administrator enters the admin site.
    is_admin = kind == AccountKind.SYSTEM_ADMIN
    user = User(
        username=username, kind=kind, first_name=first, last_name=last, is_staff=is_admin, is_superuser=is_admin
    )
    user.set_password(PASSWORD)
    user.save()
    return user


def _clinician(
    username: str,
    title: ClinicianTitle,
    workplace: Facility,
    first: str,
    last: str,
    number: str,
    speciality: str = "General Practice",
) -> User:
    user = _user(username, AccountKind.CLINICIAN, first, last)
    Clinician.objects.create(
        user=user,
        source_id=f"C-{username}",
        honorific="Dr." if "nurse" not in title else "Nurse",
        first_name=first,
        last_name=last,
        title=title,
        speciality=speciality,
        registration_number=number,
        workplace=workplace,
        employment_status="full_time",
        start_date=dt.date(2015, 1, 1),
    )
    return user


def _staff(username: str, job: str, facility: Facility, level: AccessLevel, first: str, last: str) -> User:
    user = _user(username, AccountKind.STAFF, first, last)
    StaffMember.objects.create(
        user=user,
        source_id=f"ST-{username}",
        first_name=first,
        last_name=last,
        job_title=job,
        facility=facility,
        employment_status="full_time",
        start_date=dt.date(2018, 1, 1),
        access_level=level,
    )
    return user


def _patient(code: str, first: str, last: str, number: str, surgery: Facility) -> Patient:
    now = clock.now()
    return Patient.objects.create(
        source_id=code,
        first_name=first,
        last_name=last,
        date_of_birth=dt.date(1980, 5, 17),
        nhs_number=number,
        nhs_number_verified=True,
        gender=Gender.FEMALE,
        registration_date=dt.date(2020, 1, 1),
        registered_surgery=surgery,
        created_at=now,
        updated_at=now,
    )


def build_world() -> World:
    surgery = _facility("S1", "Oak Tree Surgery", FacilityType.GP_SURGERY)
    other_surgery = _facility("S2", "Elm Street Practice", FacilityType.GP_SURGERY)
    hospital = _facility("H1", "Heartlands Hospital", FacilityType.HOSPITAL, ("Cardiology", "Dermatology"))
    other_hospital = _facility("H2", "Riverside Hospital", FacilityType.HOSPITAL, ("Neurology",))
    gp = _clinician("gp", ClinicianTitle.GP, surgery, "Grace", "Patel", "1234567")
    nurse = _clinician("nurse", ClinicianTitle.PRACTICE_NURSE, surgery, "Nia", "Jones", "N123456")
    other_gp = _clinician("other-gp", ClinicianTitle.GP, other_surgery, "Owen", "Hughes", "2234567")
    specialist = _clinician("specialist", ClinicianTitle.CONSULTANT, hospital, "Sam", "Okafor", "3234567", "Cardiology")
    hospital_nurse = _clinician("hospital-nurse", ClinicianTitle.STAFF_NURSE, hospital, "Hana", "Ali", "N223456")
    other_specialist = _clinician(
        "other-specialist", ClinicianTitle.CONSULTANT, other_hospital, "Olu", "Ade", "4234567", "Neurology"
    )
    alice = _patient("P-alice", "Alice", "Archer", VALID_NHS_NUMBERS[0], surgery)
    bob = _patient("P-bob", "Bob", "Baker", VALID_NHS_NUMBERS[1], other_surgery)
    # Not one of VALID_NHS_NUMBERS, which tests use to register new patients.
    carol = _patient("P-carol-clarke", "Carol", "Clarke", "4857773465", surgery)
    alice_user = _user("alice", AccountKind.PATIENT, "Alice", "Archer")
    bob_user = _user("bob", AccountKind.PATIENT, "Bob", "Baker")
    Patient.objects.filter(pk=alice.pk).update(user=alice_user)
    Patient.objects.filter(pk=bob.pk).update(user=bob_user)
    alice.refresh_from_db()
    bob.refresh_from_db()
    now = clock.now()
    appointment = Appointment.objects.create(
        patient=alice,
        clinician=specialist.clinician,
        facility=hospital,
        starts_at=clock.london_datetime(clock.today() + dt.timedelta(days=14), dt.time(10, 30)),
        duration_minutes=30,
        appointment_type="Specialist Consultation",
        reason_for_visit="Cardiology referral",
        notes="Murmur heard at routine check",
        created_at=now,
        updated_at=now,
    )
    referral = Referral.objects.create(
        patient=alice,
        referring_clinician=gp.clinician,
        receiving_clinician=specialist.clinician,
        referring_facility=surgery,
        receiving_facility=hospital,
        referral_date=clock.today(),
        priority=ReferralPriority.URGENT,
        reason="Heart murmur",
        clinical_summary="Grade 2/6 systolic murmur.",
        requested_investigations=["Echocardiogram", "ECG"],
        speciality="Cardiology",
        appointment=appointment,
        created_at=now,
        updated_at=now,
    )
    # Made directly, as an import would: their care relationships are written as the importer writes them.
    appointment_relationships_refresh([appointment])
    referral_relationships_refresh([referral])
    prescription = Prescription.objects.create(
        patient=alice,
        prescriber=gp.clinician,
        prescribed_on=clock.today(),
        medication_name="Simvastatin",
        dose_value=Decimal("20"),
        dose_unit="mg",
        frequency="Once daily",
        duration_days=28,
        quantity_value=Decimal("28"),
        quantity_unit="tablets",
        instructions="Take in the evening",
    )
    return World(
        surgery=surgery,
        other_surgery=other_surgery,
        hospital=hospital,
        other_hospital=other_hospital,
        gp=gp,
        nurse=nurse,
        other_gp=other_gp,
        specialist=specialist,
        hospital_nurse=hospital_nurse,
        other_specialist=other_specialist,
        reception=_staff("reception", "Receptionist", surgery, AccessLevel.BASIC, "Rita", "Shah"),
        other_reception=_staff("other-reception", "Receptionist", other_surgery, AccessLevel.BASIC, "Ray", "Cole"),
        hospital_reception=_staff(
            "hospital-reception", "Appointments Coordinator", hospital, AccessLevel.STANDARD, "Hal", "Reed"
        ),
        manager=_staff("manager", "Practice Manager", surgery, AccessLevel.MANAGER, "Mia", "Ford"),
        porter=_staff("porter", "Porter", hospital, AccessLevel.BASIC, "Pete", "Lowe"),
        admin=_user("admin", AccountKind.SYSTEM_ADMIN, "Ada", "Admin"),
        privacy=_user("privacy", AccountKind.PRIVACY_OFFICER, "Priya", "Vance"),
        alice=alice,
        bob=bob,
        carol=carol,
        alice_user=alice_user,
        bob_user=bob_user,
        alice_referral=referral,
        alice_prescription=prescription,
    )
