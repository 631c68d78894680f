"""The medical records staff's pages (docs/records.md): possible duplicates, merging two records and
undoing a merge, deregistering a patient who leaves and registering them again.

Thin: each looks up, asks the access layer (through the services, or `refusal` for a page before its
form is filled), calls one service and redirects. Every refusal is audited.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from carebridge.access.rules import Action, is_records_manager, manages_records, refusal
from carebridge.access.selectors import patient_record_for
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial, audit_search
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound, NotPermitted, add_to_form
from carebridge.patients.models import Patient, PatientMerge
from carebridge.patients.selectors import duplicate_pairs
from carebridge.records.management_forms import DeregisterForm, MergeForm, ReregisterForm, UnmergeForm
from carebridge.records.management_services import (
    merge_problems,
    patient_deregister,
    patient_merge,
    patient_reregister,
    patient_unmerge,
    rows_held,
)
from carebridge.scheduling.models import Appointment, AppointmentStatus


def _records_surgery(request, object_type: AuditObject = AuditObject.PATIENT) -> int:
    """The surgery whose records the signed-in person manages; anyone else gets a 404, audited."""
    surgery_id = manages_records(request.user)
    if surgery_id is None:
        audit_denial(actor=Actor.from_request(request), object_type=object_type, detail={"page": request.path})
        raise Http404
    return surgery_id


@require_GET
@login_required
def duplicates(request):
    surgery_id = _records_surgery(request, AuditObject.PATIENT_SEARCH)
    registered = Patient.objects.filter(
        registered_surgery_id=surgery_id, merged_into__isnull=True, deregistered_on__isnull=True
    ).select_related("registered_surgery")
    pairs = duplicate_pairs(registered)
    shown = sorted({patient.pk for pair in pairs for patient in (pair.first, pair.second)})
    # A list that shows patients is a search of them: one audit row per patient shown.
    audit_search(
        actor=Actor.from_request(request),
        object_type=AuditObject.PATIENT,
        criteria={"list": "possible duplicates"},
        patient_ids=shown,
    )
    return render(request, "records/duplicates.html", {"pairs": pairs})


def _pair(request, first_id, second_id) -> tuple[Patient, Patient]:
    actor = Actor.from_request(request)
    first = patient_record_for(actor=actor, public_id=first_id, purpose="merge").patient
    second = patient_record_for(actor=actor, public_id=second_id, purpose="merge").patient
    return first, second


@require_http_methods(["GET", "POST"])
@login_required
def merge(request, first_id, second_id):
    _records_surgery(request)
    first, second = _pair(request, first_id, second_id)
    by_id = {str(first.public_id): (first, second), str(second.public_id): (second, first)}
    form = MergeForm(
        request.POST or None,
        choices=[(str(patient.public_id), _choice_label(patient)) for patient in (first, second)],
    )
    confirming = False
    survivor = retired = None
    if request.method == "POST" and form.is_valid():
        survivor, retired = by_id[form.cleaned_data["survivor"]]
        problems = merge_problems(survivor=survivor, retired=retired)
        if problems:
            add_to_form(form, Invalid(" ".join(problems.values()), fields=_on_merge_form(problems)))
        elif request.POST.get("confirmed") == "yes":
            try:
                done = patient_merge(
                    actor=Actor.from_request(request),
                    patient=survivor,
                    retired=retired,
                    reason=form.cleaned_data["reason"],
                )
            except Invalid as problem:
                add_to_form(form, Invalid(problem.message, fields=_on_merge_form(problem.fields)))
            else:
                messages.success(
                    request,
                    f"Records merged. {done.rows_moved} items moved to this record; "
                    f"the other record is kept, hidden, and can be restored by a records manager.",
                )
                return redirect("records:record", public_id=survivor.public_id)
        else:
            confirming = True
    return render(
        request,
        "records/merge.html",
        {
            "form": form,
            "patients": (first, second),
            "confirming": confirming,
            "survivor": survivor,
            "retired": retired,
            "moving": rows_held(retired) if confirming and retired is not None else [],
        },
    )


def _choice_label(patient: Patient) -> str:
    number = patient.nhs_number_display if patient.nhs_number else "no NHS number"
    born = patient.date_of_birth
    return f"{patient.full_name}, born {born:%A} {born.day} {born:%B %Y}, NHS number {number}".replace(
        "NHS number no NHS number", "no NHS number"
    )


def _on_merge_form(fields: dict[str, str]) -> dict[str, str]:
    """The merge's problems shown on this page's fields: about the other record, on the choice of the kept one."""
    return {"reason" if name == "reason" else "survivor": message for name, message in fields.items()}


@require_GET
@login_required
def merges(request):
    surgery_id = _records_surgery(request)
    done = list(
        PatientMerge.objects.filter(survivor__registered_surgery_id=surgery_id).select_related(
            "survivor", "retired", "merged_by", "unmerged_by"
        )[:200]
    )
    audit_search(
        actor=Actor.from_request(request),
        object_type=AuditObject.PATIENT,
        criteria={"list": "merged records"},
        patient_ids=sorted({merge.survivor_id for merge in done} | {merge.retired_id for merge in done}),
    )
    return render(
        request, "records/merges.html", {"merges": done, "may_undo": is_records_manager(request.user) is not None}
    )


@require_http_methods(["GET", "POST"])
@login_required
def unmerge(request, public_id, merge_id):
    actor = Actor.from_request(request)
    access = patient_record_for(actor=actor, public_id=public_id, purpose="undo a merge")
    survivor = access.patient
    found = PatientMerge.objects.filter(public_id=merge_id, survivor=survivor).select_related("retired").first()
    if found is None:
        audit_denial(actor=actor, object_type=AuditObject.PATIENT, object_id=str(merge_id), patient_id=survivor.pk)
        raise Http404
    problem = refusal(access, request.user, Action.UNMERGE_RECORDS, facility_id=survivor.registered_surgery_id)
    if problem is not None:
        audit_denial(actor=actor, object_type=AuditObject.PATIENT, object_id=str(merge_id), patient_id=survivor.pk)
        raise NotPermitted(problem)
    form = UnmergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient_unmerge(actor=actor, patient=survivor, merge=found, reason=form.cleaned_data["reason"])
        except Invalid as refused:
            add_to_form(form, refused)
        else:
            messages.success(request, f"Merge undone. {found.retired.full_name}'s record is restored.")
            return redirect("records:merges")
    return render(request, "records/unmerge.html", {"form": form, "merge": found, "survivor": survivor})


def _appointments_to_come(patient: Patient, surgery_id: int) -> list[Appointment]:
    return list(
        Appointment.objects.filter(
            patient=patient, facility_id=surgery_id, starts_at__gte=clock.now(), status=AppointmentStatus.BOOKED
        )
        .select_related("clinician")
        .order_by("starts_at")
    )


@require_http_methods(["GET", "POST"])
@login_required
def deregister(request, public_id):
    actor = Actor.from_request(request)
    access = patient_record_for(actor=actor, public_id=public_id, purpose="deregister")
    patient = access.patient
    problem = refusal(access, request.user, Action.DEREGISTER, facility_id=patient.registered_surgery_id)
    if problem is not None or patient.deregistered_on is not None:
        audit_denial(actor=actor, object_type=AuditObject.PATIENT_REGISTRATION, patient_id=patient.pk)
        raise NotPermitted(problem or "This patient has already left the surgery.")
    form = DeregisterForm(request.POST or None)
    confirming = False
    upcoming = _appointments_to_come(patient, patient.registered_surgery_id)
    if request.method == "POST" and form.is_valid():
        if request.POST.get("confirmed") == "yes":
            try:
                patient_deregister(
                    actor=actor,
                    patient=patient,
                    left_on=form.cleaned_data["left_on"],
                    reason=form.cleaned_data["reason"],
                )
            except Invalid as refused:
                add_to_form(form, refused)
            else:
                return render(request, "records/deregistered.html", {"patient": patient, "upcoming": upcoming})
        else:
            confirming = True
    return render(
        request,
        "records/deregister.html",
        {"form": form, "patient": patient, "confirming": confirming, "upcoming": upcoming},
    )


@require_http_methods(["GET", "POST"])
@login_required
def reregister(request):
    _records_surgery(request, AuditObject.PATIENT_REGISTRATION)
    form = ReregisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = patient_reregister(
                actor=Actor.from_request(request),
                nhs_number_text=form.cleaned_data["nhs_number"],
                date_of_birth=form.cleaned_data["date_of_birth"],
            )
        except (Invalid, NotFound) as refused:
            add_to_form(form, refused)
        else:
            messages.success(request, f"{patient.full_name} is registered again at {patient.registered_surgery.name}.")
            return redirect("records:record", public_id=patient.public_id)
    return render(request, "records/reregister.html", {"form": form})
