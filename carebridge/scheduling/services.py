"""Writes to schedules, slots and appointments. One transaction each, with its audit row.

A refusal raises a `SchedulingRefused` (or a subclass) after recording it in the audit trail outside
the transaction that was rolled back, so the refusal is kept and nothing else is.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from carebridge.access.rules import Action, require
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.refusals import refusals_audited
from carebridge.audit.services import audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotPermitted
from carebridge.core.prepared import PreparedQuery
from carebridge.core.roles import Role, role_of
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient
from carebridge.scheduling import notifications
from carebridge.scheduling.errors import SlotUnavailable
from carebridge.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
    ClinicianSession,
    OpeningTime,
    ScheduleException,
    Slot,
)
from carebridge.scheduling.relationships import appointment_relationships_begin, appointment_relationships_refresh
from carebridge.scheduling.schedules import PlannedSlot, SessionPattern, planned_slots, sessions_overlap


def _require_manager_of(actor: Actor, facility_id: int) -> None:
    # Whoever runs the `carebridge` command already holds the database; setting up schedules from the
    # command line (the demo, a migration of an existing practice) is theirs to do.
    if actor.user is None and actor.channel in ("cli", "system"):
        return
    user = actor.user
    if user is None or role_of(user) != Role.FACILITY_MANAGER or user.staff_member.facility_id != facility_id:
        raise NotPermitted("Only the facility's manager may change its schedules.")


# --- Opening hours, sessions and exceptions ---------------------------------------------------------------


@refusals_audited(AuditObject.OPENING_HOURS)
@transaction.atomic
def opening_hours_set(
    *, actor: Actor, facility: Facility, hours: dict[int, list[tuple[dt.time, dt.time]]]
) -> list[OpeningTime]:
    """Replace a facility's weekly opening hours. Sessions outside the new hours stop yielding slots."""
    _require_manager_of(actor, facility.pk)
    rows = []
    for weekday, intervals in sorted(hours.items()):
        for opens, closes in sorted(intervals):
            if not opens < closes:
                raise Invalid(f"Opening times must close after they open ({opens:%H:%M}-{closes:%H:%M}).")
            rows.append(OpeningTime(facility=facility, weekday=weekday, opens=opens, closes=closes))
    OpeningTime.objects.filter(facility=facility).delete()
    OpeningTime.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.OPENING_HOURS,
        object_id=str(facility.public_id),
        detail={"hours": [f"{row.weekday} {row.opens:%H:%M}-{row.closes:%H:%M}" for row in rows]},
    )
    for clinician in Clinician.objects.filter(sessions__facility=facility).distinct():
        _tell_needing_rebooking(
            slots_regenerate(actor=actor, clinician=clinician), f"{facility.name}'s opening hours have changed"
        )
    return rows


@dataclass(frozen=True)
class WeeklySession:
    """One session of a weekly pattern: Mondays 09:00-12:00 in 15-minute slots, for these types."""

    weekday: int
    start_time: dt.time
    end_time: dt.time
    slot_minutes: int
    appointment_types: tuple[str, ...]


@refusals_audited(AuditObject.SESSION)
@transaction.atomic
def session_add(
    *,
    actor: Actor,
    clinician: Clinician,
    weekday: int,
    start_time: dt.time,
    end_time: dt.time,
    slot_minutes: int,
    appointment_types: Iterable[str],
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> ClinicianSession:
    """Add a weekly session to a clinician's schedule at their workplace, and offer its slots."""
    _require_manager_of(actor, clinician.workplace_id)
    wanted = WeeklySession(
        weekday, start_time, end_time, slot_minutes, tuple(name.strip() for name in appointment_types if name.strip())
    )
    [session] = _create_sessions(actor, clinician, [wanted], valid_from or clock.today(), valid_until)
    slots_regenerate(actor=actor, clinician=clinician)
    return session


@refusals_audited(AuditObject.SESSION)
@transaction.atomic
def sessions_set(
    *, actor: Actor, clinician: Clinician, sessions: Iterable[WeeklySession], valid_from: dt.date | None = None
) -> list[ClinicianSession]:
    """Replace a clinician's weekly pattern from `valid_from` (default today), offering slots once."""
    _require_manager_of(actor, clinician.workplace_id)
    valid_from = valid_from or clock.today()
    for current in ClinicianSession.objects.filter(clinician=clinician).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=valid_from)
    ):
        current.valid_until = max(valid_from - dt.timedelta(days=1), current.valid_from - dt.timedelta(days=1))
        current.save(update_fields=["valid_until"])
    created = _create_sessions(actor, clinician, list(sessions), valid_from, None)
    _tell_needing_rebooking(
        slots_regenerate(actor=actor, clinician=clinician), f"{clinician.display_name}'s working hours have changed"
    )
    return created


