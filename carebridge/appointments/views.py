"""The appointment pages.

Patients book, move and cancel their own appointments at their registered surgery; reception does the
same for any patient it may see, at its own facility, and works the day list; clinicians see their
day; facility managers keep the schedules. Each view looks up, checks access (records.access for
anything about a patient), calls one service, then redirects with a message or shows the page again
with the service's refusal. A page for a role that may not use it answers 404, audited.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carebridge.core.roles import ADMINISTRATIVE_ROLES, CLINICAL_ROLES, Role, role_of
from carebridge.audit.models import AuditAction
from carebridge.audit.services import audit_denial, audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients import services as patient_services
from carebridge.patients.models import Patient
from carebridge.records.access import PatientRecordAccess, appointment_for, patient_record_for, visible_patients
from carebridge.scheduling import selectors, services
from carebridge.scheduling.errors import SchedulingRefused, SlotUnavailable
from carebridge.appointments.forms import (
    COMMON_APPOINTMENT_TYPES,
    BookingForm,
    CancelForm,
    DayListForm,
    ExceptionForm,
    OpeningHoursForm,
    SessionEndForm,
    SessionForm,
    SlotSearchForm,
)
from carebridge.scheduling.models import Appointment, AppointmentStatus, ClinicianSession, Slot, Weekday

# Reception and appointments, records and secretarial staff, and facility managers.
STAFF_ROLES = ADMINISTRATIVE_ROLES
# How many days of free times one page of the slot list shows.
SLOT_PAGE_DAYS = 7


# --- Who is asking ------------------------------------------------------------------------------------

def _refuse(request: HttpRequest, object_type: str, object_id: str = "", patient_id: int | None = None,
            **detail: str) -> NoReturn:
    """Audit the refusal and answer 404, so a page nobody may use looks like one that is not there."""
    audit_denial(actor=Actor.from_request(request), object_type=object_type, object_id=object_id,
                 patient_id=patient_id, detail=detail or None)
    raise Http404


def _require_role(request: HttpRequest, roles: frozenset[Role], object_type: str) -> Role:
    role = role_of(request.user)
    if role not in roles:
        _refuse(request, object_type, purpose=request.path)
    return role


def _staff_facility(user) -> Facility:
    return user.staff_member.facility


def _may_change(user, appointment: Appointment) -> bool:
    """Whose appointment this actor may move or cancel: the patient's own at their surgery, or
    reception's at its facility. Whether it can still be changed is for the service to say."""
    role = role_of(user)
    if role == Role.PATIENT:
        patient = appointment.patient
        return patient.user_id == user.pk and appointment.facility_id == patient.registered_surgery_id
    if role in STAFF_ROLES:
        return appointment.facility_id == user.staff_member.facility_id
    return False


def _changeable(user, appointment: Appointment, now: dt.datetime) -> bool:
    """Offer 'Change' and 'Cancel' only where the service would accept them."""
    return (appointment.status == AppointmentStatus.BOOKED and appointment.starts_at > now
            and _may_change(user, appointment))


def _appointment_to_change(request: HttpRequest, appointment_id: uuid.UUID,
                           purpose: str) -> tuple[Appointment, PatientRecordAccess]:
    if role_of(request.user) != Role.PATIENT and role_of(request.user) not in STAFF_ROLES:
        _refuse(request, "appointment", str(appointment_id), purpose=purpose)
    appointment, access = appointment_for(actor=Actor.from_request(request), public_id=appointment_id,
                                          purpose=purpose)
    if not _may_change(request.user, appointment):
        _refuse(request, "appointment", str(appointment.public_id), patient_id=appointment.patient_id,
                purpose=purpose)
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

@dataclass
class _SlotDay:
    day: dt.date
    clinicians: list[tuple[Clinician, list[tuple[Slot, str]]]] = field(default_factory=list)


@dataclass(frozen=True)
class _SlotPicker:
    """What the slot list is for: booking a patient, or moving one appointment."""

    facility: Facility
    page_url: str
    confirm_url: Callable[[Slot], str]
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


