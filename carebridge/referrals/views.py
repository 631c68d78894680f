"""Referral pages for referrers, patients and the system administrator: refer a patient, one referral
(cut to what the viewer may see, with how its delivery is going), more information for the hospital,
a referral's documents, the patient's own referrals, and the administrator's connected systems and
messages waiting to be delivered. The receiving hospital's pages are in hospital_views.

As every edge: fetch through the access layer (404 when the referral, or its clinical content, is not
the viewer's to see), call one service, redirect; a refusal the service raises comes back as the form
again with 422, or as the refusal page with 403.
"""

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import NoReturn, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carebridge.access.rules import Action, PatientAccess, permits
from carebridge.access.selectors import patient_record_for, require_permitted
from carebridge.accounts.models import User
from carebridge.accounts.services import is_system_administrator
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial
from carebridge.clinical.models import Consultation
from carebridge.clinical.selectors import consultation_for
from carebridge.core.actor import Actor
from carebridge.core.errors import Conflict, Invalid, NotPermitted, add_to_form
from carebridge.core.roles import CLINICAL_ROLES, Role, role_of
from carebridge.delivery.admin import mask_address
from carebridge.delivery.models import EmailStatus, OutboundEmail, OutboundFhir, RemoteEndpoint
from carebridge.delivery.services import delivery_give_up, delivery_retry_now
from carebridge.organisations.models import Facility
from carebridge.organisations.services import facility_endpoint_name, facility_endpoint_set
from carebridge.patients.models import Patient
from carebridge.referrals import services
from carebridge.referrals.forms import (
    AddInformationForm,
    EndpointForm,
    GiveUpForm,
    ReferralForm,
    investigations_from,
)
from carebridge.referrals.letter import formatted_ubrn
from carebridge.referrals.models import Referral, ReferralStatus
from carebridge.referrals.selectors import (
    referral_deliveries,
    referral_document_for,
    referral_documents,
    referral_for,
    referral_history,
    referrals_of,
)

# What the hospital's text on a referral (status_reason) is, by the state it put the referral in.
_STATUS_REASON_LABELS = {
    ReferralStatus.RETURNED: "Advice",
    ReferralStatus.REJECTED: "Reason",
    ReferralStatus.INFO_REQUESTED: "Information requested",
}
# The service's names for what this form asks as one choice (the hospital service).
_SERVICE_FIELDS = {"receiving_facility": "service", "speciality": "service"}
# States in which the referrer may still add to a referral (the service's own rule).
_OPEN_TO_THE_REFERRER = (ReferralStatus.NEW, ReferralStatus.INFO_REQUESTED)