def _create_sessions(
    actor: Actor, clinician: Clinician, wanted: list[WeeklySession], valid_from: dt.date, valid_until: dt.date | None
) -> list[ClinicianSession]:
    facility = clinician.workplace
    if valid_until is not None and valid_until < valid_from:
        raise Invalid("A session cannot end before it begins.")
    # Lock the clinician so two managers changing the schedule at once cannot both pass the overlap check.
    Clinician.objects.select_for_update().get(pk=clinician.pk)
    accepted = [_pattern(existing) for existing in ClinicianSession.objects.filter(clinician=clinician)]
    created = []
    for session in wanted:
        if not session.start_time < session.end_time:
            raise Invalid("A session must end after it starts.")
        if not 5 <= session.slot_minutes <= 240:
            raise Invalid("Slots must be between 5 and 240 minutes long.")
        length = dt.datetime.combine(valid_from, session.end_time) - dt.datetime.combine(valid_from, session.start_time)
        if length < dt.timedelta(minutes=session.slot_minutes):
            raise Invalid("The session is shorter than one slot.")
        if not session.appointment_types:
            raise Invalid("Say which appointment types the session offers.")
        if not _opening_covers(facility, session.weekday, session.start_time, session.end_time):
            raise Invalid(f"{facility.name} is not open for the whole session on that day.")
        candidate = SessionPattern(
            None,
            session.weekday,
            session.start_time,
            session.end_time,
            session.slot_minutes,
            session.appointment_types,
            valid_from,
            valid_until,
        )
        for existing in accepted:
            if sessions_overlap(candidate, existing):
                raise Invalid(
                    f"This overlaps the existing session on {_weekday_name(existing.weekday)} "
                    f"{existing.start_time:%H:%M}-{existing.end_time:%H:%M}."
                )
        row = ClinicianSession(
            clinician=clinician,
            facility=facility,
            weekday=session.weekday,
            start_time=session.start_time,
            end_time=session.end_time,
            slot_minutes=session.slot_minutes,
            appointment_types=list(session.appointment_types),
            valid_from=valid_from,
            valid_until=valid_until,
        )
        row.full_clean()
        row.save()
        accepted.append(_pattern(row))
        created.append(row)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type=AuditObject.SESSION,
            object_id=str(row.public_id),
            detail={"clinician": str(clinician.public_id), "session": str(row), "slot_minutes": session.slot_minutes},
        )
    return created


def _weekday_name(weekday: int) -> str:
    return ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[weekday]


