"""Subject access requests: asked for, the copy produced, released, downloaded. Each step is one
transaction that checks access itself (access.rules: Action.REQUEST_RECORD_COPY, RELEASE_RECORD_COPY)
and writes its audit row; a refusal is audited after the rollback (audit.refusals).

What we decided (docs/records.md, "Subject access requests"): no "withheld" step. UK GDPR lets a
practice withhold what would cause serious harm after a clinician has reviewed it; here the records staff
produce the copy, read it (with a clinician where the record calls for it) and only then release it. A
request is refused outright only by not releasing it, which the queue shows past its due date.
"""

from django.db import IntegrityError, transaction

from carebridge.access.rules import Action, require
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.refusals import refusals_audited
from carebridge.audit.services import audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Conflict, Invalid, NotFound
from carebridge.core.roles import Role, role_of
from carebridge.delivery.services import email_enqueue, email_is_valid_address
from carebridge.patients.models import Patient
from carebridge.subject_access.contents import whole_record
from carebridge.subject_access.models import OPEN_STATUSES, RequestStatus, SubjectAccessRequest, one_month_after
from carebridge.subject_access.pdf import whole_record_pdf

NOTE_LENGTH = 300


def _audit(actor: Actor, action: AuditAction, request: SubjectAccessRequest, step: str, **detail: object) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=AuditObject.SUBJECT_ACCESS_REQUEST,
        object_id=str(request.public_id),
        patient_id=request.patient_id,
        detail={"step": step, "reference": request.reference, **detail},
    )


@refusals_audited(AuditObject.SUBJECT_ACCESS_REQUEST)
@transaction.atomic
def subject_access_request(*, actor: Actor, patient: Patient, note: str = "") -> SubjectAccessRequest:
    """A request for a copy of `patient`'s whole record: by the patient, or recorded by records staff at
    their surgery for a patient who asked in writing (`note`: how it came in)."""
    require(actor=actor, action=Action.REQUEST_RECORD_COPY, patient=patient, facility_id=patient.registered_surgery_id)
    note = (note or "").strip()
    if len(note) > NOTE_LENGTH:
        raise Invalid(f"Keep the note to {NOTE_LENGTH} characters.", fields={"note": "Too long."})
    on_behalf = role_of(actor.user) != Role.PATIENT
    if on_behalf and not note:
        raise Invalid(
            "Say how the patient asked (for example, a letter received today).",
            fields={"note": "Say how the patient asked."},
        )
    if SubjectAccessRequest.objects.filter(patient=patient, status__in=OPEN_STATUSES).exists():
        raise Conflict("A request for a copy of this record is already being worked on.")
    now = clock.now()
    request = SubjectAccessRequest(
        patient=patient,
        surgery_id=patient.registered_surgery_id,
        requested_at=now,
        requested_by=actor.user,
        on_behalf=on_behalf,
        note=note,
        due_by=one_month_after(clock.today()),
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:  # two asks at once: the partial unique index lets one through
        raise Conflict("A request for a copy of this record is already being worked on.") from None
    _audit(actor, AuditAction.CREATE, request, "requested", on_behalf=on_behalf)
    return request


def _locked(request: SubjectAccessRequest) -> SubjectAccessRequest:
    return (
        SubjectAccessRequest.objects.select_for_update()
        .select_related("patient__registered_surgery")
        .get(pk=request.pk)
    )


def _require_handler(actor: Actor, request: SubjectAccessRequest) -> None:
    require(actor=actor, action=Action.RELEASE_RECORD_COPY, patient=request.patient, facility_id=request.surgery_id)


@refusals_audited(AuditObject.SUBJECT_ACCESS_REQUEST, target="subject_access")
@transaction.atomic
def subject_access_produce(*, actor: Actor, subject_access: SubjectAccessRequest) -> SubjectAccessRequest:
    """Produce the copy (the whole record as a PDF) for staff to read before release; produced again, it
    replaces the last one, for a record that changed meanwhile."""
    request = _locked(subject_access)
    _require_handler(actor, request)
    if request.status == RequestStatus.RELEASED:
        raise Conflict("This copy has been released already: a new copy needs a new request.")
    now = clock.now()
    request.document = whole_record_pdf(whole_record(request.patient), reference=request.reference, produced_at=now)
    request.status = RequestStatus.PRODUCED
    request.produced_at = now
    request.produced_by = actor.user
    request.save(update_fields=["document", "status", "produced_at", "produced_by"])
    _audit(actor, AuditAction.EXPORT, request, "produced", size=len(request.document))
    return request


@refusals_audited(AuditObject.SUBJECT_ACCESS_REQUEST, target="subject_access")
@transaction.atomic
def subject_access_release(*, actor: Actor, subject_access: SubjectAccessRequest) -> SubjectAccessRequest:
    """Release the produced copy: the patient may download it from then on, and is told by email."""
    request = _locked(subject_access)
    _require_handler(actor, request)
    if request.status != RequestStatus.PRODUCED:
        raise Conflict(
            "Produce the copy, and read it, before releasing it."
            if request.status == RequestStatus.REQUESTED
            else "This copy has been released already."
        )
    request.status = RequestStatus.RELEASED
    request.released_at = clock.now()
    request.released_by = actor.user
    request.save(update_fields=["status", "released_at", "released_by"])
    _audit(actor, AuditAction.UPDATE, request, "released")
    patient = request.patient
    if patient.email and email_is_valid_address(patient.email):
        email_enqueue(
            recipient=patient.email,
            subject="The copy of your health record is ready",
            body=(
                f"Dear {patient.full_name},\n\nThe copy of your health record you asked for "
                f"({request.reference}) is ready. Sign in to Carebridge and choose 'Request a copy of your "
                f"record' to download it.\n\n{request.surgery.name}"
            ),
            idempotency_key=f"subject-access-released-{request.public_id}",
            patient_id=patient.pk,
        )
    return request


@refusals_audited(AuditObject.SUBJECT_ACCESS_REQUEST, target="subject_access")
@transaction.atomic
def subject_access_download(*, actor: Actor, subject_access: SubjectAccessRequest) -> bytes:
    """The copy's PDF, for the patient once released, and for the staff handling it once produced."""
    request = SubjectAccessRequest.objects.select_related("patient__registered_surgery").get(pk=subject_access.pk)
    if role_of(actor.user) == Role.PATIENT:
        require(actor=actor, action=Action.REQUEST_RECORD_COPY, patient=request.patient)
        if request.status != RequestStatus.RELEASED:
            raise NotFound("Your copy is not ready yet.")
    else:
        _require_handler(actor, request)
    if request.document is None:
        raise NotFound("No copy has been produced yet.")
    _audit(actor, AuditAction.EXPORT, request, "downloaded")
    return bytes(request.document)
