"""Records management at a GP surgery (docs/records.md): merging two records of one person, undoing a
merge, deregistering a patient who leaves, and registering them again.

Writes, one transaction each with its audit row, in the access layer's terms: each asks
`access.rules.require()` (records staff and managers at the patient's surgery; a records manager to
undo), so a refusal is the same from every edge, and is audited once the work has rolled back.

They live with the records pages rather than in `patients` because they ask the access layer, which sits
above `patients`; they move the care apps' rows without importing those apps, by following every foreign
key to Patient that Django knows of, so a model added later follows a merge without an edit here.
"""

import datetime as dt
from collections.abc import Iterator

from django.apps import apps
from django.db import IntegrityError, models, transaction

from carebridge.access.rules import Action, manages_records, require
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.refusals import refusals_audited
from carebridge.audit.services import audit_record
from carebridge.core import clock, nhs_number
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound
from carebridge.patients.models import Patient, PatientMerge

# The foreign keys to Patient that record merges themselves: they are the merge's bookkeeping, not the
# patient's care, and never move.
_BOOKKEEPING = {
    ("patients.patientmerge", "survivor"),
    ("patients.patientmerge", "retired"),
    ("patients.patient", "merged_into"),
}


def patient_foreign_keys() -> Iterator[models.ForeignKey]:
    """Every foreign key (and one-to-one key) to Patient in every installed model, bookkeeping aside."""
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if (
                isinstance(field, models.ForeignKey)
                and field.remote_field.model is Patient
                and (model._meta.label_lower, field.name) not in _BOOKKEEPING
            ):
                yield field


def _key(field: models.ForeignKey) -> str:
    return f"{field.model._meta.label_lower}.{field.name}"


def _locked(*patients: Patient) -> list[Patient]:
    """The patients read afresh under a row lock, in primary-key order so two merges cannot deadlock."""
    found = {
        patient.pk: patient
        for patient in Patient.objects.select_for_update(of=("self",))
        .select_related("registered_surgery", "user")
        .filter(pk__in=[patient.pk for patient in patients])
        .order_by("pk")
    }
    return [found[patient.pk] for patient in patients]


# --- Merge ------------------------------------------------------------------------------------------------


def merge_problems(*, survivor: Patient, retired: Patient) -> dict[str, str]:
    """Why these two records may not be merged, by the form field at fault; empty if they may.

    Asked by the confirmation page (to refuse before the clerk confirms) and by the merge itself.
    """
    if survivor.pk == retired.pk:
        return {"retired": "Choose two different records."}
    if survivor.registered_surgery_id != retired.registered_surgery_id:
        return {"retired": "Both records must be registered at your surgery to merge them."}
    if survivor.nhs_number and retired.nhs_number and survivor.nhs_number != retired.nhs_number:
        return {
            "retired": (
                f"These records have different NHS numbers ({nhs_number.formatted(survivor.nhs_number)} and "
                f"{nhs_number.formatted(retired.nhs_number)}), so they are different people. They cannot be merged."
            )
        }
    if retired.nhs_number and not survivor.nhs_number:
        # The NHS number is the person's identity across the NHS: the record carrying it is the one kept,
        # rather than moving the number across and changing the kept record's details silently.
        return {"survivor": "Keep the record with the NHS number: choose it as the record to keep."}
    if survivor.user_id and retired.user_id and retired.user and retired.user.is_active:
        return {
            "retired": (
                "Both records have a portal login. Ask the system administrator to close the login the "
                "patient does not use, then merge the records."
            )
        }
    if survivor.deregistered_on is not None or retired.deregistered_on is not None:
        return {"retired": "One of these patients has left the surgery. Register them again before merging."}
    return {}