def _on_form(refusal: Invalid, renamed: dict[str, str]) -> Invalid:
    """The service's refusal with its field names as this page's form calls them."""
    if not refusal.fields:
        return refusal
    fields: dict[str, str] = {}
    for name, message in refusal.fields.items():
        shown = renamed.get(name, name)
        fields[shown] = f"{fields[shown]} {message}" if shown in fields else message
    return Invalid(refusal.message, fields=fields)


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here is login_required)."""
    return cast(User, request.user)


def _not_found(request: HttpRequest, object_type: AuditObject, object_id: str, patient_id: int | None) -> NoReturn:
    audit_denial(
        actor=Actor.from_request(request),
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        detail={"operation": request.path},
    )
    raise Http404


# --- Refer ---------------------------------------------------------------------------------------------


def summary_of(consultation: Consultation) -> str:
    """A clinical summary to start from: the consultation as recorded, each part named."""
    parts = [
        ("Presenting complaint", consultation.symptoms),
        ("Examination", consultation.findings),
        ("Assessment", consultation.assessment),
        ("Plan", consultation.plan),
    ]
    heading = f"Seen on {consultation.started_at:%-d %B %Y} by {consultation.clinician.display_name}."
    return "\n".join([heading, *(f"{name}: {text.strip()}" for name, text in parts if text and text.strip())])


def _consultation_of(request: HttpRequest, actor: Actor, patient: Patient) -> Consultation | None:
    """The consultation the referral is made from (?consultation=, or the form's hidden field), if any:
    404 (audited) if it is not this patient's or not the viewer's to see."""
    consultation_id = request.POST.get("consultation") or request.GET.get("consultation")
    if not consultation_id:
        return None
    consultation, _ = consultation_for(actor=actor, public_id=consultation_id, purpose="refer")
    if consultation.patient_id != patient.pk:
        _not_found(request, AuditObject.CONSULTATION, consultation_id, patient.pk)
    return consultation


@require_http_methods(["GET", "POST"])
@login_required
def refer(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    actor = Actor.from_request(request)
    access = patient_record_for(actor=actor, public_id=patient_id, purpose="refer")
    require_permitted(actor, access, Action.REFER, AuditObject.REFERRAL)
    patient = access.patient
    consultation = _consultation_of(request, actor, patient)
    initial = {}
    if consultation is not None:
        initial["consultation"] = str(consultation.public_id)
        initial["clinical_summary"] = summary_of(consultation)
        if consultation.condition is not None:
            initial["reason"] = consultation.condition.display
    form = ReferralForm(request.POST or None, request.FILES or None, initial=initial)
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        facility, speciality = form.chosen_service()
        try:
            made = services.referral_make(
                actor=actor,
                patient=patient,
                receiving_facility=facility,
                speciality=speciality,
                receiving_clinician=form.chosen_consultant(),
                priority=data["priority"],
                reason=data["reason"],
                clinical_summary=data["clinical_summary"],
                investigations=investigations_from(data["investigations"]),
                attachments=data["attachments"],
                consultation=consultation,
            )
        except Invalid as problem:
            add_to_form(form, _on_form(problem, _SERVICE_FIELDS))
        else:
            messages.success(
                request,
                f"{patient.full_name} is referred to {made.speciality} at {facility.name}. The referral's "
                f"reference (UBRN) is {formatted_ubrn(made.ubrn or '')}.",
            )
            return redirect("referrals:referral", referral_id=made.public_id)
    return render(
        request,
        "referrals/refer.html",
        {
            "patient": patient,
            "access": access,
            "consultation": consultation,
            "form": form,
            "files_sent": bool(request.FILES),
        },
        status=status,
    )


# --- One referral -----------------------------------------------------------------------------------------


def _wait_words(referral: Referral) -> str:
    waited = f"{referral.wait_days} day{'s' if referral.wait_days != 1 else ''}"
    target = f"target {referral.target_days} days (by {referral.target_date:%-d %B %Y})"
    if not referral.is_open:
        return f"Closed after {waited}; {target}"
    return f"{waited} so far; {target}"


def _appointment_at(referral: Referral) -> dt.datetime | None:
    if referral.appointment_at is not None:
        return referral.appointment_at
    return referral.appointment.starts_at if referral.appointment is not None else None


def _referral_page(
    request: HttpRequest,
    referral: Referral,
    access: PatientAccess,
) -> HttpResponse:
    user = _user(request)
    at_hospital = {"facility_id": referral.receiving_facility_id}
    clinician = getattr(user, "clinician", None) if role_of(user) in CLINICAL_ROLES else None
    clinical = access.sees_clinical and not access.is_own_record
    return render(
        request,
        "referrals/referral.html",
        {
            "referral": referral,
            "patient": access.patient,
            "access": access,
            "clinical": clinical,
            "ubrn": formatted_ubrn(referral.ubrn) if referral.ubrn else "",
            "wait": _wait_words(referral),
            "appointment_at": _appointment_at(referral),
            "status_reason_label": _STATUS_REASON_LABELS.get(ReferralStatus(referral.status), ""),
            "documents": referral_documents(referral, access),
            "history": referral_history(referral, access),
            "deliveries": referral_deliveries(referral),
            "may_add_information": referral.status in _OPEN_TO_THE_REFERRER
            and permits(access, user, Action.REFER, facility_id=referral.referring_facility_id),
            "may_triage": referral.status in _OPEN_TO_THE_REFERRER
            and permits(access, user, Action.TRIAGE, **at_hospital),
            "may_book": referral.status == ReferralStatus.PENDING and permits(access, user, Action.BOOK, **at_hospital),
            "may_see_pack": clinical and clinician is not None,
            "may_record_outcome": referral.status == ReferralStatus.IN_PROGRESS
            and permits(access, user, Action.TRIAGE, **at_hospital),
        },
    )


@require_GET
@login_required
def referral(request: HttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    found, access = referral_for(actor=Actor.from_request(request), public_id=referral_id)
    if access.is_own_record:
        # A patient reads their referral in their own words, as on their own list.
        rows = [(found, _appointment_at(found), formatted_ubrn(found.ubrn) if found.ubrn else "")]
        return render(request, "referrals/mine.html", {"patient": found.patient, "rows": rows})
    return _referral_page(request, found, access)


# --- More information for the hospital ----------------------------------------------------------------


def _for_the_referrer(request: HttpRequest, referral_id: uuid.UUID) -> tuple[Actor, Referral, PatientAccess]:
    """The referral, for a clinician at the surgery that made it while it is still open to them: 404 if
    not visible, 403 (audited) if not theirs to add to, 409 once the hospital has moved on."""
    actor = Actor.from_request(request)
    found, access = referral_for(actor=actor, public_id=referral_id, purpose="add information to a referral")
    require_permitted(
        actor,
        access,
        Action.REFER,
        AuditObject.REFERRAL,
        str(found.public_id),
        facility_id=found.referring_facility_id,
        operation="add_information",
    )
    if found.status not in _OPEN_TO_THE_REFERRER:
        raise Conflict(f"This referral is {found.staff_words.lower()}: it can no longer be added to.")
    return actor, found, access


@require_http_methods(["GET", "POST"])
@login_required
def add_information(request: HttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    actor, found, access = _for_the_referrer(request, referral_id)
    form = AddInformationForm(request.POST or None, request.FILES or None)
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_add_information(
                actor=actor,
                referral=found,
                information=form.cleaned_data["information"],
                attachments=form.cleaned_data["attachments"],
            )
        except Invalid as problem:
            add_to_form(form, problem)
        else:
            messages.success(request, f"The information is sent to {found.receiving_facility.name}.")
            return redirect("referrals:referral", referral_id=found.public_id)
    return render(
        request,
        "referrals/add_information.html",
        {
            "referral": found,
            "patient": access.patient,
            "access": access,
            "form": form,
            "ubrn": formatted_ubrn(found.ubrn) if found.ubrn else "",
            "status_reason_label": _STATUS_REASON_LABELS.get(ReferralStatus(found.status), ""),
            "files_sent": bool(request.FILES),
        },
        status=status,
    )


# --- Documents ----------------------------------------------------------------------------------------------


@require_GET
@login_required
def document(request: HttpRequest, document_id: uuid.UUID) -> HttpResponse:
    found, _referral, _access = referral_document_for(actor=Actor.from_request(request), public_id=document_id)
    response = HttpResponse(bytes(found.content), content_type=found.content_type)
    # Downloaded, never shown inline as this site's page; its type as checked, never guessed again.
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=found.filename) or ""
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- The patient's own referrals ----------------------------------------------------------------------------


@require_GET
@login_required
def mine(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    patient = getattr(user, "patient", None) if role_of(user) == Role.PATIENT else None
    if patient is None:
        audit_denial(
            actor=Actor.from_request(request), object_type=AuditObject.REFERRAL, detail={"purpose": "own referrals"}
        )
        raise Http404
    access = patient_record_for(actor=Actor.from_request(request), public_id=patient.public_id, purpose="own referrals")
    rows = [
        (referral, _appointment_at(referral), formatted_ubrn(referral.ubrn) if referral.ubrn else "")
        for referral in referrals_of(access)
    ]
    return render(request, "referrals/mine.html", {"patient": patient, "rows": rows})


# --- The system administrator: connected systems and delivery ----------------------------------------------


def _system_administrator_only(request: HttpRequest, object_type: AuditObject, purpose: str) -> Actor:
    """These pages are the system administrator's: anyone else is refused (403, audited)."""
    actor = Actor.from_request(request)
    if is_system_administrator(actor):
        return actor
    message = "Only the system administrator connects other systems and looks after message delivery."
    audit_denial(
        actor=actor,
        object_type=object_type,
        detail={"operation": purpose, "refusal": NotPermitted.code, "message": message},
    )
    denied = NotPermitted(message)
    denied.audited = True
    raise denied


@dataclass(frozen=True)
class _SystemRow:
    facility: Facility
    endpoint: RemoteEndpoint | None
    waiting: int


@require_GET
@login_required
def systems(request: HttpRequest) -> HttpResponse:
    _system_administrator_only(request, AuditObject.CONNECTED_SYSTEM, "connected systems")
    facilities = list(Facility.objects.order_by("facility_type", "name", "pk"))
    endpoints = {
        endpoint.name: endpoint
        for endpoint in RemoteEndpoint.objects.filter(name__in=[facility_endpoint_name(f) for f in facilities])
    }
    unfinished = (EmailStatus.PENDING, EmailStatus.FAILED)
    waiting: dict[int, int] = {}
    for endpoint_id in OutboundFhir.objects.filter(status__in=unfinished).values_list("endpoint_id", flat=True):
        waiting[endpoint_id] = waiting.get(endpoint_id, 0) + 1
    rows = []
    for facility in facilities:
        endpoint = endpoints.get(facility_endpoint_name(facility))
        rows.append(
            _SystemRow(facility=facility, endpoint=endpoint, waiting=waiting.get(endpoint.pk, 0) if endpoint else 0)
        )
    return render(request, "referrals/systems.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@login_required
def system_endpoint(request: HttpRequest, facility_id: uuid.UUID) -> HttpResponse:
    actor = _system_administrator_only(request, AuditObject.CONNECTED_SYSTEM, "set a connected system")
    facility = Facility.objects.filter(public_id=facility_id).first()
    if facility is None:
        raise Http404
    endpoint = RemoteEndpoint.objects.filter(name=facility_endpoint_name(facility)).first()
    initial = {"fhir_base": endpoint.fhir_base} if endpoint is not None else {}
    form = EndpointForm(request.POST or None, initial=initial)
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            facility_endpoint_set(
                actor=actor,
                facility=facility,
                fhir_base=form.cleaned_data["fhir_base"],
                token=form.cleaned_data["token"],
            )
        except Invalid as problem:
            add_to_form(form, problem)
        else:
            messages.success(
                request,
                f"{facility.name}'s system is set. Messages waiting for it go there, with the new token, at "
                "their next attempt.",
            )
            return redirect("referrals:systems")
    return render(
        request,
        "referrals/system_endpoint.html",
        {"facility": facility, "endpoint": endpoint, "form": form},
        status=status,
    )


# At most this many of each outbox on the page, the longest waiting first: a backlog of thousands is one
# problem (the receiver is down), and the count says how big it is.
DELIVERIES_SHOWN = 200
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_DELIVERY_KINDS = ("email", "fhir")


def _masked(text: str) -> str:
    """An error as the receiver gave it, with any email address in it masked (mail servers name them)."""
    return _ADDRESS.sub(lambda match: mask_address(match.group(0)), text or "")


@dataclass
class _DeliveryRow:
    kind: str
    channel: str
    public_id: uuid.UUID
    about: str  # what the message is about: its key (kind of message and record id), no patient content
    to: str  # masked address, or the receiving system's name
    status_words: str
    attempts: int
    created_at: object
    next_attempt_at: object
    last_error: str
    give_up_form: GiveUpForm

    @property
    def anchor(self) -> str:
        return f"message-{self.public_id}"


def _give_up_form(kind: str, public_id: uuid.UUID, data: QueryDict | None = None) -> GiveUpForm:
    # One box per message on the page: ids that name the message keep the labels apart.
    return GiveUpForm(data, auto_id=f"id_%s-{kind}-{public_id}")


def _deliveries_page(
    request: HttpRequest,
    *,
    acting_on: tuple[str, uuid.UUID] | None = None,
    form: GiveUpForm | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    unfinished = (EmailStatus.PENDING, EmailStatus.FAILED)
    emails = OutboundEmail.objects.filter(status__in=unfinished).order_by("created_at", "pk")
    fhir = OutboundFhir.objects.filter(status__in=unfinished).select_related("endpoint").order_by("created_at", "pk")

    def row_form(kind: str, public_id: uuid.UUID) -> GiveUpForm:
        if form is not None and acting_on == (kind, public_id):
            return form
        return _give_up_form(kind, public_id)

    rows = [
        _DeliveryRow(
            kind="email",
            channel="Email",
            public_id=email.public_id,
            about=email.idempotency_key,
            to=mask_address(email.recipient),
            status_words=email.get_status_display(),
            attempts=email.attempts,
            created_at=email.created_at,
            next_attempt_at=email.next_attempt_at,
            last_error=_masked(email.last_error),
            give_up_form=row_form("email", email.public_id),
        )
        for email in emails.only(
            "public_id",
            "idempotency_key",
            "recipient",
            "status",
            "attempts",
            "created_at",
            "next_attempt_at",
            "last_error",
        )[:DELIVERIES_SHOWN]
    ] + [
        _DeliveryRow(
            kind="fhir",
            channel="Electronic record",
            public_id=message.public_id,
            about=message.idempotency_key,
            to=message.endpoint.label,
            status_words=message.get_status_display(),
            attempts=message.attempts,
            created_at=message.created_at,
            next_attempt_at=message.next_attempt_at,
            last_error=_masked(message.last_error),
            give_up_form=row_form("fhir", message.public_id),
        )
        for message in fhir[:DELIVERIES_SHOWN]
    ]
    return render(
        request,
        "referrals/deliveries.html",
        {
            "rows": rows,
            "email_count": emails.count(),
            "fhir_count": fhir.count(),
            "shown_at_most": DELIVERIES_SHOWN,
            "problem": problem,
            "acting_on": f"message-{acting_on[1]}" if acting_on else "",
        },
        status=status,
    )


@require_GET
@login_required
def deliveries(request: HttpRequest) -> HttpResponse:
    _system_administrator_only(request, AuditObject.DELIVERY, "messages waiting")
    return _deliveries_page(request)


@require_POST
@login_required
def delivery_action(request: HttpRequest, kind: str, message_id: uuid.UUID) -> HttpResponse:
    actor = _system_administrator_only(request, AuditObject.DELIVERY, "give up or retry a message")
    if kind not in _DELIVERY_KINDS:
        raise Http404
    action = request.POST.get("action", "")
    if action == "retry":
        try:
            delivery_retry_now(actor=actor, kind=kind, public_id=str(message_id))
        except Conflict as problem:
            return _deliveries_page(request, acting_on=(kind, message_id), problem=problem.message, status=409)
        messages.success(request, "The message will be tried again now.")
        return redirect("referrals:deliveries")
    if action != "give_up":
        return _deliveries_page(
            request, acting_on=(kind, message_id), problem="Choose to give up or to retry the message.", status=422
        )
    form = _give_up_form(kind, message_id, request.POST)
    if form.is_valid():
        try:
            delivery_give_up(actor=actor, kind=kind, public_id=str(message_id), reason=form.cleaned_data["reason"])
        except Invalid as problem:
            add_to_form(form, problem)
        except Conflict as problem:
            return _deliveries_page(request, acting_on=(kind, message_id), problem=problem.message, status=409)
        else:
            messages.success(request, "Delivery of the message is given up; your reason is shown beside it.")
            return redirect("referrals:deliveries")
    return _deliveries_page(request, acting_on=(kind, message_id), form=form, status=422)