@refusals_audited(AuditObject.SESSION)
@transaction.atomic
def session_end(*, actor: Actor, session: ClinicianSession, last_day: dt.date | None = None) -> ClinicianSession:
    """Stop a weekly session after `last_day` (default today). Booked appointments are kept for rebooking."""
    _require_manager_of(actor, session.facility_id)
    last_day = last_day or clock.today()
    if last_day < session.valid_from:
        # A session that never ran is simply taken out.
        session.valid_until = session.valid_from - dt.timedelta(days=1)
    else:
        session.valid_until = last_day
    session.save(update_fields=["valid_until"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.SESSION,
        object_id=str(session.public_id),
        detail={"valid_until": session.valid_until.isoformat()},
    )
    _tell_needing_rebooking(
        slots_regenerate(actor=actor, clinician=session.clinician),
        f"{session.clinician.display_name} no longer holds that clinic",
    )
    return session


@refusals_audited(AuditObject.SCHEDULE_EXCEPTION)
@transaction.atomic
def exception_add(
    *,
    actor: Actor,
    facility: Facility,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    clinician: Clinician | None = None,
) -> ScheduleException:
    """Leave for one clinician, or a closure of the whole facility. Slots inside it are withdrawn."""
    _require_manager_of(actor, facility.pk)
    if clinician is not None and clinician.workplace_id != facility.pk:
        raise Invalid("That clinician does not work at this facility.")
    if not starts_at < ends_at:
        raise Invalid("The time off must end after it starts.")
    if not reason.strip():
        raise Invalid("Give a reason, such as 'Annual leave' or 'Training closure'.")
    exception = ScheduleException.objects.create(
        facility=facility, clinician=clinician, starts_at=starts_at, ends_at=ends_at, reason=reason.strip()
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.SCHEDULE_EXCEPTION,
        object_id=str(exception.public_id),
        detail={
            "clinician": str(clinician.public_id) if clinician else None,
            "from": starts_at.isoformat(),
            "until": ends_at.isoformat(),
            "reason": exception.reason,
        },
    )
    affected = [clinician] if clinician else Clinician.objects.filter(sessions__facility=facility).distinct()
    for each in affected:
        slots_regenerate(actor=actor, clinician=each)
    _flag_for_rebooking(actor, exception)
    return exception


def _flag_for_rebooking(actor: Actor, exception: ScheduleException) -> list[Appointment]:
    """Every booked appointment whose time falls in the leave or closure, whatever its origin.

    Slots withdrawn by `slots_regenerate` cover appointments booked here; appointments a practice brought
    with it (imported, no slot) are found by their time. Each is kept, listed for rebooking and its
    patient told once: the practice, not the system, chooses the new time with them."""
    now = clock.now()
    # The longest appointment held is a day: look back that far for ones that run into the time off.
    candidates = Appointment.objects.select_for_update(of=("self",)).filter(
        facility_id=exception.facility_id,
        status=AppointmentStatus.BOOKED,
        starts_at__lt=exception.ends_at,
        starts_at__gt=max(now, exception.starts_at - dt.timedelta(days=1)),
    )
    if exception.clinician_id is not None:
        candidates = candidates.filter(clinician_id=exception.clinician_id)
    flagged = []
    for appointment in candidates.select_related("patient", "clinician", "facility"):
        if appointment.ends_at <= exception.starts_at:
            continue
        if not appointment.needs_rebooking:
            appointment.needs_rebooking = True
            appointment.updated_at = now
            appointment.save(update_fields=["needs_rebooking", "updated_at"])
        # Also for one whose slot was withdrawn just now. Told once: a second leave over the same time
        # queues nothing more (the message is keyed by the appointment's calendar version).
        notifications.appointment_needs_rebooking(appointment, _unavailable_because(exception, appointment))
        flagged.append(appointment)
    if flagged:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=AuditObject.REBOOKING_LIST,
            object_id=str(exception.public_id),
            detail={"needing_rebooking": [str(appointment.public_id) for appointment in flagged]},
        )
    return flagged


def _unavailable_because(exception: ScheduleException, appointment: Appointment) -> str:
    if exception.clinician_id is not None:
        return f"{appointment.clinician.display_name} is not available then"
    return f"{appointment.facility.name} is closed then"


def _tell_needing_rebooking(result: "RegenerationResult", why: str) -> None:
    """Tell the patients whose slot a schedule change took away (their appointments are already listed
    for rebooking by `slots_regenerate`). Leave and closures tell their own patients, in their own words."""
    for appointment in result.needing_rebooking:
        notifications.appointment_needs_rebooking(appointment, why)


def _opening_covers(facility: Facility, weekday: int, start: dt.time, end: dt.time) -> bool:
    return OpeningTime.objects.filter(facility=facility, weekday=weekday, opens__lte=start, closes__gte=end).exists()


def _pattern(session: ClinicianSession) -> SessionPattern:
    return SessionPattern(
        session.pk,
        session.weekday,
        session.start_time,
        session.end_time,
        session.slot_minutes,
        tuple(session.appointment_types),
        session.valid_from,
        session.valid_until,
    )


# --- Slots ---------------------------------------------------------------------------------------------


@dataclass
class RegenerationResult:
    created: int = 0
    removed: int = 0
    # Booked appointments whose slot the schedule no longer offers: listed for rebooking, never dropped.
    needing_rebooking: list[Appointment] = field(default_factory=list)


def horizon_last_day() -> dt.date:
    return clock.today() + dt.timedelta(days=settings.SLOT_HORIZON_DAYS)


def slots_regenerate(*, actor: Actor, clinician: Clinician, last_day: dt.date | None = None) -> RegenerationResult:
    """Make the clinician's future slots match their sessions, opening hours and exceptions.

    Runs inside the caller's transaction (or its own). Free slots no longer offered are deleted; booked
    ones are withdrawn and their appointments flagged for rebooking.
    """
    with transaction.atomic():
        return _regenerate(actor, clinician, clock.now(), last_day or horizon_last_day())