@refusals_audited(AuditObject.PATIENT)
@transaction.atomic
def patient_merge(*, actor: Actor, patient: Patient, retired: Patient, reason: str) -> PatientMerge:
    """Merge `retired` into `patient` (the record kept): every row of the retired record's care moves to
    the kept one, the retired record is marked merged and hidden, and a PatientMerge lists what moved.

    The kept record's details are left as they are: the clerk chose it. Both records must be visible to
    the actor, and the actor must keep records at their surgery (NotFound / NotPermitted otherwise).
    Audited on both records; the audit trail itself is never rewritten.
    """
    reason = reason.strip()
    survivor, retired = _locked(patient, retired)
    for record in (survivor, retired):
        require(actor=actor, action=Action.MERGE_RECORDS, patient=record, facility_id=record.registered_surgery_id)
    problems = merge_problems(survivor=survivor, retired=retired)
    if not reason:
        problems["reason"] = "Enter why these records are the same person."
    if problems:
        raise Invalid(" ".join(problems.values()), fields=problems)
    moved: dict[str, list[int]] = {}
    for field in patient_foreign_keys():
        manager = field.model._base_manager
        keys = sorted(manager.filter(**{field.attname: retired.pk}).values_list("pk", flat=True))
        if not keys:
            continue
        try:
            with transaction.atomic():
                manager.filter(pk__in=keys).update(**{field.attname: survivor.pk})
        except IntegrityError:
            # A row a patient may hold only once (a one-to-one key, or one open subject access request)
            # is on both records: which to keep is not for the merge to guess. Nothing has changed.
            label = field.model._meta.verbose_name
            message = f"Both records have a {label} that a patient may have only one of. Settle one first."
            raise Invalid(message, fields={"retired": message}) from None
        moved[_key(field)] = keys
    now = clock.now()
    moved_login = survivor.user_id is None and retired.user_id is not None
    if moved_login:
        login = retired.user_id
        # One patient per login (one-to-one): the retired record lets go first.
        Patient.objects.filter(pk=retired.pk).update(user=None)
        Patient.objects.filter(pk=survivor.pk).update(user_id=login, updated_at=now)
    Patient.objects.filter(pk=retired.pk).update(merged_into=survivor, updated_at=now)
    assert actor.user is not None  # require() refused anyone signed out
    merge = PatientMerge.objects.create(
        survivor=survivor,
        retired=retired,
        merged_at=now,
        merged_by=actor.user,
        reason=reason,
        moved=moved,
        moved_portal_login=moved_login,
    )
    detail = {
        "operation": "merge",
        "merge": str(merge.public_id),
        "kept": str(survivor.public_id),
        "retired": str(retired.public_id),
        "rows_moved": {key: len(keys) for key, keys in moved.items()},
        "portal_login_moved": moved_login,
    }
    for record in (survivor, retired):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=AuditObject.PATIENT,
            object_id=str(record.public_id),
            patient_id=record.pk,
            reason=reason,
            detail=detail,
        )
    survivor.refresh_from_db()
    return merge


# --- Unmerge ----------------------------------------------------------------------------------------------


@refusals_audited(AuditObject.PATIENT)
@transaction.atomic
def patient_unmerge(*, actor: Actor, patient: Patient, merge: PatientMerge, reason: str) -> PatientMerge:
    """Undo `merge` of a record into `patient`: exactly the rows it moved go back to the retired record,
    which is restored; rows made on the kept record since stay there. A records manager only.
    """
    reason = reason.strip()
    merge = PatientMerge.objects.select_for_update().get(pk=merge.pk)
    survivor, retired = _locked(merge.survivor, merge.retired)
    if merge.survivor_id != patient.pk:
        raise NotFound("No such merge of this record.")
    require(actor=actor, action=Action.UNMERGE_RECORDS, patient=survivor, facility_id=survivor.registered_surgery_id)
    problems: dict[str, str] = {}
    if merge.unmerged_at is not None:
        problems["merge"] = "This merge has already been undone."
    elif retired.registered_surgery_id != survivor.registered_surgery_id:
        problems["merge"] = "The records are no longer at the same surgery. Ask the other surgery's records team."
    if not reason:
        problems["reason"] = "Enter why this merge is being undone."
    if problems:
        raise Invalid(" ".join(problems.values()), fields=problems)
    fields = {_key(field): field for field in patient_foreign_keys()}
    returned: dict[str, int] = {}
    for key, keys in merge.moved.items():
        field = fields.get(key)
        if field is None:  # a model removed since the merge: nothing of it is left to move
            continue
        # Only rows still on the kept record: one later merged elsewhere stays where that merge put it.
        returned[key] = field.model._base_manager.filter(pk__in=keys, **{field.attname: survivor.pk}).update(
            **{field.attname: retired.pk}
        )
    now = clock.now()
    if merge.moved_portal_login and survivor.user_id is not None:
        login = survivor.user_id
        Patient.objects.filter(pk=survivor.pk).update(user=None, updated_at=now)
        Patient.objects.filter(pk=retired.pk).update(user_id=login)
    Patient.objects.filter(pk=retired.pk).update(merged_into=None, updated_at=now)
    assert actor.user is not None
    merge.unmerged_at = now
    merge.unmerged_by = actor.user
    merge.unmerge_reason = reason
    merge.save(update_fields=["unmerged_at", "unmerged_by", "unmerge_reason"])
    detail = {
        "operation": "unmerge",
        "merge": str(merge.public_id),
        "kept": str(survivor.public_id),
        "restored": str(retired.public_id),
        "rows_returned": returned,
    }
    for record in (survivor, retired):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=AuditObject.PATIENT,
            object_id=str(record.public_id),
            patient_id=record.pk,
            reason=reason,
            detail=detail,
        )
    return merge


