"""Writes to patient demographics. One transaction each, with its audit row."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from carebridge.accounts.roles import REGISTRATION_ROLES, role_of
from carebridge.audit.models import AuditAction
from carebridge.audit.services import audit_record
from carebridge.core import clock, nhs_number
from carebridge.core.actor import Actor
from carebridge.organisations.models import Facility
from carebridge.patients.models import Gender, Patient


def registering_facility(actor: Actor) -> Facility:
    """The GP surgery a receptionist registers patients at: their own, and only if it is a surgery."""
    role = role_of(actor.user)
    staff = getattr(actor.user, "staff_member", None) if actor.user else None
    if role not in REGISTRATION_ROLES or staff is None or not staff.facility.is_gp_surgery:
        raise PermissionDenied("Only reception and records staff at a GP surgery register patients.")
    return staff.facility


@transaction.atomic
def patient_register(*, actor: Actor, first_name: str, last_name: str, date_of_birth: dt.date,
                     nhs_number_text: str, gender: str, phone_number: str = "", email: str = "",
                     address: str = "", postcode: str = "", emergency_contact_name: str = "",
                     emergency_contact_phone: str = "") -> Patient:
    """Register a new patient at the actor's own surgery.

    A new registration must carry a valid NHS number, or none at all while the number is traced;
    unlike imported records, an invalid number is refused here.
    """
    surgery = registering_facility(actor)
    number = nhs_number.normalise(nhs_number_text) or None
    errors: dict[str, str] = {}
    if number is not None and (problem := nhs_number.problem(number)):
        errors["nhs_number"] = problem
    if date_of_birth > clock.today():
        errors["date_of_birth"] = "Date of birth must be today or in the past."
    if gender not in Gender.values:
        errors["gender"] = "Choose the patient's gender."
    if number is not None and "nhs_number" not in errors and Patient.objects.filter(nhs_number=number).exists():
        # Saying so tells the receptionist the number is already known to Carebridge; NHS numbers are
        # not secret (PDS answers the same question), and a duplicate registration is a clinical risk.
        errors["nhs_number"] = ("A patient with this NHS number is already registered in Carebridge. "
                                "Ask the records team to transfer their registration.")
    if errors:
        raise ValidationError(errors)
    now = clock.now()
    patient = Patient(
        first_name=first_name.strip(), last_name=last_name.strip(), date_of_birth=date_of_birth,
        nhs_number=number, nhs_number_verified=number is not None, gender=gender,
        phone_number=phone_number.strip(), email=email.strip(), address=address.strip(),
        postcode=postcode.strip().upper(), emergency_contact_name=emergency_contact_name.strip(),
        emergency_contact_phone=emergency_contact_phone.strip(), registration_date=clock.today(),
        registered_surgery=surgery, created_at=now, updated_at=now,
    )
    patient.full_clean()
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError:
        # Two receptionists registering the same number at once: the database's unique constraint
        # decides, and the loser gets the same message as above.
        raise ValidationError({"nhs_number": "A patient with this NHS number is already registered in Carebridge."})
    audit_record(actor=actor, action=AuditAction.CREATE, object_type="patient", object_id=str(patient.public_id),
                 patient_id=patient.pk, detail={"registered_surgery": surgery.source_id or str(surgery.public_id)})
    return patient