def _regenerate(actor: Actor, clinician: Clinician, now: dt.datetime, last_day: dt.date) -> RegenerationResult:
    result = RegenerationResult()
    first_day = now.astimezone(clock.LONDON).date()
    opening: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for row in OpeningTime.objects.filter(facility_id=clinician.workplace_id):
        opening.setdefault(row.weekday, []).append((row.opens, row.closes))
    exceptions = [
        (row.starts_at, row.ends_at)
        for row in ScheduleException.objects.filter(
            Q(clinician=clinician) | Q(clinician__isnull=True, facility_id=clinician.workplace_id), ends_at__gt=now
        )
    ]
    wanted: dict[dt.datetime, PlannedSlot] = {
        planned.starts_at: planned
        for planned in planned_slots(
            sessions=[_pattern(s) for s in clinician.sessions.all()],
            opening=opening,
            exceptions=exceptions,
            first_day=first_day,
            last_day=last_day,
        )
        if planned.starts_at > now
    }
    # Locked, in one order, before asking which are held: a booking of one of them either has committed
    # (and is seen as held below) or waits for this change and then finds its slot withdrawn or gone
    # (`_current_slot`).
    existing = list(Slot.objects.select_for_update().filter(clinician=clinician, starts_at__gt=now).order_by("pk"))
    held = set(
        Appointment.objects.filter(slot__in=[slot.pk for slot in existing], status__in=HOLDING_STATUSES).values_list(
            "slot_id", flat=True
        )
    )
    keep_starts = set()
    to_delete = []
    for slot in existing:
        plan = wanted.get(slot.starts_at)
        if plan is not None and plan.ends_at == slot.ends_at and not slot.withdrawn:
            keep_starts.add(slot.starts_at)
            continue
        if slot.pk in held:
            if not slot.withdrawn:
                slot.withdrawn = True
                slot.save(update_fields=["withdrawn"])
                flagged = Appointment.objects.filter(slot=slot, status=AppointmentStatus.BOOKED)
                flagged.update(needs_rebooking=True, updated_at=now)
                result.needing_rebooking.extend(flagged.select_related("patient", "clinician", "facility"))
            keep_starts.add(slot.starts_at)
        else:
            to_delete.append(slot.pk)
    if to_delete:
        Slot.objects.filter(pk__in=to_delete).delete()
        result.removed = len(to_delete)
    # Times the clinician is already committed: slots kept, and imported appointments with no slot.
    busy = [(slot.starts_at, slot.ends_at) for slot in existing if slot.starts_at in keep_starts]
    busy += [
        (appointment.starts_at, appointment.ends_at)
        for appointment in Appointment.objects.filter(
            clinician=clinician, slot__isnull=True, status__in=HOLDING_STATUSES, starts_at__gt=now
        )
    ]
    new_slots = [
        Slot(
            clinician=clinician,
            facility_id=clinician.workplace_id,
            session_id=plan.session_id,
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
            appointment_types=list(plan.appointment_types),
        )
        for start, plan in sorted(wanted.items())
        if start not in keep_starts
        and not any(plan.starts_at < until and since < plan.ends_at for since, until in busy)
    ]
    Slot.objects.bulk_create(new_slots, batch_size=1000)
    result.created = len(new_slots)
    if result.created or result.removed or result.needing_rebooking:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=AuditObject.SLOTS,
            object_id=str(clinician.public_id),
            detail={
                "created": result.created,
                "removed": result.removed,
                "needing_rebooking": [str(a.public_id) for a in result.needing_rebooking],
            },
        )
    return result


def slots_extend_horizon(*, actor: Actor) -> int:
    """Run daily: every clinician with sessions offers slots up to the rolling horizon."""
    created = 0
    for clinician in Clinician.objects.filter(sessions__isnull=False).distinct():
        created += slots_regenerate(actor=actor, clinician=clinician).created
    return created


# --- Appointments ---------------------------------------------------------------------------------------


# Every booking and move takes it: compiled once per process (carebridge/core/prepared.py). FOR NO KEY
# UPDATE, the lock an UPDATE of the row would take: it waits for a schedule change's FOR UPDATE and queues
# two bookings of one slot, which the unique index would queue anyway.
_LOCKED_SLOT = PreparedQuery(
    lambda pk: (
        Slot.objects.select_for_update(no_key=True, of=("self",)).select_related("clinician", "facility").filter(pk=pk)
    ),
    pk=int,
)


