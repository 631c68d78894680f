"""The appointment pages.

Patients book, move and cancel their own appointments at their registered surgery; reception does the
same for any patient it may see, at its own facility, and works the day list; clinicians see their
day; facility managers keep the schedules. Each view looks up a patient's records through the access
layer (404 when they are not visible), calls one service, which checks what this person may do, then
redirects with a message or shows the page again with the service's refusal (422; 403 through the
refusal middleware when the person may see but not act). A page for a role that may not use it at all
(the day list, my day) answers 404, audited.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carebridge.access.rules import Action, PatientAccess, permits, viewer_of, visible_patients
from carebridge.access.selectors import patient_record_for, require_permitted
from carebridge.appointments.forms import (
    COMMON_APPOINTMENT_TYPES,
    BookingForm,
    CancelForm,
    CompleteForm,
    DayListForm,
    ExceptionForm,
    OpeningHoursForm,
    SessionEndForm,
    SessionForm,
    SlotSearchForm,
)
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial, audit_search
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, add_to_form
from carebridge.core.roles import ADMINISTRATIVE_ROLES, CLINICAL_ROLES, Role, role_of
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients import services as patient_services
from carebridge.patients.models import Patient
from carebridge.referrals.hospital_views import referral_checked_in
from carebridge.referrals.selectors import referrals_for_appointments
from carebridge.scheduling import selectors, services
from carebridge.scheduling.errors import SlotUnavailable
from carebridge.scheduling.models import Appointment, AppointmentStatus, ClinicianSession, Slot, Weekday
from carebridge.scheduling.selectors import appointment_for

# Reception and appointments, records and secretarial staff, and facility managers.
STAFF_ROLES = ADMINISTRATIVE_ROLES


# --- Who is asking ------------------------------------------------------------------------------------


def _refuse(
    request: HttpRequest, object_type: AuditObject, object_id: str = "", patient_id: int | None = None, **detail: str
) -> NoReturn:
    """Audit the refusal and answer 404, so a page nobody may use looks like one that is not there."""
    audit_denial(
        actor=Actor.from_request(request),
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        detail=detail or None,
    )
    raise Http404


def _require_role(request: HttpRequest, roles: frozenset[Role], object_type: AuditObject) -> Role:
    role = role_of(request.user)
    if role not in roles:
        _refuse(request, object_type, purpose=request.path)
    return role


def _staff_facility(user) -> Facility:
    return user.staff_member.facility


def _changeable(user, access: PatientAccess, appointment: Appointment, now: dt.datetime) -> bool:
    """Offer 'Change' and 'Cancel' only where the service would accept them (the access layer says who)."""
    return (
        appointment.status == AppointmentStatus.BOOKED
        and appointment.starts_at > now
        and permits(access, user, Action.MOVE, facility_id=appointment.facility_id)
    )


def _appointment_to_change(
    request: HttpRequest, appointment_id: uuid.UUID, purpose: str, action: Action
) -> tuple[Appointment, PatientAccess]:
    """The appointment, if this person may see it (404 otherwise) and take `action` on it (403 otherwise,
    audited as the service would: the form pages are refused before they are filled in)."""
    actor = Actor.from_request(request)
    appointment, access = appointment_for(actor=actor, public_id=appointment_id, purpose=purpose)
    require_permitted(
        actor,
        access,
        action,
        AuditObject.APPOINTMENT,
        str(appointment.public_id),
        facility_id=appointment.facility_id,
        clinician_id=appointment.clinician_id,
        operation=purpose,
    )
    return appointment, access


def _after_change_url(request: HttpRequest, appointment: Appointment) -> str:
    if role_of(request.user) == Role.PATIENT:
        return reverse("scheduling:mine")
    return reverse("records:record", args=[appointment.patient.public_id])


def _refusal_form(message: str) -> Form:
    """An empty form carrying one refusal, so the page shows it in the NHS.UK error summary."""
    form = Form(data={})
    form.is_valid()
    form.add_error(None, message)
    return form


def _when(moment: dt.datetime) -> str:
    local = moment.astimezone(clock.LONDON)
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"


# --- Free times: the slot list shared by booking and moving ------------------------------------------------


@dataclass(frozen=True)
class _FreeTime:
    """One free time as the list shows it: its time of day, its length and where choosing it leads."""

    time: str
    minutes: int
    link: str


@dataclass(frozen=True)
class _ClinicianTimes:
    name: str
    times: list[_FreeTime]


@dataclass(frozen=True)
class _SlotDay:
    day: dt.date
    clinicians: list[_ClinicianTimes]


@dataclass(frozen=True)
class _SlotPicker:
    """What the slot list is for: booking a patient, or moving one appointment."""

    facility: Facility
    page_url: str
    # Where choosing a slot (by its public ID) leads.
    confirm_url: Callable[[uuid.UUID], str]
    # None when the type is fixed (a moved appointment keeps its type).
    types: list[str] | None
    fixed_type: str
    context: dict[str, Any]


_SEARCH_FIELDS = ("clinician", "from_date", "appointment_type")


def _search_query(search: QueryDict) -> str:
    return urlencode({name: search[name] for name in _SEARCH_FIELDS if search.get(name)})


def _search_from(request: HttpRequest) -> QueryDict:
    """The slot search a page was reached from: the query string, or the form's hidden copy of it."""
    if request.method == "POST":
        return QueryDict(request.POST.get("search", ""))
    return request.GET


