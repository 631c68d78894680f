"""The receiving hospital's referral pages: the worklist, triage, booking, the pack a consultant has in
front of them when the patient arrives, and the outcome.

As every edge: read through the referral selectors (404, audited, when the referral or its patient is not
the viewer's to see), refuse a form before it is filled in when the service would refuse it
(`require_permitted`: 403, audited), call one service, redirect to the referral with a message; a
service's Invalid comes back as the form again (422) with its messages beside the fields they name.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.boundfield import BoundWidget
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from carebridge.access.rules import Action, PatientAccess, permits, viewer_of
from carebridge.access.selectors import require_permitted
from carebridge.accounts.models import User
from carebridge.audit.models import AuditObject
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Conflict, Invalid, add_to_form
from carebridge.core.roles import CLINICAL_ROLES, role_of
from carebridge.organisations.models import Clinician, ClinicianTitle, Facility
from carebridge.referrals import services
from carebridge.referrals.hospital_forms import BookForm, OutcomeForm, TriageForm, slot_day
from carebridge.referrals.models import Referral, ReferralStatus
from carebridge.referrals.selectors import (
    referral_documents,
    referral_for,
    referral_pack_for,
    referral_worklist,
    referrals_for_appointments,
)
from carebridge.scheduling.models import Appointment, AppointmentStatus, Slot
from carebridge.scheduling.selectors import free_slots

# How far ahead the booking page looks for free times, and how many it lists at most.
BOOKING_WEEKS = 6
BOOKING_MAX_SLOTS = 60
TRIAGEABLE = (ReferralStatus.NEW, ReferralStatus.INFO_REQUESTED)


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here is login_required)."""
    return cast(User, request.user)


def _workplace(user: User) -> Facility | None:
    if role_of(user) in CLINICAL_ROLES:
        return user.clinician.workplace
    staff = getattr(user, "staff_member", None)
    return staff.facility if staff is not None else None


def _at_receiving_hospital(
    request: HttpRequest, referral_id: uuid.UUID, action: Action, purpose: str, message: str = ""
) -> tuple[Actor, Referral, PatientAccess]:
    """The referral, if this person may see it (404 otherwise, audited) and take `action` at the hospital
    it was sent to (403 otherwise, audited as the service would)."""
    actor = Actor.from_request(request)
    referral, access = referral_for(actor=actor, public_id=referral_id, purpose=purpose)
    require_permitted(
        actor,
        access,
        action,
        AuditObject.REFERRAL,
        str(referral.public_id),
        facility_id=referral.receiving_facility_id,
        message=message,
        operation=purpose,
    )
    return actor, referral, access


# --- Words the hospital's pages share (and the front desk's check-in) --------------------------------------


def days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def wait_words(referral: Referral) -> str:
    """'Waited 10 days of the 28-day target', as every hospital page says it."""
    return f"Waited {days(referral.wait_days)} of the {referral.target_days}-day target"


def arrival_words(referral: Referral, appointment: Appointment) -> str:
    """What the front desk is told when a referred patient checks in: the referral's administrative facts
    only (it is cut for reception before it gets here) and who has the pack."""
    over = f" (over target by {days(referral.wait_days - referral.target_days)})" if referral.is_breached else ""
    return (
        f"Referral {referral.ubrn or 'without a UBRN (imported)'}: {referral.get_priority_display()}. "
        f"{wait_words(referral)}{over}. "
        f"The referral pack is with {appointment.clinician.display_name}."
    )


def referral_checked_in(request: HttpRequest, appointment: Appointment) -> None:
    """The check-in confirmation's note for an appointment a referral holds (nothing for any other)."""
    held = referrals_for_appointments([appointment.pk], viewer_of(_user(request))).get(appointment.pk)
    if held is not None:
        messages.info(request, arrival_words(held, appointment))


# --- The worklist ---------------------------------------------------------------------------------------


@require_GET
@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    service = request.GET.get("service", "").strip()[:100]
    # NotFound (audited) for anyone who does not work at a hospital: the page is not there for them.
    referrals, services_here = referral_worklist(actor=Actor.from_request(request), speciality=service)
    return render(
        request,
        "referrals/hospital/worklist.html",
        {
            "facility": _workplace(_user(request)),
            "referrals": referrals,
            "services": services_here,
            "service": service,
            "sees_clinical": viewer_of(_user(request)).sees_clinical,
        },
    )


# --- Triage -------------------------------------------------------------------------------------------------


def _consultants_at(facility_id: int) -> list[Clinician]:
    return list(
        Clinician.objects.filter(workplace_id=facility_id, title=ClinicianTitle.CONSULTANT).order_by(
            "last_name", "first_name"
        )
    )