def _current_slot(slot: Slot) -> Slot:
    """The slot as it is now, locked until the booking or move commits; SlotUnavailable if it is gone.

    The caller's copy may be stale (withdrawn or deleted since). The lock is not what decides between
    racing bookings (the one-appointment-per-slot index does): it is what a schedule change waits for.
    `_regenerate` locks the clinician's slots before it looks for the ones held, so a booking and a
    schedule change that takes its slot away are one after the other. Without it, a booking committing
    while leave was added failed on the slot's foreign key (an error, not an answer), or the leave did.
    """
    current = _LOCKED_SLOT.one_or_none(pk=slot.pk)
    if current is None:
        raise SlotUnavailable("That time is no longer offered. Please choose another.")
    return current


def _check_slot_bookable(slot: Slot, appointment_type: str, now: dt.datetime) -> None:
    if slot.starts_at <= now:
        raise Invalid("That time has already passed. Please choose a later time.")
    if slot.withdrawn:
        raise SlotUnavailable("That time is no longer offered. Please choose another.")
    if slot.appointment_types and appointment_type not in slot.appointment_types:
        raise Invalid(f"That time is not for {appointment_type} appointments.")


# Every booking takes it, so two tabs cannot book the same patient overlapping times: compiled once per
# process (carebridge/core/prepared.py). Its compilation, with `.first()`'s ORDER BY, was a tenth of a
# booking's CPU.
_PATIENT_LOCK = PreparedQuery(
    lambda patient_id: Patient.objects.select_for_update().filter(pk=patient_id).order_by().values("pk"),
    patient_id=int,
)

# Every booking and move asks it: compiled once per process (carebridge/core/prepared.py).
_PATIENTS_HELD_TIMES = PreparedQuery(
    lambda patient_id, starts_before, starts_after: Appointment.objects.filter(
        patient_id=patient_id,
        status__in=HOLDING_STATUSES,
        starts_at__lt=starts_before,
        starts_at__gt=starts_after,
    ),
    patient_id=int,
    starts_before=dt.datetime,
    starts_after=dt.datetime,
)


def _check_patient_free(
    patient: Patient, starts_at: dt.datetime, ends_at: dt.datetime, ignoring: Appointment | None = None
) -> None:
    # Longest appointment we hold is a day; look back that far for ones that run into this time.
    candidates = _PATIENTS_HELD_TIMES.all(
        patient_id=patient.pk, starts_before=ends_at, starts_after=starts_at - dt.timedelta(days=1)
    )
    for other in candidates:
        if ignoring is not None and other.pk == ignoring.pk:
            continue
        if other.ends_at > starts_at:
            local = other.starts_at.astimezone(clock.LONDON)
            raise Invalid(
                f"You already have an appointment at {local:%H:%M} on {local:%-d %B}. Appointments cannot overlap."
            )


def _save_holding(appointment: Appointment, update_fields: list[str] | None = None) -> None:
    """Save, turning the database's one-appointment-per-slot refusal into SlotUnavailable.

    No savepoint of its own: the refusal leaves the service's transaction (booking and moving are each
    one `transaction.atomic`), which rolls back to where the service began, so nothing of the attempt
    is kept and the caller's own transaction, if any, carries on."""
    try:
        appointment.save(update_fields=update_fields)
    except IntegrityError as error:
        if _is_slot_conflict(error):
            raise SlotUnavailable() from error
        raise


def _is_slot_conflict(error: IntegrityError) -> bool:
    # PostgreSQL names the constraint; SQLite names the column of the partial unique index.
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    return constraint == "appointment_one_per_slot" or "scheduling_appointment.slot_id" in str(error)


def _booking_type(slot: Slot, appointment_type: str, reason: str) -> str:
    """What every channel must give for a booking: a type the slot offers (which may go unsaid when the
    slot offers only one), and what the appointment is for."""
    appointment_type = appointment_type.strip()
    if not appointment_type and len(slot.appointment_types) == 1:
        appointment_type = slot.appointment_types[0]
    if not appointment_type:
        raise Invalid("Choose the type of appointment.", fields={"appointment_type": "Choose the type of appointment."})
    if not reason.strip():
        raise Invalid(
            "Say briefly what the appointment is for.", fields={"reason": "Say briefly what the appointment is for."}
        )
    return appointment_type


