from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial
from carebridge.core.actor import Actor
from carebridge.patients.forms import PatientRegistrationForm
from carebridge.patients.services import patient_register, registering_facility


@require_http_methods(["GET", "POST"])
@login_required
def register(request):
    actor = Actor.from_request(request)
    try:
        surgery = registering_facility(actor)
    except PermissionDenied:
        audit_denial(actor=actor, object_type=AuditObject.PATIENT_REGISTRATION)
        raise Http404 from None
    form = PatientRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            patient = patient_register(actor=actor, nhs_number_text=data.pop("nhs_number"), **data)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(request, f"{patient.full_name} is registered at {surgery.name}.")
            return redirect("records:record", public_id=patient.public_id)
    return render(request, "patients/register.html", {"form": form, "surgery": surgery})