def _wants_fragment(request: HttpRequest) -> bool:
    """An htmx request for another day: answer only the free-times region. htmx restoring a page from
    history (its cache is off for these pages, hx-history="false") asks for the whole page."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def _slot_page(
    request: HttpRequest, picker: _SlotPicker, search: QueryDict, refusal: str = "", status: int = 200
) -> HttpResponse:
    """The free times of one day: the first day on or after the one asked for that has any, with links to
    the days with free times either side of it (plain links, which htmx turns into swaps of the list)."""
    clinicians = list(selectors.bookable_clinicians(facility_id=picker.facility.pk))
    form = SlotSearchForm(search, clinicians=clinicians, types=picker.types)
    asked_day = shown = previous_day = next_day = None
    previous_url = next_url = ""
    if form.is_valid():
        asked_day = form.cleaned_data["from_date"]
        chosen = form.cleaned_data["clinician"]
        narrowing = {
            "facility_id": picker.facility.pk,
            "clinician_id": next((c.pk for c in clinicians if str(c.public_id) == chosen), None) if chosen else None,
            "appointment_type": form.cleaned_data.get("appointment_type") or picker.fixed_type,
        }
        day = selectors.nearest_free_day(**narrowing, on_or_after=asked_day)
        # Every link onward carries the day shown as one value (even when it was typed into the three
        # boxes), so "That time has just been taken" brings the person back to this same day.
        search = search.copy()
        for part in ("day", "month", "year"):
            search.pop(f"from_date_{part}", None)
        search["from_date"] = (day or asked_day).isoformat()

        def page_for(other: dt.date) -> str:
            moved = search.copy()
            moved["from_date"] = other.isoformat()
            return f"{picker.page_url}?{_search_query(moved)}"

        if day is not None:
            slots = selectors.free_slots(
                **narrowing,
                starts_from=clock.london_datetime(day, dt.time.min),
                starts_before=clock.london_datetime(day + dt.timedelta(days=1), dt.time.min),
            )
            shown = _slot_day(day, slots, clinicians, picker.confirm_url, _search_query(search))
            next_day = selectors.nearest_free_day(**narrowing, on_or_after=day + dt.timedelta(days=1))
        previous_day = selectors.nearest_free_day(**narrowing, before=day or asked_day)
        previous_url = page_for(previous_day) if previous_day else ""
        next_url = page_for(next_day) if next_day else ""
    if refusal:
        form.add_error(None, refusal)
    fragment = _wants_fragment(request) and refusal == ""
    response = render(
        request,
        "scheduling/_free_times.html" if fragment else "scheduling/choose_slot.html",
        {
            **picker.context,
            "form": form,
            "fragment": fragment,
            "asked_day": asked_day,
            "shown": shown,
            "previous_day": previous_day,
            "previous_url": previous_url,
            "next_day": next_day,
            "next_url": next_url,
            "page_url": picker.page_url,
            "facility": picker.facility,
        },
        status=status,
    )
    # The same address answers a whole page or, to htmx, a part of one: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


# Stands for a slot's ID in a confirm address reversed once per list: a day can have hundreds of free
# times, and reversing an address for each cost more than the rest of the page.
_ANY_SLOT = uuid.UUID(int=0)


def _slot_day(
    day: dt.date,
    slots: QuerySet[Slot],
    clinicians: list[Clinician],
    confirm_url: Callable[[uuid.UUID], str],
    query: str,
) -> _SlotDay | None:
    """One day's free times, grouped by clinician in name order; None if they were all taken meanwhile.
    `clinicians` are the facility's bookable ones (every clinician with a free slot is among them)."""
    link_pattern = confirm_url(_ANY_SLOT) + (f"?{query}" if query else "")
    names = {clinician.pk: clinician.display_name for clinician in clinicians}
    by_clinician: dict[int, list[_FreeTime]] = {}
    # Plain rows, not model instances: the list needs four values of each slot.
    for public_id, starts_at, ends_at, clinician_id in slots.values_list(
        "public_id", "starts_at", "ends_at", "clinician_id"
    ):
        by_clinician.setdefault(clinician_id, []).append(
            _FreeTime(
                time=f"{starts_at.astimezone(clock.LONDON):%H:%M}",
                minutes=int((ends_at - starts_at).total_seconds() // 60),
                link=link_pattern.replace(str(_ANY_SLOT), str(public_id), 1),
            )
        )
    if not by_clinician:
        return None
    if by_clinician.keys() - names.keys():  # a clinician's first slots were made since the list was read
        clinicians = list(Clinician.objects.filter(pk__in=by_clinician).order_by("last_name", "first_name"))
        names = {clinician.pk: clinician.display_name for clinician in clinicians}
    in_name_order = [clinician.pk for clinician in clinicians if clinician.pk in by_clinician]
    return _SlotDay(day, [_ClinicianTimes(names[pk], by_clinician[pk]) for pk in in_name_order])


def _slot_at(request: HttpRequest, slot_id: uuid.UUID) -> Slot:
    # Slots are not patient data: any slot may be named, as in the APIs, and the booking service decides
    # who may take it (a slot at another facility is refused there, with the reason, and audited).
    slot = Slot.objects.select_related("clinician", "facility").filter(public_id=slot_id).first()
    if slot is None:
        _refuse(request, AuditObject.SLOT, str(slot_id))
    return slot


def _taken(slot: Slot) -> bool:
    """Held by someone or no longer offered; a time already passed is left for the service to explain."""
    return slot.starts_at > clock.now() and not selectors.slot_is_free(slot)


# --- Booking -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Booking:
    access: PatientAccess
    facility: Facility
    by_patient: bool

    @property
    def patient(self) -> Patient:
        return self.access.patient

    def slots_url(self) -> str:
        if self.by_patient:
            return reverse("scheduling:book")
        return reverse("scheduling:book_for", args=[self.patient.public_id])

    def confirm_url(self, slot_id: uuid.UUID) -> str:
        if self.by_patient:
            return reverse("scheduling:book_confirm", args=[slot_id])
        return reverse("scheduling:book_for_confirm", args=[self.patient.public_id, slot_id])

    def done_url(self) -> str:
        return (
            reverse("scheduling:mine") if self.by_patient else reverse("records:record", args=[self.patient.public_id])
        )


def _booking_for(request: HttpRequest, patient_id: uuid.UUID | None) -> _Booking:
    """A patient books for themself at their surgery; staff book for a patient they may see, at their facility.
    Whether this person may book there is the access layer's answer: 403 (audited) when they may not."""
    actor = Actor.from_request(request)
    if patient_id is None:
        _require_role(request, frozenset({Role.PATIENT}), AuditObject.APPOINTMENT_BOOKING)
        access = patient_record_for(
            actor=actor, public_id=request.user.patient.public_id, purpose="book an appointment"
        )
        return _Booking(access, access.patient.registered_surgery, by_patient=True)
    access = patient_record_for(actor=actor, public_id=patient_id, purpose="book an appointment")
    require_permitted(
        actor,
        access,
        Action.BOOK,
        AuditObject.APPOINTMENT,
        facility_id=access.facility_id,
        operation="book an appointment",
    )
    return _Booking(access, _staff_facility(request.user), by_patient=False)


def _booking_picker(booking: _Booking) -> _SlotPicker:
    return _SlotPicker(
        facility=booking.facility,
        page_url=booking.slots_url(),
        confirm_url=booking.confirm_url,
        types=selectors.offered_appointment_types(facility_id=booking.facility.pk),
        fixed_type="",
        context={
            "booking": booking,
            "patient": booking.patient,
            "by_patient": booking.by_patient,
            "back_url": booking.done_url(),
        },
    )


# What was typed for a booking whose time was taken meanwhile, kept for the next time chosen so the person
# need not type it again. In the session, not in the address: the reason is about the patient's health.
_TYPED_BOOKING_KEY = "scheduling.typed_booking"


def _keep_typed_booking(request: HttpRequest, booking: _Booking, typed: dict[str, Any] | None) -> None:
    if typed is None:
        request.session.pop(_TYPED_BOOKING_KEY, None)
        return
    request.session[_TYPED_BOOKING_KEY] = {
        "patient": str(booking.patient.public_id),
        "appointment_type": typed.get("appointment_type", ""),
        "reason": typed.get("reason", ""),
    }


def _typed_booking(request: HttpRequest, booking: _Booking) -> dict[str, str]:
    typed = request.session.get(_TYPED_BOOKING_KEY) or {}
    return typed if typed.get("patient") == str(booking.patient.public_id) else {}


@require_GET
@login_required
def book(request: HttpRequest, patient_id: uuid.UUID | None = None) -> HttpResponse:
    booking = _booking_for(request, patient_id)
    return _slot_page(request, _booking_picker(booking), request.GET)


@require_http_methods(["GET", "POST"])
@login_required
def book_confirm(request: HttpRequest, slot_id: uuid.UUID, patient_id: uuid.UUID | None = None) -> HttpResponse:
    booking = _booking_for(request, patient_id)
    slot = _slot_at(request, slot_id)
    picker = _booking_picker(booking)
    search = _search_from(request)
    if request.method == "GET" and _taken(slot):
        return _slot_page(request, picker, search, refusal=SlotUnavailable().message)
    typed_before = _typed_booking(request, booking)
    form = BookingForm(
        request.POST if request.method == "POST" else None,
        types=slot.appointment_types or COMMON_APPOINTMENT_TYPES,
        initial_type=typed_before.get("appointment_type") or search.get("appointment_type", ""),
        initial_reason=typed_before.get("reason", ""),
    )
    # A form sent back with something to correct answers 422, as the APIs do for the same mistake.
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.appointment_book(
                actor=Actor.from_request(request),
                patient=booking.patient,
                slot=slot,
                appointment_type=form.cleaned_data["appointment_type"],
                reason=form.cleaned_data["reason"],
            )
        except SlotUnavailable as taken:
            _keep_typed_booking(request, booking, form.cleaned_data)
            return _slot_page(request, picker, search, refusal=taken.message, status=taken.status)
        except Invalid as problem:
            add_to_form(form, problem)
            status = problem.status
        else:
            _keep_typed_booking(request, booking, None)
            who = "Your" if booking.by_patient else f"{booking.patient.full_name}'s"
            messages.success(
                request,
                f"{who} appointment is booked for {_when(appointment.starts_at)} "
                f"with {appointment.clinician.display_name}.",
            )
            return redirect(booking.done_url())
    query = _search_query(search)
    return render(
        request,
        "scheduling/book_confirm.html",
        {
            "booking": booking,
            "patient": booking.patient,
            "by_patient": booking.by_patient,
            "slot": slot,
            "form": form,
            "search": query,
            "choose_again_url": f"{booking.slots_url()}?{query}" if query else booking.slots_url(),
        },
        status=status,
    )


# --- Moving and cancelling ------------------------------------------------------------------------------


def _move_picker(request: HttpRequest, appointment: Appointment) -> _SlotPicker:
    return _SlotPicker(
        facility=appointment.facility,
        page_url=reverse("scheduling:move", args=[appointment.public_id]),
        confirm_url=lambda slot_id: reverse("scheduling:move_confirm", args=[appointment.public_id, slot_id]),
        types=None,
        fixed_type=appointment.appointment_type,
        context={
            "appointment": appointment,
            "patient": appointment.patient,
            "by_patient": role_of(request.user) == Role.PATIENT,
            "back_url": _after_change_url(request, appointment),
        },
    )


@require_GET
@login_required
def move(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    appointment, _ = _appointment_to_change(
        request, appointment_id, purpose="change an appointment", action=Action.MOVE
    )
    return _slot_page(request, _move_picker(request, appointment), request.GET)


@require_http_methods(["GET", "POST"])
@login_required
def move_confirm(request: HttpRequest, appointment_id: uuid.UUID, slot_id: uuid.UUID) -> HttpResponse:
    appointment, _ = _appointment_to_change(
        request, appointment_id, purpose="change an appointment", action=Action.MOVE
    )
    new_slot = _slot_at(request, slot_id)
    picker = _move_picker(request, appointment)
    search = _search_from(request)
    if request.method == "GET" and _taken(new_slot):
        return _slot_page(request, picker, search, refusal=SlotUnavailable().message)
    form = None
    status = 200
    if request.method == "POST":
        try:
            moved = services.appointment_move(
                actor=Actor.from_request(request), appointment=appointment, new_slot=new_slot
            )
        except SlotUnavailable as taken:
            return _slot_page(request, picker, search, refusal=taken.message, status=taken.status)
        except Invalid as problem:
            form = _refusal_form(problem.message)
            status = problem.status
        else:
            messages.success(
                request, f"The appointment has moved to {_when(moved.starts_at)} with {moved.clinician.display_name}."
            )
            return redirect(_after_change_url(request, moved))
    query = _search_query(search)
    return render(
        request,
        "scheduling/move_confirm.html",
        {
            "appointment": appointment,
            "patient": appointment.patient,
            "slot": new_slot,
            "form": form,
            "search": query,
            "by_patient": role_of(request.user) == Role.PATIENT,
            "choose_again_url": f"{picker.page_url}?{query}" if query else picker.page_url,
            "back_url": _after_change_url(request, appointment),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def cancel(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    appointment, _ = _appointment_to_change(
        request, appointment_id, purpose="cancel an appointment", action=Action.CANCEL
    )
    form = CancelForm(request.POST or None)
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_cancel(
                actor=Actor.from_request(request), appointment=appointment, reason=form.cleaned_data["reason"]
            )
        except Invalid as problem:
            add_to_form(form, problem)
        else:
            messages.success(request, f"The appointment on {_when(appointment.starts_at)} is cancelled.")
            return redirect(_after_change_url(request, appointment))
    return render(
        request,
        "scheduling/cancel.html",
        {
            "appointment": appointment,
            "patient": appointment.patient,
            "form": form,
            "by_patient": role_of(request.user) == Role.PATIENT,
            "back_url": _after_change_url(request, appointment),
        },
        status=status,
    )


# --- The patient's own appointments ------------------------------------------------------------------------


@require_GET
@login_required
def mine(request: HttpRequest) -> HttpResponse:
    _require_role(request, frozenset({Role.PATIENT}), AuditObject.OWN_APPOINTMENTS)
    access = patient_record_for(
        actor=Actor.from_request(request), public_id=request.user.patient.public_id, purpose="own appointments"
    )
    now = clock.now()
    upcoming, past = [], []
    for appointment in selectors.patient_appointments(access.patient.pk):
        still_to_come = appointment.ends_at > now and appointment.status in (
            AppointmentStatus.BOOKED,
            AppointmentStatus.ARRIVED,
        )
        (upcoming if still_to_come else past).append(appointment)
    upcoming.reverse()  # soonest first; the past stays most recent first
    return render(
        request,
        "scheduling/mine.html",
        {
            "patient": access.patient,
            "upcoming": upcoming,
            "past": past,
            "changeable": {
                appointment.pk for appointment in upcoming if _changeable(request.user, access, appointment, now)
            },
        },
    )


def record_appointments_panel(user, access: PatientAccess) -> dict[str, Any]:
    """What the patient record page offers about appointments to this viewer: booking, changing and
    cancelling, and (reception at the patient's surgery) the invitation to the portal."""
    role = role_of(user)
    patient = access.patient
    panel: dict[str, Any] = {"book_url": "", "mine_url": "", "changeable": set(), "invite_url": "", "portal_state": ""}
    if role == Role.PATIENT and access.is_own_record:
        panel["book_url"] = reverse("scheduling:book")
        panel["mine_url"] = reverse("scheduling:mine")
    elif role in STAFF_ROLES:
        panel["book_url"] = reverse("scheduling:book_for", args=[patient.public_id])
        if user.staff_member.facility_id == patient.registered_surgery_id:
            login = patient.user
            if login is None or (login.is_active and not login.has_usable_password()):
                panel["invite_url"] = reverse("scheduling:invite", args=[patient.public_id])
                panel["portal_state"] = "invited" if login is not None else "none"
            else:
                panel["portal_state"] = "active" if login.is_active else "closed"
    else:
        return panel
    now = clock.now()
    upcoming = Appointment.objects.filter(
        patient=patient, status=AppointmentStatus.BOOKED, starts_at__gt=now
    ).select_related("patient")
    panel["changeable"] = {appointment.pk for appointment in upcoming if _changeable(user, access, appointment, now)}
    return panel


# --- Reception: the day list, check-in and did-not-attend ---------------------------------------------------


def _list_audited(
    request: HttpRequest, object_type: AuditObject, facility: Facility, appointments: list[Appointment], **criteria: str
) -> None:
    """A list of patients' appointments is recorded against each patient on it, as the patient search is."""
    audit_search(
        actor=Actor.from_request(request),
        object_type=object_type,
        object_id=str(facility.public_id),
        criteria=criteria,
        patient_ids=[appointment.patient_id for appointment in appointments],
    )


def _only_visible(request: HttpRequest, appointments: QuerySet[Appointment]) -> QuerySet[Appointment]:
    """The appointments whose patients this person may see. The access rule is asked of each appointment's
    own patient: asked as "among every patient this person may see", the database worked through all of a
    large practice's patients for each list, a quarter of a second for one day's."""
    own_patient = Patient.objects.filter(pk=OuterRef("patient_id"))
    return appointments.filter(Exists(visible_patients(own_patient, request.user)))


def _visible(request: HttpRequest, appointments: QuerySet[Appointment]) -> list[Appointment]:
    return list(_only_visible(request, appointments))


def _render_day_list(request: HttpRequest, form: DayListForm, refusal: str = "", status: int = 200) -> HttpResponse:
    facility = _staff_facility(request.user)
    day = form.day()
    chosen = form.clinician_public_id()
    clinician = Clinician.objects.filter(public_id=chosen, workplace=facility).first() if chosen else None
    appointments = _visible(
        request, selectors.day_list(facility_id=facility.pk, day=day, clinician_id=clinician.pk if clinician else None)
    )
    rebooking = _visible(request, selectors.appointments_needing_rebooking(facility_id=facility.pk))
    _list_audited(
        request, AuditObject.DAY_LIST, facility, appointments + rebooking, date=day.isoformat(), clinician=chosen
    )
    now, today = clock.now(), clock.today()
    rows = [
        {
            "appointment": appointment,
            "can_check_in": appointment.status == AppointmentStatus.BOOKED and day == today,
            "can_mark_no_show": appointment.status == AppointmentStatus.BOOKED and appointment.starts_at <= now,
            "can_undo": _undoable_today(appointment, (AppointmentStatus.ARRIVED, AppointmentStatus.NOSHOW)),
        }
        for appointment in appointments
    ]
    if refusal:
        form.add_error(None, refusal)
    return render(
        request,
        "scheduling/day_list.html",
        {
            "facility": facility,
            "form": form,
            "day": day,
            "clinician": clinician,
            "rows": rows,
            "rebooking": rebooking,
            **_to_close_count(facility),
            "is_today": day == today,
            "list_query": urlencode({"date": day.isoformat(), **({"clinician": chosen} if chosen else {})}),
        },
        status=status,
    )


def _to_close_count(facility: Facility) -> dict[str, Any]:
    """How many earlier appointments wait for an outcome, for the day list's notice: counted up to
    TO_CLOSE_COUNTED, as the list itself does."""
    waiting = selectors.appointments_to_close(facility_id=facility.pk)[: TO_CLOSE_COUNTED + 1].count()
    words = f"More than {TO_CLOSE_COUNTED:,}" if waiting > TO_CLOSE_COUNTED else str(waiting)
    return {"to_close": waiting, "to_close_words": words}


def _clinicians_at(facility: Facility):
    return Clinician.objects.filter(workplace=facility).order_by("last_name", "first_name")


@require_GET
@login_required
def day(request: HttpRequest) -> HttpResponse:
    _require_role(request, STAFF_ROLES, AuditObject.DAY_LIST)
    form = DayListForm(request.GET, clinicians=_clinicians_at(_staff_facility(request.user)))
    return _render_day_list(request, form)


def _front_desk_action(
    request: HttpRequest,
    appointment_id: uuid.UUID,
    *,
    purpose: str,
    change: Callable[..., Appointment],
    done: str,
    then: Callable[[HttpRequest, Appointment], None] | None = None,
) -> HttpResponse:
    # Who may check in or record a missed appointment is the service's question (403 for anyone else).
    appointment, _ = appointment_for(actor=Actor.from_request(request), public_id=appointment_id, purpose=purpose)
    try:
        change(actor=Actor.from_request(request), appointment=appointment)
    except Invalid as problem:
        form = DayListForm(request.POST, clinicians=_clinicians_at(_staff_facility(request.user)))
        return _render_day_list(request, form, refusal=problem.message, status=problem.status)
    form = DayListForm(request.POST, clinicians=_clinicians_at(_staff_facility(request.user)))
    messages.success(
        request,
        done.format(name=appointment.patient.full_name, time=f"{appointment.starts_at.astimezone(clock.LONDON):%H:%M}"),
    )
    if then is not None:
        then(request, appointment)
    back_to = urlencode({"date": form.day().isoformat(), "clinician": form.clinician_public_id()})
    return redirect(f"{reverse('scheduling:day')}?{back_to}")


@require_POST
@login_required
def check_in(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    return _front_desk_action(
        request,
        appointment_id,
        purpose="check in",
        change=services.appointment_check_in,
        done="{name} is checked in for {time}.",
        # A referred patient: the referral's administrative facts, and who has its pack.
        then=referral_checked_in,
    )


@require_POST
@login_required
def no_show(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    return _front_desk_action(
        request,
        appointment_id,
        purpose="did not attend",
        change=services.appointment_mark_no_show,
        done="{name} is recorded as not attending at {time}.",
    )


# --- Clinicians: my day -------------------------------------------------------------------------------


def _render_my_day(request: HttpRequest, form: DayListForm, refusal: str = "", status: int = 200) -> HttpResponse:
    clinician = request.user.clinician
    day = form.day()
    appointments = _visible(
        request, selectors.day_list(facility_id=clinician.workplace_id, day=day, clinician_id=clinician.pk)
    )
    _list_audited(request, AuditObject.CLINICIAN_DAY, clinician.workplace, appointments, date=day.isoformat())
    # The referral each appointment is for, if any (one query for the list): its priority, wait and pack.
    referrals = referrals_for_appointments([appointment.pk for appointment in appointments], viewer_of(request.user))
    today = clock.today()
    rows = [
        {
            "appointment": appointment,
            "referral": referrals.get(appointment.pk),
            "can_complete": appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)
            and day == today,
            "can_undo": _undoable_today(appointment, (AppointmentStatus.FULFILLED,)),
        }
        for appointment in appointments
    ]
    if refusal:
        form.add_error(None, refusal)
    return render(
        request,
        "scheduling/my_day.html",
        {
            "clinician": clinician,
            "form": form,
            "day": day,
            "rows": rows,
            "is_today": day == today,
        },
        status=status,
    )


@require_GET
@login_required
def my_day(request: HttpRequest) -> HttpResponse:
    _require_role(request, CLINICAL_ROLES, AuditObject.CLINICIAN_DAY)
    return _render_my_day(request, DayListForm(request.GET))


@require_http_methods(["GET", "POST"])
@login_required
def complete(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Mark done. A checked-in patient's appointment is done in one press on My day; one the patient was
    never checked in for asks why first (this page), and the service will not take it without."""
    # Only the appointment's clinician may: the service says so (403) to anyone else, and the form is not
    # offered to them either.
    if request.method == "POST":
        appointment, _ = appointment_for(
            actor=Actor.from_request(request), public_id=appointment_id, purpose="mark done"
        )
    else:
        appointment, _ = _appointment_to_change(request, appointment_id, purpose="mark done", action=Action.COMPLETE)
    day_form = DayListForm(request.POST if request.method == "POST" else request.GET)
    form = CompleteForm(request.POST if request.method == "POST" and "reason" in request.POST else None)
    status = 200
    if request.method == "POST":
        reason = form.cleaned_data["reason"] if form.is_bound and form.is_valid() else ""
        try:
            services.appointment_complete(actor=Actor.from_request(request), appointment=appointment, reason=reason)
        except Invalid as problem:
            if "reason" not in problem.fields:
                return _render_my_day(request, day_form, refusal=problem.message, status=problem.status)
            form = CompleteForm(request.POST)
            form.is_valid()
            add_to_form(form, problem)
            status = problem.status
        else:
            messages.success(request, f"The appointment with {appointment.patient.full_name} is marked as done.")
            return redirect(f"{reverse('scheduling:my_day')}?{urlencode({'date': day_form.day().isoformat()})}")
    elif appointment.status != AppointmentStatus.BOOKED:
        # Checked in already: nothing to ask, the button on My day does it.
        return redirect(f"{reverse('scheduling:my_day')}?{urlencode({'date': day_form.day().isoformat()})}")
    return render(
        request,
        "scheduling/complete.html",
        {"appointment": appointment, "patient": appointment.patient, "form": form, "day": day_form.day()},
        status=status,
    )


# --- Taking back an outcome, and closing earlier days ---------------------------------------------------------


def _undoable_today(appointment: Appointment, statuses: tuple[str, ...]) -> bool:
    recorded = appointment.outcome_recorded_at
    return (
        appointment.status in statuses
        and recorded is not None
        and recorded.astimezone(clock.LONDON).date() == clock.today()
    )


_UNDONE_WORDS = {
    AppointmentStatus.ARRIVED: "The check-in of {name} is undone.",
    AppointmentStatus.NOSHOW: "{name} is no longer recorded as not attending.",
    AppointmentStatus.FULFILLED: "The appointment with {name} is no longer marked as done.",
}


@require_POST
@login_required
def undo_outcome(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Take back a check-in, did-not-attend or done recorded today. Back to the list it was pressed on."""
    actor = Actor.from_request(request)
    appointment, _ = appointment_for(actor=actor, public_id=appointment_id, purpose="undo an outcome")
    was = appointment.status
    back_to_my_day = request.POST.get("from") == "my-day"
    back_to_close = request.POST.get("from") == "to-close"
    try:
        services.appointment_undo_outcome(actor=actor, appointment=appointment)
    except Invalid as problem:
        if back_to_my_day:
            return _render_my_day(request, DayListForm(request.POST), refusal=problem.message, status=problem.status)
        if back_to_close:
            return _render_to_close(request, refusal=problem.message, status=problem.status)
        form = DayListForm(request.POST, clinicians=_clinicians_at(_staff_facility(request.user)))
        return _render_day_list(request, form, refusal=problem.message, status=problem.status)
    messages.success(request, _UNDONE_WORDS.get(was, "Undone.").format(name=appointment.patient.full_name))
    if back_to_close:
        return redirect("scheduling:to_close")
    form = DayListForm(request.POST)
    if back_to_my_day:
        return redirect(f"{reverse('scheduling:my_day')}?{urlencode({'date': form.day().isoformat()})}")
    query = urlencode({"date": form.day().isoformat(), "clinician": request.POST.get("clinician", "")})
    return redirect(f"{reverse('scheduling:day')}?{query}")


# How many of a facility's unclosed appointments one page shows; the rest wait for the next. Each row is two
# forms, and 200 of them took a third of a second to draw.
TO_CLOSE_PAGE = 50
# Counted no further than this: a practice that brought years of history may have thousands without an
# outcome, and counting them all for one sentence cost more than the rest of the page.
TO_CLOSE_COUNTED = 200


def _render_to_close(request: HttpRequest, refusal: str = "", status: int = 200) -> HttpResponse:
    facility = _staff_facility(request.user)
    waiting = _only_visible(request, selectors.appointments_to_close(facility_id=facility.pk))
    appointments = list(waiting[:TO_CLOSE_PAGE])
    _list_audited(request, AuditObject.DAY_LIST, facility, appointments, list="to close")
    total = waiting[: TO_CLOSE_COUNTED + 1].count() if len(appointments) == TO_CLOSE_PAGE else len(appointments)
    if total <= len(appointments):
        total_words = ""
    else:
        total_words = f"more than {TO_CLOSE_COUNTED:,}" if total > TO_CLOSE_COUNTED else f"{total:,}"
    return render(
        request,
        "scheduling/to_close.html",
        {
            "facility": facility,
            "appointments": appointments,
            "total_words": total_words,
            "form": _refusal_form(refusal) if refusal else None,
            "recent": _closed_today(request, facility),
        },
        status=status,
    )


def _closed_today(request: HttpRequest, facility: Facility) -> list[Appointment]:
    """Earlier days' appointments closed today, so a mistake can be taken back while the day lasts."""
    start_of_today = clock.london_datetime(clock.today(), dt.time.min)
    closed = Appointment.objects.filter(
        facility=facility,
        starts_at__lt=start_of_today,
        outcome_recorded_at__gte=start_of_today,
        status__in=(AppointmentStatus.FULFILLED, AppointmentStatus.NOSHOW),
    ).select_related("patient", "clinician")
    return _visible(request, closed.order_by("-outcome_recorded_at"))


@require_GET
@login_required
def to_close(request: HttpRequest) -> HttpResponse:
    """Reception's list of earlier days' appointments with no outcome, to record what happened."""
    _require_role(request, STAFF_ROLES, AuditObject.DAY_LIST)
    return _render_to_close(request)


@require_POST
@login_required
def close_appointment(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Record an earlier day's outcome: attended, or did not attend."""
    _require_role(request, STAFF_ROLES, AuditObject.DAY_LIST)
    actor = Actor.from_request(request)
    appointment, _ = appointment_for(actor=actor, public_id=appointment_id, purpose="close an appointment")
    attended = request.POST.get("outcome") == "attended"
    change = services.appointment_record_attended if attended else services.appointment_mark_no_show
    try:
        change(actor=actor, appointment=appointment)
    except Invalid as problem:
        return _render_to_close(request, refusal=problem.message, status=problem.status)
    when = _when(appointment.starts_at)
    name = appointment.patient.full_name
    messages.success(
        request,
        f"{name}'s appointment on {when} is recorded as attended."
        if attended
        else f"{name} is recorded as not attending on {when}.",
    )
    return redirect("scheduling:to_close")


# --- Facility managers: schedules ---------------------------------------------------------------------------


def _managed_facility(request: HttpRequest) -> Facility:
    _require_role(request, frozenset({Role.FACILITY_MANAGER}), AuditObject.SCHEDULES)
    return _staff_facility(request.user)


def _current_opening(facility: Facility) -> dict[int, list[tuple[dt.time, dt.time]]]:
    hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for row in selectors.facility_opening_times(facility_id=facility.pk):
        hours.setdefault(row.weekday, []).append((row.opens, row.closes))
    return hours


@require_GET
@login_required
def schedules(request: HttpRequest) -> HttpResponse:
    facility = _managed_facility(request)
    opening = _current_opening(facility)
    sessions = list(selectors.facility_sessions(facility_id=facility.pk))
    clinicians = [
        (clinician, [s for s in sessions if s.clinician_id == clinician.pk]) for clinician in _clinicians_at(facility)
    ]
    rebooking = _visible(request, selectors.appointments_needing_rebooking(facility_id=facility.pk))
    _list_audited(request, AuditObject.REBOOKING_LIST, facility, rebooking)
    return render(
        request,
        "scheduling/schedules.html",
        {
            "facility": facility,
            "opening": [(label, opening.get(weekday, [])) for weekday, label in Weekday.choices],
            "clinicians": clinicians,
            "exceptions": selectors.facility_exceptions(facility_id=facility.pk),
            "rebooking": rebooking,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def opening_hours(request: HttpRequest) -> HttpResponse:
    facility = _managed_facility(request)
    form = OpeningHoursForm(request.POST or None, current=_current_opening(facility))
    if request.method == "POST" and form.is_valid():
        try:
            services.opening_hours_set(actor=Actor.from_request(request), facility=facility, hours=form.hours)
        except Invalid as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(
                request, f"The opening hours of {facility.name} are saved. Clinicians' free times now follow them."
            )
            return redirect("scheduling:schedules")
    return render(request, "scheduling/opening_hours.html", {"facility": facility, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def session_add(request: HttpRequest) -> HttpResponse:
    facility = _managed_facility(request)
    clinicians = list(_clinicians_at(facility))
    form = SessionForm(request.POST or None, clinicians=clinicians, initial_clinician=request.GET.get("clinician", ""))
    if request.method == "POST" and form.is_valid():
        clinician = next(c for c in clinicians if str(c.public_id) == form.cleaned_data["clinician"])
        try:
            session = services.session_add(
                actor=Actor.from_request(request),
                clinician=clinician,
                weekday=form.cleaned_data["weekday"],
                start_time=form.cleaned_data["start_time"],
                end_time=form.cleaned_data["end_time"],
                slot_minutes=form.cleaned_data["slot_minutes"],
                appointment_types=form.types(),
                valid_from=form.cleaned_data["valid_from"],
            )
        except Invalid as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(
                request,
                f"{clinician.display_name} now works {session.get_weekday_display()}s "
                f"{session.start_time:%H:%M}-{session.end_time:%H:%M}.",
            )
            return redirect("scheduling:schedules")
    return render(request, "scheduling/session_add.html", {"facility": facility, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def session_end(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    facility = _managed_facility(request)
    session = (
        ClinicianSession.objects.select_related("clinician").filter(public_id=session_id, facility=facility).first()
    )
    if session is None:
        _refuse(request, AuditObject.SESSION, str(session_id))
    form = SessionEndForm(request.POST or None, initial={"last_day": clock.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.session_end(
                actor=Actor.from_request(request), session=session, last_day=form.cleaned_data["last_day"]
            )
        except Invalid as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(
                request,
                f"{session.clinician.display_name}'s {session} session ends after "
                f"{form.cleaned_data['last_day']:%-d %B %Y}. Booked appointments after "
                "that are listed for rebooking.",
            )
            return redirect("scheduling:schedules")
    return render(request, "scheduling/session_end.html", {"facility": facility, "session": session, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def exception_add(request: HttpRequest) -> HttpResponse:
    facility = _managed_facility(request)
    clinicians = list(_clinicians_at(facility))
    form = ExceptionForm(request.POST or None, clinicians=clinicians)
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["clinician"]
        clinician = next((c for c in clinicians if str(c.public_id) == chosen), None)
        starts_at, ends_at = form.interval()
        try:
            services.exception_add(
                actor=Actor.from_request(request),
                facility=facility,
                clinician=clinician,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=form.cleaned_data["reason"],
            )
        except Invalid as refusal:
            form.add_error(None, refusal.message)
        else:
            who = clinician.display_name if clinician else facility.name
            messages.success(
                request, f"Time off for {who} is saved. Booked appointments in it are listed for rebooking."
            )
            return redirect("scheduling:schedules")
    return render(request, "scheduling/exception_add.html", {"facility": facility, "form": form})


# --- Reception: invite a patient to the portal --------------------------------------------------------------


@require_POST
@login_required
def invite(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    _require_role(request, STAFF_ROLES, AuditObject.PORTAL_INVITATION)
    access = patient_record_for(actor=Actor.from_request(request), public_id=patient_id, purpose="portal invitation")
    try:
        login = patient_services.patient_portal_invite(actor=Actor.from_request(request), patient=access.patient)
    except Invalid as refusal:
        return render(
            request,
            "scheduling/invite_refused.html",
            {
                "patient": access.patient,
                "form": _refusal_form(refusal.message),
            },
            status=refusal.status,
        )
    messages.success(
        request,
        f"An invitation to the portal is on its way to {access.patient.email}. Their username is {login.username}.",
    )
    return redirect("records:record", public_id=access.patient.public_id)