@refusals_audited(AuditObject.APPOINTMENT)
@transaction.atomic
def appointment_book(*, actor: Actor, patient: Patient, slot: Slot, appointment_type: str, reason: str) -> Appointment:
    """Book `slot` for `patient`, who must be visible to `actor`: the patient themself at their own surgery,
    or reception at the slot's facility."""
    now = clock.now()
    slot = _current_slot(slot)
    require(actor=actor, action=Action.BOOK, patient=patient, facility_id=slot.facility_id)
    appointment_type = _booking_type(slot, appointment_type, reason)
    _check_slot_bookable(slot, appointment_type, now)
    # One booking at a time per patient, so two tabs cannot book overlapping times.
    _PATIENT_LOCK.rows(patient_id=patient.pk)
    _check_patient_free(patient, slot.starts_at, slot.ends_at)
    appointment = Appointment(
        patient=patient,
        clinician=slot.clinician,
        facility=slot.facility,
        slot=slot,
        starts_at=slot.starts_at,
        duration_minutes=slot.minutes,
        appointment_type=appointment_type,
        reason_for_visit=reason.strip()[:300],
        status=AppointmentStatus.BOOKED,
        created_at=now,
        updated_at=now,
    )
    _save_holding(appointment)
    appointment_relationships_begin(appointment)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.APPOINTMENT,
        object_id=str(appointment.public_id),
        patient_id=patient.pk,
        detail={
            "slot": str(slot.public_id),
            "starts_at": slot.starts_at.isoformat(),
            "clinician": str(slot.clinician.public_id),
        },
    )
    notifications.appointment_booked(appointment)
    return appointment


@refusals_audited(AuditObject.APPOINTMENT)
@transaction.atomic
def appointment_move(*, actor: Actor, appointment: Appointment, new_slot: Slot, reason: str = "") -> Appointment:
    """Move to another slot at the same facility. One UPDATE takes the new slot and lets go of the old one,
    so the patient never holds both and never loses both: if the new slot is taken, nothing changes."""
    now = clock.now()
    # The slot before the appointment: a schedule change locks slots, then the appointments it flags, and
    # taking them in the same order means the two cannot deadlock.
    new_slot = _current_slot(new_slot)
    appointment = (
        Appointment.objects.select_for_update(of=("self",)).select_related("patient", "facility").get(pk=appointment.pk)
    )
    require(actor=actor, action=Action.MOVE, patient=appointment.patient, facility_id=appointment.facility_id)
    if new_slot.facility_id != appointment.facility_id:
        raise Invalid(
            f"An appointment at {appointment.facility.name} can be moved only to another time there. "
            "To go elsewhere, cancel it and book again."
        )
    if appointment.status != AppointmentStatus.BOOKED:
        raise Invalid("Only a booked appointment can be moved.")
    if appointment.starts_at <= now:
        raise Invalid("This appointment has already started, so it cannot be moved.")
    if new_slot.pk == appointment.slot_id:
        raise Invalid("That is the time already booked.")
    _check_slot_bookable(new_slot, appointment.appointment_type, now)
    _check_patient_free(appointment.patient, new_slot.starts_at, new_slot.ends_at, ignoring=appointment)
    old_start = appointment.starts_at
    appointment.slot = new_slot
    appointment.clinician = new_slot.clinician
    appointment.starts_at = new_slot.starts_at
    appointment.duration_minutes = new_slot.minutes
    appointment.needs_rebooking = False
    appointment.calendar_sequence += 1
    appointment.updated_at = now
    _save_holding(
        appointment,
        update_fields=[
            "slot",
            "clinician",
            "starts_at",
            "duration_minutes",
            "needs_rebooking",
            "calendar_sequence",
            "updated_at",
        ],
    )
    appointment_relationships_refresh([appointment])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.APPOINTMENT,
        object_id=str(appointment.public_id),
        patient_id=appointment.patient_id,
        reason=reason,
        detail={"moved_from": old_start.isoformat(), "moved_to": new_slot.starts_at.isoformat()},
    )
    notifications.appointment_moved(appointment, old_start)
    return appointment