# --- Deregistration and registering again ----------------------------------------------------------------


@refusals_audited(AuditObject.PATIENT_REGISTRATION)
@transaction.atomic
def patient_deregister(*, actor: Actor, patient: Patient, left_on: dt.date, reason: str) -> Patient:
    """The patient has left the surgery: from now their registration opens the record to nobody there.

    The record is kept (NHS records retention). Appointments and referrals keep their own relationships
    until they end, so the surgery can still see to an appointment already booked; the pages list those
    still to come for the clerk to cancel or leave. Records staff and managers at the surgery only.
    """
    reason = reason.strip()
    (patient,) = _locked(patient)
    require(actor=actor, action=Action.DEREGISTER, patient=patient, facility_id=patient.registered_surgery_id)
    problems: dict[str, str] = {}
    if left_on > clock.today():
        problems["left_on"] = "The date the patient left must be today or in the past."
    elif left_on < patient.registration_date:
        problems["left_on"] = "The date the patient left must be on or after the date they registered."
    if not reason:
        problems["reason"] = "Enter why the patient is leaving the surgery."
    if problems:
        raise Invalid(" ".join(problems.values()), fields=problems)
    now = clock.now()
    Patient.objects.filter(pk=patient.pk).update(
        deregistered_on=left_on, deregistration_reason=reason[:300], updated_at=now
    )
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type=AuditObject.PATIENT_REGISTRATION,
        object_id=str(patient.public_id),
        patient_id=patient.pk,
        reason=reason,
        detail={"surgery": str(patient.registered_surgery.public_id), "left_on": left_on.isoformat()},
    )
    patient.refresh_from_db()
    return patient


@refusals_audited(AuditObject.PATIENT_REGISTRATION)
@transaction.atomic
def patient_reregister(*, actor: Actor, nhs_number_text: str, date_of_birth: dt.date) -> Patient:
    """Register again, at the actor's surgery, a patient whose record Carebridge keeps but who is
    registered nowhere (they left a surgery). Found by NHS number and date of birth together, so the
    form cannot be used to look people up by number alone; a patient still registered somewhere is
    refused with the same message (their surgery must deregister them first).
    """
    surgery_id = manages_records(actor.user)
    if surgery_id is None:
        raise NotFound("Only medical records staff and managers at a GP surgery register patients again.")
    number = nhs_number.normalise(nhs_number_text)
    if problem := nhs_number.problem(number):
        raise Invalid(problem, fields={"nhs_number": problem})
    patient = (
        Patient.objects.select_for_update()
        .filter(nhs_number=number, date_of_birth=date_of_birth, merged_into__isnull=True)
        .exclude(deregistered_on__isnull=True)
        .first()
    )
    if patient is None:
        message = (
            "No patient who has left their surgery has this NHS number and date of birth. A patient still "
            "registered at another surgery is deregistered there first."
        )
        raise Invalid(message, fields={"nhs_number": message})
    previous = patient.registered_surgery_id
    Patient.objects.filter(pk=patient.pk).update(
        registered_surgery_id=surgery_id,
        registration_date=clock.today(),
        deregistered_on=None,
        deregistration_reason="",
        updated_at=clock.now(),
    )
    patient.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.PATIENT_REGISTRATION,
        object_id=str(patient.public_id),
        patient_id=patient.pk,
        detail={
            "registered_again": True,
            "surgery": str(patient.registered_surgery.public_id),
            "previous_surgery_id": previous,
        },
    )
    return patient


def rows_held(patient: Patient) -> list[tuple[str, int]]:
    """What a merge would move from `patient`, for the confirmation page: (kind in words, how many)."""
    held = []
    for field in patient_foreign_keys():
        count = field.model._base_manager.filter(**{field.attname: patient.pk}).count()
        if count:
            held.append((str(field.model._meta.verbose_name_plural).capitalize(), count))
    return sorted(held)