def _slot_page(request: HttpRequest, picker: _SlotPicker, search: QueryDict, refusal: str = "") -> HttpResponse:
    clinicians = list(selectors.bookable_clinicians(facility_id=picker.facility.pk))
    form = SlotSearchForm(search, clinicians=clinicians, types=picker.types)
    days: list[_SlotDay] = []
    earlier_url = later_url = ""
    if form.is_valid():
        first_day = form.cleaned_data["from_date"]
        chosen = form.cleaned_data["clinician"]
        clinician_id = next((c.pk for c in clinicians if str(c.public_id) == chosen), None) if chosen else None
        slots = selectors.free_slots(
            facility_id=picker.facility.pk, clinician_id=clinician_id,
            starts_from=clock.london_datetime(first_day, dt.time.min),
            starts_before=clock.london_datetime(first_day + dt.timedelta(days=SLOT_PAGE_DAYS), dt.time.min),
            appointment_type=form.cleaned_data.get("appointment_type") or picker.fixed_type)
        query = _search_query(search)
        days = _slots_by_day(slots, lambda slot: f"{picker.confirm_url(slot)}?{query}" if query
                             else picker.confirm_url(slot))

        def page_from(day: dt.date) -> str:
            moved = search.copy()
            moved["from_date"] = day.isoformat()
            return f"{picker.page_url}?{_search_query(moved)}"

        later_url = page_from(first_day + dt.timedelta(days=SLOT_PAGE_DAYS))
        if first_day > clock.today():
            earlier_url = page_from(max(clock.today(), first_day - dt.timedelta(days=SLOT_PAGE_DAYS)))
        period = (first_day, first_day + dt.timedelta(days=SLOT_PAGE_DAYS - 1))
    else:
        period = None
    if refusal:
        form.add_error(None, refusal)
    return render(request, "scheduling/choose_slot.html", {
        **picker.context, "form": form, "days": days, "period": period, "page_url": picker.page_url,
        "earlier_url": earlier_url, "later_url": later_url, "facility": picker.facility,
    })


def _slots_by_day(slots, link: Callable[[Slot], str]) -> list[_SlotDay]:
    days: list[_SlotDay] = []
    by_clinician: dict[int, list[tuple[Slot, str]]] = {}
    for slot in slots:
        day = slot.starts_at.astimezone(clock.LONDON).date()
        if not days or days[-1].day != day:
            days.append(_SlotDay(day))
            by_clinician = {}
        if slot.clinician_id not in by_clinician:
            by_clinician[slot.clinician_id] = []
            days[-1].clinicians.append((slot.clinician, by_clinician[slot.clinician_id]))
        by_clinician[slot.clinician_id].append((slot, link(slot)))
    for slot_day in days:
        slot_day.clinicians.sort(key=lambda pair: (pair[0].last_name, pair[0].first_name))
    return days


def _slot_at(request: HttpRequest, facility: Facility, slot_id: uuid.UUID) -> Slot:
    slot = Slot.objects.select_related("clinician", "facility").filter(public_id=slot_id, facility=facility).first()
    if slot is None:
        _refuse(request, "slot", str(slot_id))
    return slot


def _taken(slot: Slot) -> bool:
    """Held by someone or no longer offered; a time already passed is left for the service to explain."""
    return slot.starts_at > clock.now() and not selectors.slot_is_free(slot)


# --- Booking -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Booking:
    access: PatientRecordAccess
    facility: Facility
    by_patient: bool

    @property
    def patient(self) -> Patient:
        return self.access.patient

    def slots_url(self) -> str:
        if self.by_patient:
            return reverse("scheduling:book")
        return reverse("scheduling:book_for", args=[self.patient.public_id])

    def confirm_url(self, slot: Slot) -> str:
        if self.by_patient:
            return reverse("scheduling:book_confirm", args=[slot.public_id])
        return reverse("scheduling:book_for_confirm", args=[self.patient.public_id, slot.public_id])

    def done_url(self) -> str:
        return reverse("scheduling:mine") if self.by_patient else reverse("records:record",
                                                                            args=[self.patient.public_id])