@refusals_audited(AuditObject.APPOINTMENT)
@transaction.atomic
def appointment_cancel(*, actor: Actor, appointment: Appointment, reason: str) -> Appointment:
    """Cancel before the start, with a reason. The slot is free again at once."""
    now = clock.now()
    appointment = (
        Appointment.objects.select_for_update(of=("self",)).select_related("patient", "facility").get(pk=appointment.pk)
    )
    require(actor=actor, action=Action.CANCEL, patient=appointment.patient, facility_id=appointment.facility_id)
    if appointment.status != AppointmentStatus.BOOKED:
        raise Invalid("Only a booked appointment can be cancelled.")
    if appointment.starts_at <= now:
        raise Invalid(
            "This appointment has already started, so it cannot be cancelled. "
            "Reception can record that the patient did not attend."
        )
    if not reason.strip():
        raise Invalid(
            "Say why the appointment is cancelled.", fields={"reason": "Say why the appointment is cancelled."}
        )
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancellation_reason = reason.strip()[:300]
    appointment.needs_rebooking = False
    appointment.calendar_sequence += 1
    appointment.updated_at = now
    appointment.save(
        update_fields=["status", "cancellation_reason", "needs_rebooking", "calendar_sequence", "updated_at"]
    )
    appointment_relationships_refresh([appointment])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.APPOINTMENT,
        object_id=str(appointment.public_id),
        patient_id=appointment.patient_id,
        reason=reason.strip(),
        detail={"status": AppointmentStatus.CANCELLED},
    )
    notifications.appointment_cancelled(appointment)
    return appointment


