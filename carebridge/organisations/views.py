"""The staff pages of a practice manager or hospital administrator: their own facility's people.

A list of the staff, and for each: create their login (they are emailed a link to set their password),
change their job and access level, send a new set-password link, deactivate or reactivate their login.
Each view looks up the staff member at the manager's own facility, calls one service, and redirects
with a message, or shows the form again with the service's refusal. Anyone else gets 404, audited, as
does a staff member of another facility. The system administrator works in the admin site, through the
same services.
"""

import uuid
from typing import NoReturn

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from carebridge.accounts.services import user_deactivate, user_reactivate
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotPermitted, add_to_form
from carebridge.core.roles import PATIENT_FINDER_ROLES, ROLE_LABELS, Role, role_of
from carebridge.organisations import services
from carebridge.organisations.forms import FacilityDetailsForm, JobChangeForm, LoginCreateForm
from carebridge.organisations.models import Facility, StaffMember


def _refuse(request: HttpRequest, object_id: str = "") -> NoReturn:
    """Audit the refusal and answer 404, so a page nobody may use looks like one that is not there."""
    audit_denial(
        actor=Actor.from_request(request),
        object_type=AuditObject.STAFF_MEMBER,
        object_id=object_id,
        detail={"purpose": request.path},
    )
    raise Http404


def _managed_facility(request: HttpRequest) -> Facility:
    if role_of(request.user) != Role.FACILITY_MANAGER:
        _refuse(request)
    return request.user.staff_member.facility


def _staff_member(request: HttpRequest, staff_id: uuid.UUID) -> tuple[Facility, StaffMember]:
    facility = _managed_facility(request)
    staff_member = StaffMember.objects.select_related("user").filter(public_id=staff_id, facility=facility).first()
    if staff_member is None:
        _refuse(request, str(staff_id))
    return facility, staff_member


def _posted(request: HttpRequest):
    """The POST data, even when empty (a confirmation form has no fields), or None for a GET."""
    return request.POST if request.method == "POST" else None


def _login_state(staff_member: StaffMember) -> str:
    if staff_member.user is None:
        return "none"
    return "active" if staff_member.user.is_active else "deactivated"


def _show_refusal(form: Form, refusal: Invalid | NotPermitted) -> None:
    """The service's refusal beside the fields it names, or at the top of the form."""
    placed = False
    for name, message in refusal.fields.items():
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, refusal.message)


@require_GET
@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    facility = _managed_facility(request)
    people = StaffMember.objects.filter(facility=facility).select_related("user").order_by("last_name", "first_name")
    rows = [
        {
            "person": person,
            "role": ROLE_LABELS[person.role],
            "login": _login_state(person),
            "is_you": person.user_id == request.user.pk,
        }
        for person in people
    ]
    return render(request, "organisations/staff_list.html", {"facility": facility, "rows": rows})


