"""The prescribing pages: prescribe (with the safety checks), a prescription and its printable copy, the
patient's medicines and repeat requests, and the surgery's queue of repeat requests.

As every edge: fetch through the access layer (404 when the record, or its clinical content, is not the
viewer's to see), call one service, redirect; a refusal the service raises comes back as the form again
with 422, or as the refusal page with 403. A safety warning is a 422 too: the form comes back listing
each warning, with a box for the reason to go ahead anyway.
"""

import uuid
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carebridge.access.rules import Action, PatientAccess, access_for, permits, works_repeat_queue
from carebridge.access.selectors import patient_record_for, require_permitted
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial
from carebridge.clinical.selectors import allergies_of, clinical_record, consultation_for
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, add_to_form
from carebridge.core.roles import Role, role_of
from carebridge.prescribing import services
from carebridge.prescribing.forms import (
    OVERRIDE_PREFIX,
    WARNING_LABELS,
    CancelForm,
    PharmacyForm,
    PrescriptionForm,
    RefuseForm,
    RepeatRequestForm,
    SupplyForm,
    dose_units,
    medicine_choices,
    order_signature,
    overrides_from,
)
from carebridge.prescribing.models import Course, Prescription, PrescriptionStatus, RepeatRequest, RepeatRequestStatus
from carebridge.prescribing.pdf import prescription_pdf, reference
from carebridge.prescribing.safety import SafetyWarning, WarningKind
from carebridge.prescribing.selectors import (
    current_medicines,
    prescription_for,
    prescriptions_of,
    repeat_queue_for,
    repeat_request_for,
    repeat_requests_of,
)
from carebridge.prescribing.services import Order, SafetyWarnings

# --- Words for patients ---------------------------------------------------------------------------------


def _day(date) -> str:
    return f"{date.day} {date:%B}"


def status_for_patient(prescription: Prescription) -> str:
    """A prescription's status as the patient is told it."""
    if prescription.status == PrescriptionStatus.CANCELLED:
        return f"Cancelled: {prescription.cancellation_reason}"
    if prescription.status == PrescriptionStatus.COLLECTED:
        return f"Collected on {_day(prescription.collection_date)}" if prescription.collection_date else "Collected"
    if prescription.status == PrescriptionStatus.DISPENSED:
        when = f" on {_day(prescription.collection_date)}" if prescription.collection_date else ""
        return f"Dispensed by the pharmacy{when}: ready to collect"
    return "Ready for your pharmacy"


def request_status_for_patient(request: RepeatRequest) -> str:
    if request.status == RepeatRequestStatus.REFUSED:
        return f"Refused: {request.refusal_reason}"
    if request.status == RepeatRequestStatus.APPROVED:
        return f"Approved on {_day(request.decided_at)}" if request.decided_at else "Approved"
    return "Waiting for the surgery"


# --- Safety warnings and their reasons --------------------------------------------------------------------


@dataclass(frozen=True)
class OverrideBox:
    """One warning as the form shows it, with the box for the prescriber's reason to go ahead anyway."""

    kind: str
    label: str
    message: str
    reason: str

    @property
    def name(self) -> str:
        return f"{OVERRIDE_PREFIX}{self.kind}"


_KINDS = {kind.value for kind in WarningKind}


def _boxes(warnings: list[SafetyWarning], data) -> list[OverrideBox]:
    """The warnings just raised, and any answered before whose reasons still stand (so nothing typed is lost)."""
    boxes = [
        OverrideBox(
            kind=str(warning.kind),
            label=WARNING_LABELS.get(warning.kind, str(warning.kind)),
            message=warning.message,
            reason=str(data.get(f"{OVERRIDE_PREFIX}{warning.kind}", "")),
        )
        for warning in warnings
    ]
    raised = {box.kind for box in boxes}
    for kind, reason in overrides_from(data).items():
        message = str(data.get(f"warning-{kind}", ""))
        if kind not in raised and kind in _KINDS and message:
            boxes.append(
                OverrideBox(kind=kind, label=WARNING_LABELS[WarningKind(kind)], message=message, reason=reason)
            )
    return boxes


# --- Prescribing --------------------------------------------------------------------------------------------