def _booking_for(request: HttpRequest, patient_id: uuid.UUID | None) -> _Booking:
    """A patient books for themself at their surgery; staff book for a patient they may see, at their facility."""
    actor = Actor.from_request(request)
    if patient_id is None:
        _require_role(request, frozenset({Role.PATIENT}), "appointment_booking")
        access = patient_record_for(actor=actor, public_id=request.user.patient.public_id,
                                    purpose="book an appointment")
        return _Booking(access, access.patient.registered_surgery, by_patient=True)
    _require_role(request, STAFF_ROLES, "appointment_booking")
    access = patient_record_for(actor=actor, public_id=patient_id, purpose="book an appointment")
    return _Booking(access, _staff_facility(request.user), by_patient=False)


def _booking_picker(booking: _Booking) -> _SlotPicker:
    return _SlotPicker(
        facility=booking.facility, page_url=booking.slots_url(), confirm_url=booking.confirm_url,
        types=selectors.offered_appointment_types(facility_id=booking.facility.pk), fixed_type="",
        context={"booking": booking, "patient": booking.patient, "by_patient": booking.by_patient,
                 "back_url": booking.done_url()},
    )


@require_GET
@login_required
def book(request: HttpRequest, patient_id: uuid.UUID | None = None) -> HttpResponse:
    booking = _booking_for(request, patient_id)
    return _slot_page(request, _booking_picker(booking), request.GET)


@require_http_methods(["GET", "POST"])
@login_required
def book_confirm(request: HttpRequest, slot_id: uuid.UUID, patient_id: uuid.UUID | None = None) -> HttpResponse:
    booking = _booking_for(request, patient_id)
    slot = _slot_at(request, booking.facility, slot_id)
    picker = _booking_picker(booking)
    search = _search_from(request)
    if request.method == "GET" and _taken(slot):
        return _slot_page(request, picker, search, refusal=SlotUnavailable().message)
    form = BookingForm(request.POST if request.method == "POST" else None,
                       types=slot.appointment_types or COMMON_APPOINTMENT_TYPES,
                       initial_type=search.get("appointment_type", ""))
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.appointment_book(
                actor=Actor.from_request(request), patient=booking.patient, slot=slot,
                appointment_type=form.cleaned_data["appointment_type"], reason=form.cleaned_data["reason"])
        except SlotUnavailable as refusal:
            return _slot_page(request, picker, search, refusal=refusal.message)
        except SchedulingRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            who = "Your" if booking.by_patient else f"{booking.patient.full_name}'s"
            messages.success(request, f"{who} appointment is booked for {_when(appointment.starts_at)} "
                                      f"with {appointment.clinician.display_name}.")
            return redirect(booking.done_url())
    query = _search_query(search)
    return render(request, "scheduling/book_confirm.html", {
        "booking": booking, "patient": booking.patient, "by_patient": booking.by_patient, "slot": slot,
        "form": form, "search": query,
        "choose_again_url": f"{booking.slots_url()}?{query}" if query else booking.slots_url(),
    })


# --- Moving and cancelling ------------------------------------------------------------------------------

def _move_picker(request: HttpRequest, appointment: Appointment) -> _SlotPicker:
    return _SlotPicker(
        facility=appointment.facility, page_url=reverse("scheduling:move", args=[appointment.public_id]),
        confirm_url=lambda slot: reverse("scheduling:move_confirm", args=[appointment.public_id, slot.public_id]),
        types=None, fixed_type=appointment.appointment_type,
        context={"appointment": appointment, "patient": appointment.patient,
                 "by_patient": role_of(request.user) == Role.PATIENT,
                 "back_url": _after_change_url(request, appointment)},
    )