def _change_status(
    actor: Actor,
    appointment: Appointment,
    *,
    action: Action,
    allowed_from: tuple[str, ...],
    to: str,
    when_ok: Callable[[Appointment], str | None],
    note: str = "",
    audit_detail: dict | None = None,
) -> Appointment:
    # Lock the appointment only: its patient is read, not changed (and locking more invites deadlocks).
    appointment = Appointment.objects.select_for_update(of=("self",)).select_related("patient").get(pk=appointment.pk)
    _require_on(actor, action, appointment)
    if appointment.status not in allowed_from:
        raise Invalid(f"This appointment is {appointment.get_status_display().lower()}, so that cannot be recorded.")
    if problem := when_ok(appointment):
        raise Invalid(problem)
    now = clock.now()
    before = appointment.status
    appointment.status = to
    if to == AppointmentStatus.ARRIVED:
        appointment.arrived_at = now
    appointment.outcome_recorded_at = now
    appointment.outcome_note = note
    appointment.updated_at = now
    appointment.save(update_fields=["status", "arrived_at", "outcome_recorded_at", "outcome_note", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.APPOINTMENT,
        object_id=str(appointment.public_id),
        patient_id=appointment.patient_id,
        reason=note,
        detail={"status": to, "was": before, **(audit_detail or {})},
    )
    return appointment


def _require_on(actor: Actor, action: Action, appointment: Appointment) -> None:
    require(
        actor=actor,
        action=action,
        patient=appointment.patient,
        facility_id=appointment.facility_id,
        clinician_id=appointment.clinician_id,
    )


def _local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(clock.LONDON).date()


def _on_the_day(appointment: Appointment) -> str | None:
    if _local_day(appointment.starts_at) != clock.today():
        return "Patients can be checked in only on the day of their appointment."
    return None


def _done_on_the_day(appointment: Appointment) -> str | None:
    if _local_day(appointment.starts_at) != clock.today():
        return (
            "An appointment can be marked as done only on its day. "
            "Reception records the outcome of earlier appointments from the list of appointments to close."
        )
    return None


def _after_start(appointment: Appointment) -> str | None:
    if appointment.starts_at > clock.now():
        return "A patient can be marked as not attending only once the appointment time has passed."
    return None


def _before_today(appointment: Appointment) -> str | None:
    if _local_day(appointment.starts_at) >= clock.today():
        return "Today's appointments are checked in on the day list; this is for earlier days only."
    return None


@refusals_audited(AuditObject.APPOINTMENT)
@transaction.atomic
def appointment_check_in(*, actor: Actor, appointment: Appointment) -> Appointment:
    return _change_status(
        actor,
        appointment,
        action=Action.CHECK_IN,
        allowed_from=(AppointmentStatus.BOOKED,),
        to=AppointmentStatus.ARRIVED,
        when_ok=_on_the_day,
    )


@refusals_audited(AuditObject.APPOINTMENT)
@transaction.atomic
def appointment_mark_no_show(*, actor: Actor, appointment: Appointment) -> Appointment:
    return _change_status(
        actor,
        appointment,
        action=Action.MARK_NO_SHOW,
        allowed_from=(AppointmentStatus.BOOKED,),
        to=AppointmentStatus.NOSHOW,
        when_ok=_after_start,
    )


NOT_ARRIVED_REASON = "The patient was not checked in: say why the appointment is done."


@refusals_audited(AuditObject.APPOINTMENT)
@transaction.atomic
def appointment_complete(*, actor: Actor, appointment: Appointment, reason: str = "") -> Appointment:
    """The clinician seeing the patient marks the appointment done. One the patient was never checked in
    for (a phone consultation, a patient who walked straight in) needs a reason, kept and audited."""
    current = Appointment.objects.only("status").get(pk=appointment.pk)
    reason = reason.strip()[:300]
    not_arrived = current.status == AppointmentStatus.BOOKED

    def when_ok(locked: Appointment) -> str | None:
        if problem := _done_on_the_day(locked):
            return problem
        if locked.status == AppointmentStatus.BOOKED and not reason:
            raise Invalid(NOT_ARRIVED_REASON, fields={"reason": NOT_ARRIVED_REASON})
        return None

    return _change_status(
        actor,
        appointment,
        action=Action.COMPLETE,
        allowed_from=(AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED),
        to=AppointmentStatus.FULFILLED,
        when_ok=when_ok,
        note=reason if not_arrived else "",
        audit_detail={"not_checked_in": True} if not_arrived else None,
    )


CLOSED_BY_RECEPTION = "Recorded as attended by reception after the day"


@refusals_audited(AuditObject.APPOINTMENT)
@transaction.atomic
def appointment_record_attended(*, actor: Actor, appointment: Appointment) -> Appointment:
    """Reception closes an earlier day's appointment the patient came to (checked in or not), which the
    clinician did not mark done on the day. Today's go through check-in and the clinician."""
    return _change_status(
        actor,
        appointment,
        action=Action.CHECK_IN,
        allowed_from=(AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED),
        to=AppointmentStatus.FULFILLED,
        when_ok=_before_today,
        note=CLOSED_BY_RECEPTION,
        audit_detail={"closed_after_the_day": True},
    )


# Who may take back each outcome: whoever may record it. Reception closes earlier days as attended, so
# reception as well as the clinician may take back "attended".
_UNDO_ACTIONS: dict[str, tuple[Action, ...]] = {
    AppointmentStatus.ARRIVED: (Action.CHECK_IN,),
    AppointmentStatus.NOSHOW: (Action.MARK_NO_SHOW,),
    AppointmentStatus.FULFILLED: (Action.COMPLETE, Action.CHECK_IN),
}


@refusals_audited(AuditObject.APPOINTMENT)
@transaction.atomic
def appointment_undo_outcome(*, actor: Actor, appointment: Appointment) -> Appointment:
    """Take back a check-in, a did-not-attend or a done recorded by mistake, on the day it was recorded.

    Done goes back to arrived if the patient had been checked in, otherwise to booked; the others go
    back to booked. Later, the record stands: the audit trail is what the day was, and corrections after
    it are a matter for the practice's own procedures, not an undo button."""
    appointment = Appointment.objects.select_for_update(of=("self",)).select_related("patient").get(pk=appointment.pk)
    actions = _UNDO_ACTIONS.get(appointment.status)
    if actions is None:
        # Still booked or cancelled: nothing to take back. Whether they may see it is answered first.
        _require_on(actor, Action.READ, appointment)
        raise Invalid(f"This appointment is {appointment.get_status_display().lower()}: there is nothing to undo.")
    for index, action in enumerate(actions):
        try:
            _require_on(actor, action, appointment)
            break
        except NotPermitted:
            if index == len(actions) - 1:
                raise
    recorded = appointment.outcome_recorded_at
    if recorded is None or _local_day(recorded) != clock.today():
        raise Invalid(
            f"This was recorded as {appointment.get_status_display().lower()} on an earlier day, so it can no "
            "longer be undone here. Ask the practice manager to correct the record."
        )
    before = appointment.status
    if before == AppointmentStatus.FULFILLED and appointment.arrived_at is not None:
        appointment.status = AppointmentStatus.ARRIVED
        appointment.outcome_recorded_at = appointment.arrived_at
    else:
        appointment.status = AppointmentStatus.BOOKED
        appointment.arrived_at = None
        appointment.outcome_recorded_at = None
    appointment.outcome_note = ""
    appointment.updated_at = clock.now()
    appointment.save(update_fields=["status", "arrived_at", "outcome_recorded_at", "outcome_note", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.APPOINTMENT,
        object_id=str(appointment.public_id),
        patient_id=appointment.patient_id,
        detail={"status": appointment.status, "was": before, "undone": True},
    )
    return appointment
