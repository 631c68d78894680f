"""Subject access pages: the patient asks and downloads (/subject-access/mine/); records staff and
managers at the surgery see the queue, record a written request, produce and release the copy.

Views look up, call one service and redirect; the services decide who may (access.rules)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carebridge.access.rules import Action, handles_subject_access, visible_patients
from carebridge.access.selectors import patient_record_of, require_permitted
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial, audit_search
from carebridge.core import nhs_number
from carebridge.core.actor import Actor
from carebridge.core.errors import Conflict, Invalid, NotFound, add_to_form
from carebridge.core.roles import Role, role_of
from carebridge.patients.models import Patient
from carebridge.subject_access import services
from carebridge.subject_access.forms import WrittenRequestForm
from carebridge.subject_access.models import RequestStatus, SubjectAccessRequest
from carebridge.subject_access.selectors import queue_at, request_named, requests_of


def _own_patient(request: HttpRequest) -> Patient:
    patient = getattr(request.user, "patient", None) if role_of(request.user) == Role.PATIENT else None
    if patient is None:
        audit_denial(
            actor=Actor.from_request(request),
            object_type=AuditObject.SUBJECT_ACCESS_REQUEST,
            detail={"purpose": "own subject access requests"},
        )
        raise Http404
    return patient


@require_http_methods(["GET", "POST"])
@login_required
def mine(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request)
    problem, status = "", 200
    if request.method == "POST":
        try:
            services.subject_access_request(actor=Actor.from_request(request), patient=patient)
        except (Conflict, Invalid) as refusal:
            problem, status = refusal.message, refusal.status
        else:
            messages.success(request, "Your request is sent. We will tell you when your copy is ready.")
            return redirect("subject_access:mine")
    rows = list(requests_of(patient))
    return render(
        request,
        "subject_access/mine.html",
        {
            "rows": rows,
            "may_ask": not any(row.is_open for row in rows),
            "problem": problem,
            "released": RequestStatus.RELEASED,
        },
        status=status,
    )


def _named_or_404(request: HttpRequest, public_id: uuid.UUID) -> SubjectAccessRequest:
    found = request_named(public_id)
    if found is None:
        audit_denial(
            actor=Actor.from_request(request), object_type=AuditObject.SUBJECT_ACCESS_REQUEST, object_id=str(public_id)
        )
        raise Http404
    return found


@require_GET
@login_required
def download(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The copy as a PDF: the patient's once released; the handling staff's once produced."""
    found = _named_or_404(request, public_id)
    content = services.subject_access_download(actor=Actor.from_request(request), subject_access=found)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="health-record-{found.reference}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


def _surgery_or_404(request: HttpRequest) -> int:
    """The surgery whose requests this user handles; to anyone else the queue is not there (404, audited)."""
    surgery_id = handles_subject_access(request.user)
    if surgery_id is None:
        audit_denial(
            actor=Actor.from_request(request),
            object_type=AuditObject.SUBJECT_ACCESS_REQUEST,
            detail={"purpose": "subject access queue"},
        )
        raise Http404
    return surgery_id


@require_GET
@login_required
def queue(request: HttpRequest) -> HttpResponse:
    surgery_id = _surgery_or_404(request)
    rows = list(queue_at(surgery_id))
    audit_search(
        actor=Actor.from_request(request),
        object_type=AuditObject.SUBJECT_ACCESS_REQUEST,
        criteria={"list": "subject access queue"},
        patient_ids=[row.patient_id for row in rows],
    )
    return render(request, "subject_access/queue.html", {"rows": rows, "released": RequestStatus.RELEASED})


@require_http_methods(["GET", "POST"])
@login_required
def written(request: HttpRequest) -> HttpResponse:
    """Record a request the patient made in writing (or in person), found by NHS number."""
    surgery_id = _surgery_or_404(request)
    form = WrittenRequestForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        number = nhs_number.normalise(form.cleaned_data["nhs_number"])
        patient = (
            visible_patients(Patient.objects.all(), request.user)
            .filter(nhs_number=number, registered_surgery_id=surgery_id)
            .select_related("registered_surgery")
            .first()
        )
        audit_search(
            actor=actor,
            object_type=AuditObject.PATIENT,
            criteria={"nhs_number": number, "purpose": "subject access request"},
            patient_ids=[patient.pk] if patient else [],
        )
        if patient is None:
            form.add_error("nhs_number", "No patient with this NHS number is registered at your surgery")
            status = 422
        else:
            try:
                made = services.subject_access_request(actor=actor, patient=patient, note=form.cleaned_data["note"])
            except (Conflict, Invalid) as refusal:
                add_to_form(form, refusal)
                status = refusal.status
            else:
                messages.success(request, f"Request {made.reference} for {patient.full_name} is recorded.")
                return redirect("subject_access:detail", public_id=made.public_id)
    elif request.method == "POST":
        status = 422
    return render(request, "subject_access/written.html", {"form": form}, status=status)


def _handled(request: HttpRequest, public_id: uuid.UUID, operation: str) -> SubjectAccessRequest:
    """The request, for staff who may see its patient (404, audited, otherwise) and handle it here (403)."""
    found = _named_or_404(request, public_id)
    actor = Actor.from_request(request)
    access = patient_record_of(actor=actor, patient=found.patient, purpose="subject access request")
    require_permitted(
        actor,
        access,
        Action.RELEASE_RECORD_COPY,
        AuditObject.SUBJECT_ACCESS_REQUEST,
        str(found.public_id),
        facility_id=found.surgery_id,
        operation=operation,
    )
    return found


@require_GET
@login_required
def detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    found = _handled(request, public_id, "view a subject access request")
    return render(request, "subject_access/detail.html", {"found": found, "statuses": RequestStatus})


@require_POST
@login_required
def produce(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    found = _handled(request, public_id, "subject_access_produce")
    try:
        services.subject_access_produce(actor=Actor.from_request(request), subject_access=found)
    except Conflict as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, "The copy is produced. Read it before you release it.")
    return redirect("subject_access:detail", public_id=found.public_id)


@require_POST
@login_required
def release(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    found = _handled(request, public_id, "subject_access_release")
    try:
        services.subject_access_release(actor=Actor.from_request(request), subject_access=found)
    except (Conflict, NotFound) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"The copy is released to {found.patient.full_name}.")
    return redirect("subject_access:detail", public_id=found.public_id)
