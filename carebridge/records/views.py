from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from carebridge.access.rules import Action, PatientAccess, permits, visible_patients
from carebridge.access.selectors import patient_record_for
from carebridge.access.services import break_glass_open
from carebridge.appointments.views import record_appointments_panel
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial, audit_search
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound, add_to_form
from carebridge.core.roles import CLINICAL_ROLES, PATIENT_FINDER_ROLES, Role, role_of
from carebridge.patients.forms import PatientSearchForm
from carebridge.patients.models import Patient
from carebridge.patients.selectors import patients_matching
from carebridge.records.forms import BreakGlassForm
from carebridge.records.selectors import patient_record, record_access_log


@require_GET
@login_required
def search(request):
    role = role_of(request.user)
    if role not in PATIENT_FINDER_ROLES:
        audit_denial(actor=Actor.from_request(request), object_type=AuditObject.PATIENT_SEARCH)
        raise Http404
    form = PatientSearchForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid():
        criteria = form.cleaned_data
        results = list(
            patients_matching(
                visible_patients(Patient.objects.all(), request.user),
                nhs_number=criteria["nhs_number"],
                last_name=criteria["last_name"],
                first_name=criteria["first_name"],
                date_of_birth=criteria["date_of_birth"],
            ).select_related("registered_surgery")[:50]
        )
        audit_search(
            actor=Actor.from_request(request),
            object_type=AuditObject.PATIENT,
            criteria=criteria,
            patient_ids=[patient.pk for patient in results],
        )
    return render(
        request,
        "records/search.html",
        {
            "form": form,
            "results": results,
            "offer_break_glass": role in CLINICAL_ROLES,
        },
    )


def clinical_links(user, access: PatientAccess) -> dict[str, str]:
    """What the record page offers this viewer about the clinical record: links only to what the access
    layer would let them do (the pages and services check again)."""
    links = {"consultation_url": "", "allergy_url": "", "prescribe_url": "", "medicines_url": "", "refer_url": ""}
    patient_id = access.patient.public_id
    if access.is_own_record:
        links["medicines_url"] = reverse("prescribing:mine")
    elif access.sees_clinical:
        if permits(access, user, Action.RECORD_CONSULTATION):
            links["consultation_url"] = reverse("clinical:consultation_new", args=[patient_id])
            links["allergy_url"] = reverse("clinical:allergy_new", args=[patient_id])
        if permits(access, user, Action.PRESCRIBE):
            links["prescribe_url"] = reverse("prescribing:new", args=[patient_id])
        if permits(access, user, Action.REFER):
            links["refer_url"] = reverse("referrals:new", args=[patient_id])
    return links


@require_GET
@login_required
def record(request, public_id):
    access = patient_record_for(actor=Actor.from_request(request), public_id=public_id)
    return render(
        request,
        "records/record.html",
        {
            "record": patient_record(access),
            "access": access,
            "appointments_panel": record_appointments_panel(request.user, access),
            "clinical_links": clinical_links(request.user, access),
            "deregister_url": _deregister_url(request.user, access),
        },
    )


def _deregister_url(user, access: PatientAccess) -> str:
    """Offered to the records staff of the surgery where the patient is registered (docs/records.md)."""
    patient = access.patient
    if patient.deregistered_on is None and permits(
        access, user, Action.DEREGISTER, facility_id=patient.registered_surgery_id
    ):
        return reverse("records:deregister", args=[patient.public_id])
    return ""


@require_GET
@login_required
def my_record(request):
    patient = getattr(request.user, "patient", None) if role_of(request.user) == Role.PATIENT else None
    if patient is None:
        audit_denial(
            actor=Actor.from_request(request), object_type=AuditObject.PATIENT, detail={"purpose": "own record"}
        )
        raise Http404
    access = patient_record_for(actor=Actor.from_request(request), public_id=patient.public_id, purpose="own record")
    return render(
        request,
        "records/record.html",
        {
            "record": patient_record(access),
            "access": access,
            "access_log": record_access_log(access),
            "appointments_panel": record_appointments_panel(request.user, access),
            "clinical_links": clinical_links(request.user, access),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def break_glass(request):
    if role_of(request.user) not in CLINICAL_ROLES:
        audit_denial(actor=Actor.from_request(request), object_type=AuditObject.BREAK_GLASS)
        raise Http404
    form = BreakGlassForm(request.POST or None, initial={"nhs_number": request.GET.get("nhs_number", "")})
    if request.method == "POST" and form.is_valid():
        try:
            grant = break_glass_open(
                actor=Actor.from_request(request),
                nhs_number_text=form.cleaned_data["nhs_number"],
                reason=form.cleaned_data["reason"],
            )
        except (Invalid, NotFound) as problem:
            add_to_form(form, problem)
        else:
            messages.warning(request, "Emergency access is open. Your reason has been recorded for review.")
            return redirect("records:record", public_id=grant.patient.public_id)
    return render(request, "records/break_glass.html", {"form": form})