@require_GET
@login_required
def move(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    appointment, _ = _appointment_to_change(request, appointment_id, purpose="change an appointment")
    return _slot_page(request, _move_picker(request, appointment), request.GET)


@require_http_methods(["GET", "POST"])
@login_required
def move_confirm(request: HttpRequest, appointment_id: uuid.UUID, slot_id: uuid.UUID) -> HttpResponse:
    appointment, _ = _appointment_to_change(request, appointment_id, purpose="change an appointment")
    new_slot = _slot_at(request, appointment.facility, slot_id)
    picker = _move_picker(request, appointment)
    search = _search_from(request)
    if request.method == "GET" and _taken(new_slot):
        return _slot_page(request, picker, search, refusal=SlotUnavailable().message)
    form = None
    if request.method == "POST":
        try:
            moved = services.appointment_move(actor=Actor.from_request(request), appointment=appointment,
                                              new_slot=new_slot)
        except SlotUnavailable as refusal:
            return _slot_page(request, picker, search, refusal=refusal.message)
        except SchedulingRefused as refusal:
            form = _refusal_form(refusal.message)
        else:
            messages.success(request, f"The appointment has moved to {_when(moved.starts_at)} "
                                      f"with {moved.clinician.display_name}.")
            return redirect(_after_change_url(request, moved))
    query = _search_query(search)
    return render(request, "scheduling/move_confirm.html", {
        "appointment": appointment, "patient": appointment.patient, "slot": new_slot, "form": form,
        "search": query, "by_patient": role_of(request.user) == Role.PATIENT,
        "choose_again_url": f"{picker.page_url}?{query}" if query else picker.page_url,
        "back_url": _after_change_url(request, appointment),
    })


@require_http_methods(["GET", "POST"])
@login_required
def cancel(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    appointment, _ = _appointment_to_change(request, appointment_id, purpose="cancel an appointment")
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_cancel(actor=Actor.from_request(request), appointment=appointment,
                                        reason=form.cleaned_data["reason"])
        except SchedulingRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, f"The appointment on {_when(appointment.starts_at)} is cancelled.")
            return redirect(_after_change_url(request, appointment))
    return render(request, "scheduling/cancel.html", {
        "appointment": appointment, "patient": appointment.patient, "form": form,
        "by_patient": role_of(request.user) == Role.PATIENT, "back_url": _after_change_url(request, appointment),
    })


# --- The patient's own appointments ------------------------------------------------------------------------

@require_GET
@login_required
def mine(request: HttpRequest) -> HttpResponse:
    _require_role(request, frozenset({Role.PATIENT}), "own_appointments")
    access = patient_record_for(actor=Actor.from_request(request), public_id=request.user.patient.public_id,
                                purpose="own appointments")
    now = clock.now()
    upcoming, past = [], []
    for appointment in selectors.patient_appointments(access.patient.pk):
        still_to_come = appointment.ends_at > now and appointment.status in (AppointmentStatus.BOOKED,
                                                                              AppointmentStatus.ARRIVED)
        (upcoming if still_to_come else past).append(appointment)
    upcoming.reverse()  # soonest first; the past stays most recent first
    return render(request, "scheduling/mine.html", {
        "patient": access.patient, "upcoming": upcoming, "past": past,
        "changeable": {appointment.pk for appointment in upcoming if _changeable(request.user, appointment, now)},
    })


def record_appointments_panel(user, access: PatientRecordAccess) -> dict[str, Any]:
    """What the patient record page offers about appointments to this viewer: booking, changing and
    cancelling, and (reception at the patient's surgery) the invitation to the portal."""
    role = role_of(user)
    patient = access.patient
    panel: dict[str, Any] = {"book_url": "", "mine_url": "", "changeable": set(), "invite_url": "",
                             "portal_state": ""}
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
    upcoming = (Appointment.objects.filter(patient=patient, status=AppointmentStatus.BOOKED, starts_at__gt=now)
                .select_related("patient"))
    panel["changeable"] = {appointment.pk for appointment in upcoming if _changeable(user, appointment, now)}
    return panel


# --- Reception: the day list, check-in and did-not-attend ---------------------------------------------------

def _list_audited(request: HttpRequest, object_type: str, facility: Facility, appointments: list[Appointment],
                  **detail: str) -> None:
    """One audit row for a list of patients, naming each, as the patient search does."""
    audit_record(actor=Actor.from_request(request), action=AuditAction.VIEW, object_type=object_type,
                 object_id=str(facility.public_id),
                 detail={**detail, "patients": sorted({str(a.patient.public_id) for a in appointments})})


def _visible(request: HttpRequest, appointments) -> list[Appointment]:
    return list(appointments.filter(patient__in=visible_patients(Patient.objects.all(), request.user)))


def _render_day_list(request: HttpRequest, form: DayListForm, refusal: str = "") -> HttpResponse:
    facility = _staff_facility(request.user)
    day = form.day()
    chosen = form.clinician_public_id()
    clinician = Clinician.objects.filter(public_id=chosen, workplace=facility).first() if chosen else None
    appointments = _visible(request, selectors.day_list(facility_id=facility.pk, day=day,
                                                        clinician_id=clinician.pk if clinician else None))
    rebooking = _visible(request, selectors.appointments_needing_rebooking(facility_id=facility.pk))
    _list_audited(request, "day_list", facility, appointments + rebooking, date=day.isoformat(),
                  clinician=chosen)
    now, today = clock.now(), clock.today()
    rows = [{
        "appointment": appointment,
        "can_check_in": appointment.status == AppointmentStatus.BOOKED and day == today,
        "can_mark_no_show": appointment.status == AppointmentStatus.BOOKED and appointment.starts_at <= now,
    } for appointment in appointments]
    if refusal:
        form.add_error(None, refusal)
    return render(request, "scheduling/day_list.html", {
        "facility": facility, "form": form, "day": day, "clinician": clinician, "rows": rows,
        "rebooking": rebooking, "is_today": day == today,
        "list_query": urlencode({"date": day.isoformat(), **({"clinician": chosen} if chosen else {})}),
    })


def _clinicians_at(facility: Facility):
    return Clinician.objects.filter(workplace=facility).order_by("last_name", "first_name")


@require_GET
@login_required
def day(request: HttpRequest) -> HttpResponse:
    _require_role(request, STAFF_ROLES, "day_list")
    form = DayListForm(request.GET, clinicians=_clinicians_at(_staff_facility(request.user)))
    return _render_day_list(request, form)


def _front_desk_action(request: HttpRequest, appointment_id: uuid.UUID, *, purpose: str,
                       change: Callable[..., Appointment], done: str) -> HttpResponse:
    _require_role(request, STAFF_ROLES, "day_list")
    appointment, _ = appointment_for(actor=Actor.from_request(request), public_id=appointment_id, purpose=purpose)
    form = DayListForm(request.POST, clinicians=_clinicians_at(_staff_facility(request.user)))
    try:
        change(actor=Actor.from_request(request), appointment=appointment)
    except SchedulingRefused as refusal:
        return _render_day_list(request, form, refusal=refusal.message)
    messages.success(request, done.format(name=appointment.patient.full_name,
                                          time=f"{appointment.starts_at.astimezone(clock.LONDON):%H:%M}"))
    back_to = urlencode({"date": form.day().isoformat(), "clinician": form.clinician_public_id()})
    return redirect(f"{reverse('scheduling:day')}?{back_to}")


@require_POST
@login_required
def check_in(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    return _front_desk_action(request, appointment_id, purpose="check in", change=services.appointment_check_in,
                              done="{name} is checked in for {time}.")


@require_POST
@login_required
def no_show(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    return _front_desk_action(request, appointment_id, purpose="did not attend",
                              change=services.appointment_mark_no_show,
                              done="{name} is recorded as not attending at {time}.")


# --- Clinicians: my day -------------------------------------------------------------------------------

def _render_my_day(request: HttpRequest, form: DayListForm, refusal: str = "") -> HttpResponse:
    clinician = request.user.clinician
    day = form.day()
    appointments = _visible(request, selectors.day_list(facility_id=clinician.workplace_id, day=day,
                                                        clinician_id=clinician.pk))
    _list_audited(request, "clinician_day", clinician.workplace, appointments, date=day.isoformat())
    today = clock.today()
    rows = [{
        "appointment": appointment,
        "can_complete": appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED) and day == today,
    } for appointment in appointments]
    if refusal:
        form.add_error(None, refusal)
    return render(request, "scheduling/my_day.html", {
        "clinician": clinician, "form": form, "day": day, "rows": rows, "is_today": day == today,
    })


@require_GET
@login_required
def my_day(request: HttpRequest) -> HttpResponse:
    _require_role(request, CLINICAL_ROLES, "clinician_day")
    return _render_my_day(request, DayListForm(request.GET))


@require_POST
@login_required
def complete(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    _require_role(request, CLINICAL_ROLES, "clinician_day")
    appointment, _ = appointment_for(actor=Actor.from_request(request), public_id=appointment_id,
                                     purpose="mark done")
    form = DayListForm(request.POST)
    try:
        services.appointment_complete(actor=Actor.from_request(request), appointment=appointment)
    except SchedulingRefused as refusal:
        return _render_my_day(request, form, refusal=refusal.message)
    messages.success(request, f"The appointment with {appointment.patient.full_name} is marked as done.")
    return redirect(f"{reverse('scheduling:my_day')}?{urlencode({'date': form.day().isoformat()})}")


# --- Facility managers: schedules ---------------------------------------------------------------------------

def _managed_facility(request: HttpRequest) -> Facility:
    _require_role(request, frozenset({Role.FACILITY_MANAGER}), "schedules")
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
    clinicians = [(clinician, [s for s in sessions if s.clinician_id == clinician.pk])
                  for clinician in _clinicians_at(facility)]
    rebooking = _visible(request, selectors.appointments_needing_rebooking(facility_id=facility.pk))
    _list_audited(request, "rebooking_list", facility, rebooking)
    return render(request, "scheduling/schedules.html", {
        "facility": facility,
        "opening": [(label, opening.get(weekday, [])) for weekday, label in Weekday.choices],
        "clinicians": clinicians,
        "exceptions": selectors.facility_exceptions(facility_id=facility.pk),
        "rebooking": rebooking,
    })


@require_http_methods(["GET", "POST"])
@login_required
def opening_hours(request: HttpRequest) -> HttpResponse:
    facility = _managed_facility(request)
    form = OpeningHoursForm(request.POST or None, current=_current_opening(facility))
    if request.method == "POST" and form.is_valid():
        try:
            services.opening_hours_set(actor=Actor.from_request(request), facility=facility, hours=form.hours)
        except SchedulingRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, f"The opening hours of {facility.name} are saved. Clinicians' free times "
                                      "now follow them.")
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
                actor=Actor.from_request(request), clinician=clinician, weekday=form.cleaned_data["weekday"],
                start_time=form.cleaned_data["start_time"], end_time=form.cleaned_data["end_time"],
                slot_minutes=form.cleaned_data["slot_minutes"], appointment_types=form.types(),
                valid_from=form.cleaned_data["valid_from"])
        except SchedulingRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, f"{clinician.display_name} now works {session.get_weekday_display()}s "
                                      f"{session.start_time:%H:%M}-{session.end_time:%H:%M}.")
            return redirect("scheduling:schedules")
    return render(request, "scheduling/session_add.html", {"facility": facility, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def session_end(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    facility = _managed_facility(request)
    session = (ClinicianSession.objects.select_related("clinician")
               .filter(public_id=session_id, facility=facility).first())
    if session is None:
        _refuse(request, "session", str(session_id))
    form = SessionEndForm(request.POST or None, initial={"last_day": clock.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.session_end(actor=Actor.from_request(request), session=session,
                                 last_day=form.cleaned_data["last_day"])
        except SchedulingRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, f"{session.clinician.display_name}'s {session} session ends after "
                                      f"{form.cleaned_data['last_day']:%-d %B %Y}. Booked appointments after "
                                      "that are listed for rebooking.")
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
            services.exception_add(actor=Actor.from_request(request), facility=facility, clinician=clinician,
                                   starts_at=starts_at, ends_at=ends_at, reason=form.cleaned_data["reason"])
        except SchedulingRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            who = clinician.display_name if clinician else facility.name
            messages.success(request, f"Time off for {who} is saved. Booked appointments in it are listed "
                                      "for rebooking.")
            return redirect("scheduling:schedules")
    return render(request, "scheduling/exception_add.html", {"facility": facility, "form": form})


# --- Reception: invite a patient to the portal --------------------------------------------------------------

@require_POST
@login_required
def invite(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    _require_role(request, STAFF_ROLES, "portal_invitation")
    access = patient_record_for(actor=Actor.from_request(request), public_id=patient_id, purpose="portal invitation")
    try:
        login = patient_services.patient_portal_invite(actor=Actor.from_request(request), patient=access.patient)
    except PermissionDenied:
        # Reception at another facility: the service has audited the refusal.
        raise Http404 from None
    except ValidationError as refusal:
        return render(request, "scheduling/invite_refused.html", {
            "patient": access.patient, "form": _refusal_form(" ".join(refusal.messages)),
        })
    messages.success(request, f"An invitation to the portal is on its way to {access.patient.email}. "
                              f"Their username is {login.username}.")
    return redirect("records:record", public_id=access.patient.public_id)
