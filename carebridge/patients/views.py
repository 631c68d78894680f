from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound, add_to_form
from carebridge.patients.forms import PatientRegistrationForm
from carebridge.patients.services import PossibleDuplicate, patient_register, registering_facility


@require_http_methods(["GET", "POST"])
@login_required
def register(request):
    actor = Actor.from_request(request)
    try:
        surgery = registering_facility(actor)
    except NotFound:
        audit_denial(actor=actor, object_type=AuditObject.PATIENT_REGISTRATION)
        raise
    form = PatientRegistrationForm(request.POST or None)
    possible_duplicate = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            patient = patient_register(actor=actor, nhs_number_text=data.pop("nhs_number"), **data)
        except PossibleDuplicate as problem:
            possible_duplicate = problem
        except Invalid as problem:
            add_to_form(form, problem)
        else:
            messages.success(request, f"{patient.full_name} is registered at {surgery.name}.")
            return redirect("records:record", public_id=patient.public_id)
    return render(
        request,
        "patients/register.html",
        {"form": form, "surgery": surgery, "possible_duplicate": possible_duplicate},
    )
