"""The consultation, allergy and problem-list pages, for clinicians.

Each view fetches the patient (or the consultation or problem) through the access layer, which answers
404 when the viewer may not see it, or its clinical content; a form for an action the viewer may not
take is refused (403, audited) before it is filled in; the service checks again and does the work.
"""

import uuid
from typing import NoReturn

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carebridge.access.rules import Action, PatientAccess, permits
from carebridge.access.selectors import patient_record_for, require_permitted
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial
from carebridge.clinical import services
from carebridge.clinical.forms import AllergyForm, ConsultationForm
from carebridge.clinical.selectors import allergies_of, condition_for, consultation_for
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound, add_to_form
from carebridge.scheduling.models import Appointment
from carebridge.scheduling.selectors import appointment_for


def _not_found(request: HttpRequest, object_type: AuditObject, object_id: str, patient_id: int) -> NoReturn:
    audit_denial(
        actor=Actor.from_request(request),
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        detail={"operation": request.path},
    )
    refused = NotFound()
    refused.audited = True
    raise refused


def _appointment_of(request: HttpRequest, access: PatientAccess, appointment_id: str) -> Appointment | None:
    """The appointment a consultation comes from (from My day), if named: it must be this patient's."""
    if not appointment_id:
        return None
    appointment, _ = appointment_for(
        actor=Actor.from_request(request), public_id=appointment_id, purpose="record a consultation"
    )
    if appointment.patient_id != access.patient.pk:
        _not_found(request, AuditObject.APPOINTMENT, appointment_id, access.patient.pk)
    return appointment


@require_http_methods(["GET", "POST"])
@login_required
def consultation_new(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    actor = Actor.from_request(request)
    access = patient_record_for(actor=actor, public_id=patient_id, purpose="record a consultation")
    require_permitted(Actor.from_request(request), access, Action.RECORD_CONSULTATION, AuditObject.CONSULTATION)
    appointment_id = request.POST.get("appointment") or request.GET.get("appointment", "")
    appointment = _appointment_of(request, access, appointment_id)
    form = ConsultationForm(request.POST or None)
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consultation = services.consultation_record(
                actor=actor,
                patient=access.patient,
                symptoms=data["symptoms"],
                findings=data["findings"],
                assessment=data["assessment"],
                plan=data["plan"],
                condition_code=data["condition_code"],
                condition_text=data["condition_text"],
                appointment=appointment,
            )
        except Invalid as problem:
            add_to_form(form, problem)
        else:
            messages.success(request, f"The consultation with {access.patient.full_name} is recorded.")
            return redirect("clinical:consultation", consultation_id=consultation.public_id)
    return render(
        request,
        "clinical/consultation_new.html",
        {
            "patient": access.patient,
            "access": access,
            "allergies": allergies_of(access),
            "appointment": appointment,
            "form": form,
        },
        status=status,
    )


@require_GET
@login_required
def consultation(request: HttpRequest, consultation_id: uuid.UUID) -> HttpResponse:
    found, access = consultation_for(
        actor=Actor.from_request(request), public_id=consultation_id, purpose="consultation"
    )
    prescribe_url = ""
    if not access.is_own_record and permits(access, request.user, Action.PRESCRIBE):
        prescribe_url = f"{reverse('prescribing:new', args=[access.patient.public_id])}?consultation={found.public_id}"
    refer_url = ""
    if not access.is_own_record and permits(access, request.user, Action.REFER):
        refer_url = f"{reverse('referrals:new', args=[access.patient.public_id])}?consultation={found.public_id}"
    return render(
        request,
        "clinical/consultation.html",
        {
            "consultation": found,
            "patient": access.patient,
            "access": access,
            "allergies": allergies_of(access),
            "prescriptions": list(found.prescriptions.select_related("prescriber").order_by("-id")),
            "prescribe_url": prescribe_url,
            "refer_url": refer_url,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def allergy_new(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    actor = Actor.from_request(request)
    access = patient_record_for(actor=actor, public_id=patient_id, purpose="record an allergy")
    require_permitted(Actor.from_request(request), access, Action.RECORD_CONSULTATION, AuditObject.ALLERGY)
    form = AllergyForm(request.POST or None)
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            allergy = services.allergy_record(
                actor=actor,
                patient=access.patient,
                substance=data["substance"],
                text=data["text"],
                reaction=data["reaction"],
                severity=data["severity"],
            )
        except Invalid as problem:
            add_to_form(form, problem)
        else:
            messages.success(request, f"{access.patient.full_name}'s allergy to {allergy.display} is recorded.")
            return redirect(
                request.GET.get("next")
                if _safe_next(request)
                else reverse("records:record", args=[access.patient.public_id])
            )
    return render(
        request,
        "clinical/allergy_new.html",
        {"patient": access.patient, "access": access, "allergies": allergies_of(access), "form": form},
        status=status,
    )


def _safe_next(request: HttpRequest) -> bool:
    # Only back to one of our own clinical pages: never an address from elsewhere.
    target = request.GET.get("next", "")
    return target.startswith(("/clinical/", "/prescribing/")) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


@require_POST
@login_required
def condition_resolve(request: HttpRequest, condition_id: uuid.UUID) -> HttpResponse:
    condition, access = condition_for(
        actor=Actor.from_request(request), public_id=condition_id, purpose="resolve a problem"
    )
    # The service refuses (403) a viewer who may not, and answers 422 if it is already resolved.
    services.condition_resolve(actor=Actor.from_request(request), condition=condition)
    messages.success(request, f"{condition.display} is marked as resolved.")
    return redirect("records:record", public_id=access.patient.public_id)