@require_http_methods(["GET", "POST"])
@login_required
def login_create(request: HttpRequest, staff_id: uuid.UUID) -> HttpResponse:
    facility, staff_member = _staff_member(request, staff_id)
    if staff_member.user is not None:
        messages.info(request, f"{staff_member} already has a login: {staff_member.user.username}.")
        return redirect("organisations:staff")
    form = LoginCreateForm(
        _posted(request),
        initial={"username": LoginCreateForm.suggested_username(staff_member), "email": staff_member.email},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_login_create(
                actor=Actor.from_request(request),
                staff_member=staff_member,
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
            )
        except (Invalid, NotPermitted) as refusal:
            _show_refusal(form, refusal)
        else:
            messages.success(
                request,
                f"{staff_member} has a login: {user.username}. A link to set their password "
                f"is on its way to {user.email}; it works once, for 72 hours.",
            )
            return redirect("organisations:staff")
    return render(
        request, "organisations/login_create.html", {"facility": facility, "staff_member": staff_member, "form": form}
    )


@require_http_methods(["GET", "POST"])
@login_required
def job_change(request: HttpRequest, staff_id: uuid.UUID) -> HttpResponse:
    facility, staff_member = _staff_member(request, staff_id)
    form = JobChangeForm(_posted(request), staff_member=staff_member)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.staff_member_update(
                actor=Actor.from_request(request),
                staff_member=staff_member,
                job_title=form.cleaned_data["job_title"],
                access_level=form.cleaned_data["access_level"],
                employment_status=form.cleaned_data["employment_status"],
            )
        except (Invalid, NotPermitted) as refusal:
            _show_refusal(form, refusal)
        else:
            messages.success(
                request,
                f"{changed} is now {changed.job_title}, access level "
                f"{changed.get_access_level_display()}. It applies from their next page.",
            )
            return redirect("organisations:staff")
    return render(
        request,
        "organisations/job_change.html",
        {
            "facility": facility,
            "staff_member": staff_member,
            "form": form,
            "is_you": staff_member.user_id == request.user.pk,
        },
    )


# What each confirmation page asks, does and says afterwards.
_LOGIN_ACTIONS = {
    "deactivate": {
        "title": "Deactivate {name}'s login",
        "explain": "They will not be able to sign in, pages they have open stop working, and their API tokens are "
        "revoked. Their login and everything it did is kept. You can reactivate it later.",
        "button": "Deactivate login",
        "warning": True,
        "done": "{name}'s login is deactivated.",
    },
    "reactivate": {
        "title": "Reactivate {name}'s login",
        "explain": "They will be able to sign in again with their password. Their old API tokens stay revoked.",
        "button": "Reactivate login",
        "warning": False,
        "done": "{name}'s login is active again.",
    },
    "invite": {
        "title": "Send {name} a new link to set their password",
        "explain": "Their current password stops working now, and so do links sent before. The new link works "
        "once, for 72 hours.",
        "button": "Send link",
        "warning": False,
        "done": "A new link to set a password is on its way to {email}.",
    },
}


@require_http_methods(["GET", "POST"])
@login_required
def login_action(request: HttpRequest, staff_id: uuid.UUID, action: str) -> HttpResponse:
    facility, staff_member = _staff_member(request, staff_id)
    if staff_member.user is None or action not in _LOGIN_ACTIONS:
        raise Http404
    user = staff_member.user
    words = _LOGIN_ACTIONS[action]
    form = Form(_posted(request))
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        try:
            if action == "deactivate":
                user_deactivate(actor=actor, user=user)
            elif action == "reactivate":
                user_reactivate(actor=actor, user=user)
            else:
                services.staff_login_invite(actor=actor, staff_member=staff_member)
        except (Invalid, NotPermitted) as refusal:
            _show_refusal(form, refusal)
        else:
            messages.success(request, words["done"].format(name=staff_member, email=user.email))
            return redirect("organisations:staff")
    return render(
        request,
        "organisations/login_action.html",
        {
            "facility": facility,
            "staff_member": staff_member,
            "login": user,
            "form": form,
            "title": words["title"].format(name=staff_member),
            "explain": words["explain"],
            "button": words["button"],
            "warning": words["warning"],
        },
    )


# --- The facility's own details --------------------------------------------------------------------------


def _facility_of_manager(request: HttpRequest) -> Facility:
    """The manager's own facility. Anyone else who works somewhere is refused (403), everyone else answered
    404; both audited."""
    if role_of(request.user) == Role.FACILITY_MANAGER:
        return request.user.staff_member.facility
    audit_denial(
        actor=Actor.from_request(request), object_type=AuditObject.FACILITY, detail={"purpose": "facility details"}
    )
    if role_of(request.user) in PATIENT_FINDER_ROLES:
        raise NotPermitted("Only the facility's manager keeps its details.")
    raise Http404


def opening_hours_of(facility: Facility) -> list[str]:
    """The structured weekly hours (scheduling's OpeningTime rows, read through the reverse relation so
    this app does not import the care layer above it), one line per opening: "Monday 08:00 to 18:00"."""
    return [
        f"{row.get_weekday_display()} {row.opens:%H:%M} to {row.closes:%H:%M}"
        for row in facility.opening_times.order_by("weekday", "opens")  # type: ignore[attr-defined]
    ]


@require_http_methods(["GET", "POST"])
@login_required
def facility_details(request: HttpRequest) -> HttpResponse:
    facility = _facility_of_manager(request)
    initial = {
        "name": facility.name,
        "address": facility.address,
        "postcode": facility.postcode,
        "phone_number": facility.phone_number,
        "email": facility.email,
        "referral_email": facility.referral_email,
        "specialities_offered": "\n".join(facility.specialities_offered or []),
    }
    form = FacilityDetailsForm(_posted(request), initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.facility_update(actor=Actor.from_request(request), facility=facility, **form.cleaned_data)
            except Invalid as problem:
                add_to_form(form, problem)
                status = problem.status
            else:
                messages.success(request, f"The details of {form.cleaned_data['name']} are saved.")
                return redirect("organisations:facility")
        else:
            status = 422
    return render(
        request,
        "organisations/facility_details.html",
        {"facility": facility, "form": form, "opening": opening_hours_of(facility)},
        status=status,
    )