@require_http_methods(["GET", "POST"])
@login_required
def triage(request: HttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    actor, referral, access = _at_receiving_hospital(request, referral_id, Action.TRIAGE, "triage a referral")
    form = TriageForm(
        request.POST if request.method == "POST" else None,
        current_priority=referral.priority,
        consultants=_consultants_at(referral.receiving_facility_id),
        initial={"consultant": str(referral.receiving_clinician.public_id) if referral.receiving_clinician else ""},
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                done = services.referral_triage(
                    actor=actor,
                    referral=referral,
                    decision=data["decision"],
                    text=data["text"],
                    priority=data["priority"] or None,
                    comment=data["comment"],
                    consultant=form.chosen_consultant(),
                )
            except Invalid as problem:
                add_to_form(form, problem)
            else:
                named = f"Referral {done.ubrn}" if done.ubrn else "The referral"
                messages.success(request, f"{named} triaged: {done.staff_words.lower()}.")
                return redirect("referrals:referral", referral_id=done.public_id)
    return render(
        request,
        "referrals/hospital/triage.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "documents": referral_documents(referral, access),
            "form": form,
            "triageable": referral.status in TRIAGEABLE,
            "max_text": services.MAX_TRIAGE_TEXT,
        },
        status=status,
    )


# --- Booking ------------------------------------------------------------------------------------------------


@dataclass
class _SlotDay:
    day: dt.date
    choices: list[BoundWidget] = field(default_factory=list)  # the form's radio choices for the slots on this day


def _free_slots_for(referral: Referral) -> list[Slot]:
    """The next free times with the named consultant, or else with any consultant of the referral's
    service at the hospital."""
    now = clock.now()
    slots = free_slots(
        facility_id=referral.receiving_facility_id,
        clinician_id=referral.receiving_clinician_id,
        starts_from=now,
        starts_before=now + dt.timedelta(weeks=BOOKING_WEEKS),
    )
    if referral.receiving_clinician_id is None:
        slots = slots.filter(clinician__title=ClinicianTitle.CONSULTANT)
        if referral.speciality:
            slots = slots.filter(clinician__speciality__iexact=referral.speciality)
    return list(slots[:BOOKING_MAX_SLOTS])


def _by_day(form: BookForm) -> list[_SlotDay]:
    grouped: list[_SlotDay] = []
    for choice in form["slot"]:
        day = slot_day(form.slots[str(choice.data["value"])])
        if not grouped or grouped[-1].day != day:
            grouped.append(_SlotDay(day))
        grouped[-1].choices.append(choice)
    return grouped


@require_http_methods(["GET", "POST"])
@login_required
def book(request: HttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    actor, referral, _access = _at_receiving_hospital(
        request,
        referral_id,
        Action.BOOK,
        "book a referral",
        message="Referral appointments are booked by the receiving hospital's appointments staff.",
    )
    bookable = referral.status == ReferralStatus.PENDING
    slots = _free_slots_for(referral) if bookable else []
    types = sorted({name for slot in slots for name in slot.appointment_types})
    form = BookForm(request.POST if request.method == "POST" else None, slots=slots, types=types)
    status = 200
    if request.method == "POST" and not bookable:
        status = Conflict.status  # the page says why: already booked, or not accepted yet
    elif request.method == "POST":
        status = 422
        if form.is_valid():
            slot = form.chosen_slot()
            assert slot is not None  # a valid choice is one of the slots listed
            try:
                done = services.referral_book(
                    actor=actor,
                    referral=referral,
                    slot=slot,
                    appointment_type=form.cleaned_data.get("appointment_type") or "",
                    reason=form.cleaned_data["reason"],
                )
            except (Invalid, Conflict) as problem:
                # A time taken by someone else a moment ago comes back with the list to choose again.
                add_to_form(form, problem)
                status = problem.status
            else:
                assert done.appointment is not None
                local = done.appointment.starts_at.astimezone(clock.LONDON)
                messages.success(
                    request,
                    f"Booked with {done.appointment.clinician.display_name} on {local:%A} {local.day} "
                    f"{local:%B %Y} at {local:%H:%M}. {referral.patient.full_name} is sent a confirmation.",
                )
                return redirect("referrals:referral", referral_id=done.public_id)
    return render(
        request,
        "referrals/hospital/book.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "form": form,
            "bookable": bookable,
            "days": _by_day(form),
            "weeks": BOOKING_WEEKS,
        },
        status=status,
    )


# --- Arrival: the pack, and the outcome ------------------------------------------------------------------------


def _patient_arrived(referral: Referral) -> bool:
    appointment = referral.appointment
    return (
        referral.status == ReferralStatus.IN_PROGRESS
        and appointment is not None
        and appointment.status in (AppointmentStatus.ARRIVED, AppointmentStatus.FULFILLED)
    )


@require_GET
@login_required
def pack(request: HttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    found = referral_pack_for(actor=Actor.from_request(request), public_id=referral_id)
    referral = found.referral
    may_record_outcome = _patient_arrived(referral) and permits(
        found.access, _user(request), Action.TRIAGE, facility_id=referral.receiving_facility_id
    )
    return render(
        request,
        "referrals/hospital/pack.html",
        {
            "pack": found,
            "referral": referral,
            "patient": referral.patient,
            "arrived": _patient_arrived(referral),
            "may_record_outcome": may_record_outcome,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def outcome(request: HttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    actor, referral, _access = _at_receiving_hospital(request, referral_id, Action.TRIAGE, "record an outcome")
    form = OutcomeForm(request.POST if request.method == "POST" else None)
    ready = _patient_arrived(referral)
    status = 200
    if request.method == "POST" and not ready:
        status = Conflict.status  # the page says why: not arrived yet, or already seen
    elif request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                done = services.referral_record_outcome(
                    actor=actor,
                    referral=referral,
                    outcome=form.cleaned_data["outcome"],
                    clinic_letter=form.cleaned_data["clinic_letter"],
                )
            except Invalid as problem:
                add_to_form(form, problem)
            else:
                messages.success(
                    request,
                    f"The outcome is recorded and the clinic letter has been sent to the GP at "
                    f"{done.referring_facility.name}.",
                )
                return redirect("referrals:referral", referral_id=done.public_id)
    return render(
        request,
        "referrals/hospital/outcome.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "form": form,
            "ready": ready,
            "max_outcome": services.MAX_TRIAGE_TEXT,
            "max_letter": services.MAX_SUMMARY,
        },
        status=status,
    )
