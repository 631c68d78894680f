"""Who may open which patient's record, and how much of it. Deny by default (DESIGN section 3).

Every patient read goes through `patient_record_for()`: it fetches and checks in one call, answers
404 for a record that is missing and for one that is forbidden alike, and audits both outcomes.
"""

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from carebridge.core.roles import ADMINISTRATIVE_ROLES, CLINICAL_ROLES, Role, role_of
from carebridge.audit.models import AuditAction
from carebridge.audit.services import audit_denial, audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.patients.models import Patient
from carebridge.records.models import BreakGlassAccess
from carebridge.referrals.models import Referral
from carebridge.scheduling.models import Appointment


@dataclass(frozen=True)
class PatientRecordAccess:
    """One viewer's access to one patient's record."""

    patient: Patient
    role: Role
    # Prescriptions, appointment notes and the clinical content of referrals. Non-clinical staff see
    # demographics, appointments and a referral's administrative fields only.
    sees_clinical: bool
    via_break_glass: bool = False
    is_own_record: bool = False


def _legitimate_relationship(user) -> Q | None:
    """The patients this user has a legitimate relationship with, as a filter; None for nobody."""
    role = role_of(user)
    if role == Role.PATIENT:
        return Q(user=user)
    if role in CLINICAL_ROLES:
        clinician = user.clinician
        facility_id = clinician.workplace_id
        booked = Appointment.objects.filter(patient=OuterRef("pk")).filter(
            Q(clinician=clinician) | Q(facility_id=facility_id))
        referred = Referral.objects.filter(patient=OuterRef("pk")).filter(
            Q(receiving_clinician=clinician) | Q(receiving_facility_id=facility_id) | Q(referring_clinician=clinician))
        relationship = Q(Exists(booked)) | Q(Exists(referred))
        if clinician.workplace.is_gp_surgery:
            relationship |= Q(registered_surgery_id=facility_id)
        return relationship
    if role in ADMINISTRATIVE_ROLES:
        facility_id = user.staff_member.facility_id
        booked = Appointment.objects.filter(patient=OuterRef("pk"), facility_id=facility_id)
        referred = Referral.objects.filter(patient=OuterRef("pk")).filter(
            Q(receiving_facility_id=facility_id) | Q(referring_facility_id=facility_id))
        return Q(registered_surgery_id=facility_id) | Q(Exists(booked)) | Q(Exists(referred))
    return None


def _break_glass_filter(user) -> Q:
    active = BreakGlassAccess.objects.filter(patient=OuterRef("pk"), clinician_user=user,
                                             expires_at__gt=clock.now())
    return Q(Exists(active))


def visible_patients(queryset: QuerySet[Patient], user) -> QuerySet[Patient]:
    """Narrow `queryset` to the patients `user` may find. Break-glass grants count while they last."""
    relationship = _legitimate_relationship(user)
    if relationship is None:
        return queryset.none()
    if role_of(user) in CLINICAL_ROLES:
        relationship |= _break_glass_filter(user)
    return queryset.filter(relationship)


def patient_record_for(*, actor: Actor, public_id: uuid.UUID | str, purpose: str = "record") -> PatientRecordAccess:
    """Fetch a patient for `actor` and check their access, auditing the read or the refusal."""
    user = actor.user
    role = role_of(user)
    patient = _fetch(public_id)
    relationship = _legitimate_relationship(user) if patient is not None else None
    has_relationship = relationship is not None and Patient.objects.filter(relationship, pk=patient.pk).exists()
    via_break_glass = False
    if patient is not None and not has_relationship and role in CLINICAL_ROLES:
        via_break_glass = Patient.objects.filter(_break_glass_filter(user), pk=patient.pk).exists()
    if patient is None or not (has_relationship or via_break_glass):
        audit_denial(actor=actor, object_type="patient", object_id=str(public_id),
                     patient_id=patient.pk if patient is not None else None, detail={"purpose": purpose})
        raise Http404("No patient record found")
    access = PatientRecordAccess(
        patient=patient, role=role, sees_clinical=role in CLINICAL_ROLES or role == Role.PATIENT,
        via_break_glass=via_break_glass, is_own_record=role == Role.PATIENT,
    )
    audit_record(actor=actor, action=AuditAction.VIEW, object_type="patient", object_id=str(patient.public_id),
                 patient_id=patient.pk,
                 detail={"purpose": purpose, "clinical": access.sees_clinical, "break_glass": via_break_glass})
    return access


def _fetch(public_id: uuid.UUID | str) -> Patient | None:
    try:
        return Patient.objects.select_related("registered_surgery").get(public_id=public_id)
    except (Patient.DoesNotExist, ValueError, ValidationError):
        return None


def appointment_for(*, actor: Actor, public_id: uuid.UUID | str, purpose: str = "appointment") -> tuple[Appointment, PatientRecordAccess]:
    """Fetch an appointment for `actor`: visible exactly when its patient's record is, 404 otherwise."""
    try:
        appointment = Appointment.objects.select_related("patient", "clinician", "facility", "slot").get(
            public_id=public_id)
    except (Appointment.DoesNotExist, ValueError, ValidationError):
        audit_denial(actor=actor, object_type="appointment", object_id=str(public_id), detail={"purpose": purpose})
        raise Http404("No appointment found") from None
    access = patient_record_for(actor=actor, public_id=appointment.patient.public_id, purpose=purpose)
    return appointment, access