def _not_found(request: HttpRequest, object_type: AuditObject, object_id: str, patient_id: int | None) -> NoReturn:
    audit_denial(
        actor=Actor.from_request(request),
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        detail={"operation": request.path},
    )
    refused = Http404()
    raise refused


@require_http_methods(["GET", "POST"])
@login_required
def prescribe(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    actor = Actor.from_request(request)
    access = patient_record_for(actor=actor, public_id=patient_id, purpose="prescribe")
    require_permitted(Actor.from_request(request), access, Action.PRESCRIBE, AuditObject.PRESCRIPTION)
    patient = access.patient
    consultation = None
    consultation_id = request.POST.get("consultation") or request.GET.get("consultation")
    if consultation_id:
        consultation, _ = consultation_for(actor=actor, public_id=consultation_id, purpose="prescribe")
        if consultation.patient_id != patient.pk:
            _not_found(request, AuditObject.CONSULTATION, consultation_id, patient.pk)
    record = clinical_record(access)
    assert record is not None  # a prescriber sees the clinical record
    initial: dict[str, Any] = {}
    if consultation is not None and consultation.condition is not None:
        initial["condition"] = str(consultation.condition.public_id)
    elif request.GET.get("condition"):
        initial["condition"] = request.GET["condition"]
    if consultation is not None:
        initial["consultation"] = str(consultation.public_id)
    form = PrescriptionForm(
        request.POST or None,
        initial=initial,
        problems=record.active_problems,
        nominated_pharmacy=patient.nominated_pharmacy,
    )
    warnings: list[SafetyWarning] = []
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            prescription = services.prescription_issue(
                actor=actor,
                patient=patient,
                condition=form.chosen_condition(),
                order=Order(
                    medicine=data["medicine"],
                    dose_value=data["dose_value"],
                    dose_unit=data["dose_unit"],
                    frequency=data["frequency"],
                    duration_days=data["duration_days"],
                    quantity_value=data["quantity_value"],
                    quantity_unit=data["quantity_unit"],
                    instructions=data["instructions"],
                ),
                pharmacy=data["pharmacy"] or None,
                course=data["course"],
                issues_allowed=data["issues_allowed"],
                review_date=data["review_date"],
                consultation=consultation,
                overrides=overrides_from(request.POST),
            )
        except SafetyWarnings as stopped:
            warnings = stopped.warnings
        except Invalid as problem:
            add_to_form(form, problem)
        else:
            messages.success(
                request,
                f"{prescription.medication_name} {prescription.dose_display} is prescribed for {patient.full_name}.",
            )
            return redirect("prescribing:prescription", prescription_id=prescription.public_id)
    return render(
        request,
        "prescribing/prescribe.html",
        {
            "patient": patient,
            "access": access,
            "allergies": record.allergies,
            "consultation": consultation,
            "form": form,
            "problems": record.active_problems,
            "medicines": medicine_choices(),
            "dose_units": dose_units(),
            "override_boxes": _boxes(warnings, request.POST),
            "warnings": warnings,
            "overrides_for": order_signature(request.POST) if warnings else "",
            "current": current_medicines(access),
            "consultation_url": reverse("clinical:consultation_new", args=[patient.public_id]),
            "allergy_url": f"{reverse('clinical:allergy_new', args=[patient.public_id])}?"
            + urlencode({"next": request.get_full_path()}),
        },
        status=status,
    )


# --- One prescription -------------------------------------------------------------------------------------


def _prescription_page(
    request: HttpRequest,
    prescription: Prescription,
    access: PatientAccess,
    *,
    cancel_form: CancelForm | None = None,
    supply_form: SupplyForm | None = None,
    reissue_warnings: list[SafetyWarning] | None = None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    prescriptions = prescriptions_of(access) or []
    following = next((later for later in prescriptions if later.previous_id == prescription.pk), None)
    at_prescribers = {"facility_id": prescription.prescriber.workplace_id}
    may_record = not access.is_own_record and permits(access, request.user, Action.RECORD_SUPPLY, **at_prescribers)
    repeat_left = (
        prescription.course != Course.ACUTE
        and prescription.status != PrescriptionStatus.CANCELLED
        and prescription.issue_number < prescription.issues_allowed
        and following is None
    )
    return render(
        request,
        "prescribing/prescription.html",
        {
            "prescription": prescription,
            "patient": access.patient,
            "access": access,
            "allergies": allergies_of(access),
            "overrides": list(prescription.overrides.all()),
            "status_words": status_for_patient(prescription),
            "following": following,
            "may_print": may_record,
            "may_cancel": may_record and prescription.status == PrescriptionStatus.ISSUED,
            "may_record_supply": may_record
            and prescription.status in (PrescriptionStatus.ISSUED, PrescriptionStatus.DISPENSED),
            "may_reissue": repeat_left and not access.is_own_record and permits(access, request.user, Action.PRESCRIBE),
            "cancel_form": cancel_form or CancelForm(),
            "supply_form": supply_form or SupplyForm(),
            "reissue_boxes": _boxes(reissue_warnings or [], request.POST),
            "refusal": refusal,
            "reference": reference(prescription),
        },
        status=status,
    )


@require_GET
@login_required
def prescription(request: HttpRequest, prescription_id: uuid.UUID) -> HttpResponse:
    found, access = prescription_for(actor=Actor.from_request(request), public_id=prescription_id)
    return _prescription_page(request, found, access)


def _at_issuing_surgery(
    request: HttpRequest, prescription_id: uuid.UUID, purpose: str, message: str = ""
) -> tuple[Actor, Prescription, PatientAccess]:
    """A prescription for what only clinicians at the surgery that issued it do (Action.RECORD_SUPPLY):
    print it, cancel it, record what became of it. 404 if not visible, 403 (audited) if not theirs."""
    actor = Actor.from_request(request)
    found, access = prescription_for(actor=actor, public_id=prescription_id, purpose=purpose)
    require_permitted(
        actor,
        access,
        Action.RECORD_SUPPLY,
        AuditObject.PRESCRIPTION,
        str(found.public_id),
        facility_id=found.prescriber.workplace_id,
        message=message,
    )
    return actor, found, access


@require_GET
@login_required
def prescription_print(request: HttpRequest, prescription_id: uuid.UUID) -> HttpResponse:
    # Printed by the surgery that issued it, as it records what became of it: a copy in other hands
    # (another clinic's, or the patient's own) could be presented at a pharmacy as well as the real one.
    _, found, _ = _at_issuing_surgery(
        request,
        prescription_id,
        "print a prescription",
        "Prescriptions are printed only by the surgery that issued them.",
    )
    response = HttpResponse(prescription_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="prescription-{reference(found)}.pdf"'
    return response


@require_POST
@login_required
def prescription_cancel(request: HttpRequest, prescription_id: uuid.UUID) -> HttpResponse:
    actor, found, access = _at_issuing_surgery(request, prescription_id, "cancel a prescription")
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.prescription_cancel(actor=actor, prescription=found, reason=form.cleaned_data["reason"])
        except Invalid as problem:
            add_to_form(form, problem)
        else:
            messages.success(request, f"The prescription for {found.medication_name} is cancelled.")
            return redirect("prescribing:prescription", prescription_id=found.public_id)
    return _prescription_page(request, found, access, cancel_form=form, status=422)


@require_POST
@login_required
def prescription_supply(request: HttpRequest, prescription_id: uuid.UUID) -> HttpResponse:
    actor, found, access = _at_issuing_surgery(request, prescription_id, "record a supply")
    form = SupplyForm(request.POST)
    if form.is_valid():
        try:
            done = services.prescription_record_supply(
                actor=actor, prescription=found, status=form.cleaned_data["status"], on=form.cleaned_data["on"]
            )
        except Invalid as problem:
            add_to_form(form, problem)
        else:
            messages.success(
                request,
                f"The prescription is recorded as {done.get_status_display().lower()} on "
                f"{done.collection_date:%-d %B %Y}.",
            )
            return redirect("prescribing:prescription", prescription_id=found.public_id)
    return _prescription_page(request, found, access, supply_form=form, status=422)


@require_POST
@login_required
def prescription_reissue(request: HttpRequest, prescription_id: uuid.UUID) -> HttpResponse:
    actor = Actor.from_request(request)
    found, access = prescription_for(actor=actor, public_id=prescription_id, purpose="issue a repeat")
    try:
        issued = services.prescription_reissue(actor=actor, prescription=found, overrides=overrides_from(request.POST))
    except SafetyWarnings as stopped:
        return _prescription_page(request, found, access, reissue_warnings=stopped.warnings, status=stopped.status)
    except Invalid as problem:
        return _prescription_page(request, found, access, refusal=problem.message, status=problem.status)
    messages.success(
        request, f"Issue {issued.issue_number} of {issued.issues_allowed} of {issued.medication_name} is prescribed."
    )
    return redirect("prescribing:prescription", prescription_id=issued.public_id)


# --- The patient's own medicines ----------------------------------------------------------------------------


def _own_record(request: HttpRequest, purpose: str) -> PatientAccess:
    """The signed-in patient's own record; a page for patients answers 404 (audited) to anyone else."""
    patient = getattr(request.user, "patient", None) if role_of(request.user) == Role.PATIENT else None
    if patient is None:
        audit_denial(
            actor=Actor.from_request(request), object_type=AuditObject.PRESCRIPTION, detail={"purpose": purpose}
        )
        raise Http404
    return patient_record_for(actor=Actor.from_request(request), public_id=patient.public_id, purpose=purpose)


def _mine_page(
    request: HttpRequest,
    access: PatientAccess,
    *,
    problem: str = "",
    asked_for: str = "",
    repeat_form: RepeatRequestForm | None = None,
    pharmacy_form: PharmacyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    prescriptions = prescriptions_of(access) or []
    requests = repeat_requests_of(access) or []
    current_ids = {prescription.pk for prescription in current_medicines(access) or []}
    superseded = {prescription.previous_id for prescription in prescriptions}
    pending = {request.prescription_id for request in requests if request.status == RepeatRequestStatus.PENDING}
    rows = [
        {
            "prescription": prescription,
            "status": status_for_patient(prescription),
            "may_request": (
                prescription.course != Course.ACUTE
                and prescription.status != PrescriptionStatus.CANCELLED
                and prescription.issue_number < prescription.issues_allowed
                and prescription.pk not in superseded
                and prescription.pk not in pending
            ),
            "requested": prescription.pk in pending,
        }
        for prescription in prescriptions
    ]
    errors = RepeatRequestForm(data={})
    errors.is_valid()
    if problem:
        errors.add_error(None, problem)
    return render(
        request,
        "prescribing/mine.html",
        {
            "patient": access.patient,
            "current": [row for row in rows if row["prescription"].pk in current_ids],
            "past": [row for row in rows if row["prescription"].pk not in current_ids],
            "requests": [(request, request_status_for_patient(request)) for request in requests],
            "errors": errors if problem else None,
            "asked_for": asked_for,
            "repeat_form": repeat_form or RepeatRequestForm(),
            "pharmacy_form": pharmacy_form or PharmacyForm(initial={"pharmacy": access.patient.nominated_pharmacy}),
        },
        status=status,
    )


@require_GET
@login_required
def mine(request: HttpRequest) -> HttpResponse:
    return _mine_page(request, _own_record(request, "own medicines"))


@require_POST
@login_required
def repeat_request(request: HttpRequest, prescription_id: uuid.UUID) -> HttpResponse:
    actor = Actor.from_request(request)
    found, access = prescription_for(actor=actor, public_id=prescription_id, purpose="request a repeat")
    require_permitted(
        Actor.from_request(request), access, Action.REQUEST_REPEAT, AuditObject.REPEAT_REQUEST, str(found.public_id)
    )
    form = RepeatRequestForm(request.POST)
    if form.is_valid():
        try:
            services.repeat_request_create(actor=actor, prescription=found, note=form.cleaned_data["note"])
        except Invalid as problem:
            return _mine_page(request, access, problem=problem.message, status=problem.status)
        messages.success(
            request,
            f"You have asked for a repeat of {found.medication_name}. Your surgery will let you "
            "know here when it is ready.",
        )
        return redirect("prescribing:mine")
    return _mine_page(request, access, problem=form.errors.as_text(), repeat_form=form, status=422)


@require_POST
@login_required
def pharmacy(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    access = _own_record(request, "nominate a pharmacy")
    form = PharmacyForm(request.POST)
    if form.is_valid():
        try:
            services.pharmacy_nominate(actor=actor, patient=access.patient, pharmacy=form.cleaned_data["pharmacy"])
        except Invalid as problem:
            add_to_form(form, problem)
        else:
            named = form.cleaned_data["pharmacy"].strip()
            messages.success(
                request,
                f"Your prescriptions will go to {named}."
                if named
                else "You have no nominated pharmacy: you can take each prescription to any pharmacy.",
            )
            return redirect("prescribing:mine")
    return _mine_page(request, access, pharmacy_form=form, status=422)


# --- The surgery's queue of repeat requests ------------------------------------------------------------------


def _queue_owner(request: HttpRequest) -> None:
    """To anyone the queue is not for, the page is not there (404, audited)."""
    if not works_repeat_queue(request.user):
        audit_denial(
            actor=Actor.from_request(request),
            object_type=AuditObject.REPEAT_REQUEST,
            detail={"purpose": "repeat request queue"},
        )
        raise Http404


@dataclass
class _QueueRow:
    request: RepeatRequest
    allergies: list
    boxes: list[OverrideBox]
    refuse_form: RefuseForm
    problem: str = ""


def _refuse_form(repeat: RepeatRequest, data=None) -> RefuseForm:
    # One refusal box per request on the page: ids that name the request keep the labels apart.
    return RefuseForm(data, auto_id=f"id_%s-{repeat.public_id}")


def _queue_page(
    request: HttpRequest,
    *,
    acting_on: RepeatRequest | None = None,
    warnings: list[SafetyWarning] = (),
    refuse_form: RefuseForm | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    clinician = request.user.clinician
    waiting = repeat_queue_for(actor=Actor.from_request(request))
    rows = []
    for waiting_request in waiting:
        this_one = acting_on is not None and waiting_request.pk == acting_on.pk
        access = access_for(request.user, waiting_request.patient)
        rows.append(
            _QueueRow(
                request=waiting_request,
                allergies=(allergies_of(access) or []) if access is not None else [],
                boxes=_boxes(list(warnings), request.POST) if this_one else [],
                refuse_form=refuse_form if this_one and refuse_form is not None else _refuse_form(waiting_request),
                problem=problem if this_one else "",
            )
        )
    return render(
        request,
        "prescribing/queue.html",
        {"rows": rows, "facility": clinician.workplace, "problem": problem, "warnings": warnings},
        status=status,
    )


@require_GET
@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _queue_owner(request)
    return _queue_page(request)


@require_POST
@login_required
def repeat_approve(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    actor = Actor.from_request(request)
    found, access = repeat_request_for(actor=actor, public_id=request_id, purpose="approve a repeat")
    require_permitted(
        Actor.from_request(request),
        access,
        Action.PRESCRIBE,
        AuditObject.REPEAT_REQUEST,
        str(found.public_id),
        facility_id=found.surgery_id,
    )
    try:
        issued = services.repeat_request_approve(actor=actor, request=found, overrides=overrides_from(request.POST))
    except SafetyWarnings as stopped:
        return _queue_page(request, acting_on=found, warnings=stopped.warnings, status=stopped.status)
    except Invalid as problem:
        return _queue_page(request, acting_on=found, problem=problem.message, status=problem.status)
    messages.success(
        request,
        f"{found.patient.full_name}'s repeat of {issued.medication_name} is issued (issue "
        f"{issued.issue_number} of {issued.issues_allowed}).",
    )
    return redirect("prescribing:queue")


@require_POST
@login_required
def repeat_refuse(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    actor = Actor.from_request(request)
    found, access = repeat_request_for(actor=actor, public_id=request_id, purpose="refuse a repeat")
    require_permitted(
        Actor.from_request(request),
        access,
        Action.PRESCRIBE,
        AuditObject.REPEAT_REQUEST,
        str(found.public_id),
        facility_id=found.surgery_id,
    )
    form = _refuse_form(found, request.POST)
    if form.is_valid():
        try:
            services.repeat_request_refuse(actor=actor, request=found, reason=form.cleaned_data["reason"])
        except Invalid as problem:
            add_to_form(form, problem)
        else:
            messages.success(request, f"{found.patient.full_name}'s request is refused; they will see your reason.")
            return redirect("prescribing:queue")
    return _queue_page(request, acting_on=found, refuse_form=form, status=422)
