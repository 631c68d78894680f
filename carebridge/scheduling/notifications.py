"""Email to the patient about their appointment: booked, moved, cancelled, needing a new time.

Called by scheduling/services.py inside the transaction that makes the change, so the message is
queued (carebridge.delivery's outbox) if and only if the change commits; the task worker sends it.
Booking and moving attach a calendar invitation, cancelling one that removes the event.

A patient with no email address on their record (or one that cannot be sent to) gets no email: the
change goes ahead and nothing is queued. Reception tells them in person or by phone as before.

Email is not a secure channel, so the messages carry what a letter on the doormat would: when,
where, with whom and the kind of appointment; never the reason for the visit or any clinical detail.
"""

import datetime as dt
from email.utils import parseaddr

from django.conf import settings

from carebridge.core import clock
from carebridge.delivery.services import email_enqueue, email_is_valid_address
from carebridge.scheduling.calendar import CalendarEvent, Method, calendar_document
from carebridge.scheduling.models import Appointment


def appointment_booked(appointment: Appointment) -> None:
    address = _patient_address(appointment)
    if address is None:
        return
    when = spoken_time(appointment.starts_at)
    body = _letter(
        appointment,
        "Your appointment is booked.",
        [
            *_details(appointment, when_label="When", when=when),
            "",
            "Please arrive a few minutes early and tell reception you are here.",
            "",
            *_how_to_change(appointment),
            "",
            "The calendar invitation attached adds the appointment to your calendar.",
        ],
    )
    email_enqueue(
        recipient=address,
        subject=f"Appointment booked: {when}",
        body=body,
        idempotency_key=f"appointment:{appointment.public_id}:booked",
        patient_id=appointment.patient_id,
        attachments=[_invitation(appointment, "REQUEST", sequence=0)],
    )


def appointment_moved(appointment: Appointment, old_start: dt.datetime) -> None:
    address = _patient_address(appointment)
    if address is None:
        return
    when = spoken_time(appointment.starts_at)
    body = _letter(
        appointment,
        "Your appointment has moved to a new time.",
        [
            *_details(appointment, when_label="New time", when=when, was=spoken_time(old_start)),
            "",
            *_how_to_change(appointment),
            "",
            "The calendar invitation attached moves the appointment in your calendar.",
        ],
    )
    email_enqueue(
        recipient=address,
        subject=f"Appointment moved to {when}",
        body=body,
        idempotency_key=f"appointment:{appointment.public_id}:moved:{appointment.calendar_sequence}",
        patient_id=appointment.patient_id,
        attachments=[_invitation(appointment, "REQUEST", sequence=appointment.calendar_sequence)],
    )


def appointment_cancelled(appointment: Appointment) -> None:
    address = _patient_address(appointment)
    if address is None:
        return
    when = spoken_time(appointment.starts_at)
    facility = appointment.facility
    body = _letter(
        appointment,
        f"Your appointment on {when} with {appointment.clinician.display_name} at {facility.name} has been cancelled.",
        [
            "If you did not expect this, or you still need to be seen, "
            + ("sign in to Carebridge to choose another time, or " if _books_online(appointment) else "")
            + _phone_sentence(appointment),
            "",
            "The calendar invitation attached removes the appointment from your calendar.",
        ],
    )
    email_enqueue(
        recipient=address,
        subject=f"Appointment cancelled: {when}",
        body=body,
        idempotency_key=f"appointment:{appointment.public_id}:cancelled",
        patient_id=appointment.patient_id,
        attachments=[_invitation(appointment, "CANCEL", sequence=appointment.calendar_sequence)],
    )


def appointment_needs_rebooking(appointment: Appointment, why: str) -> None:
    """The appointment's time is no longer offered (`why` says so in a clause: "Dr Patel is not available
    then"). It is not cancelled: the practice keeps it and will contact the patient to agree a new time,
    as reception would by phone."""
    address = _patient_address(appointment)
    if address is None:
        return
    when = spoken_time(appointment.starts_at)
    facility = appointment.facility
    body = _letter(
        appointment,
        f"Your appointment on {when} with {appointment.clinician.display_name} at {facility.name} "
        f"needs a new time, because {why}.",
        [
            "Your appointment has not been cancelled. The surgery will contact you to arrange a new time.",
            "",
            "If you would rather choose a time yourself, "
            + ("sign in to Carebridge to change the appointment, or " if _books_online(appointment) else "")
            + _phone_sentence(appointment),
            "Please do not come in at the old time unless the surgery tells you to.",
        ],
    )
    email_enqueue(
        recipient=address,
        subject=f"Your appointment on {when} needs a new time",
        body=body,
        idempotency_key=f"appointment:{appointment.public_id}:rebook:{appointment.calendar_sequence}",
        patient_id=appointment.patient_id,
    )


def spoken_time(moment: dt.datetime) -> str:
    """As people say it in the UK: Monday 30 November 2026 at 09:00 (London time)."""
    local = moment.astimezone(clock.LONDON)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


def calendar_uid(appointment: Appointment) -> str:
    return f"{appointment.public_id}@carebridge"


def _patient_address(appointment: Appointment) -> str | None:
    address = appointment.patient.email.strip()
    return address if address and email_is_valid_address(address) else None


def _letter(appointment: Appointment, opening: str, lines: list[str]) -> str:
    return "\n".join(
        [
            f"Dear {appointment.patient.full_name},",
            "",
            opening,
            "",
            *lines,
            "",
            f"{appointment.facility.name}, through Carebridge",
            "This mailbox is not read, so please do not reply to this email.",
            "",
        ]
    )


def _details(appointment: Appointment, *, when_label: str, when: str, was: str = "") -> list[str]:
    facility = appointment.facility
    return [
        f"  {when_label + ':':<11}{when} ({appointment.duration_minutes} minutes)",
        *([f"  {'Was:':<11}{was}"] if was else []),
        f"  {'With:':<11}{appointment.clinician.display_name}",
        f"  {'Type:':<11}{appointment.appointment_type}",
        f"  {'Where:':<11}{facility.name}",
        f"  {'':<11}{_facility_address(appointment)}",
    ]


def _facility_address(appointment: Appointment) -> str:
    facility = appointment.facility
    return ", ".join(part for part in (facility.address, facility.postcode) if part)


def _books_online(appointment: Appointment) -> bool:
    # Patients book, move and cancel online only at the surgery they are registered with.
    return appointment.facility_id == appointment.patient.registered_surgery_id


def _how_to_change(appointment: Appointment) -> list[str]:
    online = f"sign in to Carebridge at {settings.SITE_URL}/, or " if _books_online(appointment) else ""
    return [
        f"To move or cancel this appointment, {online}{_phone_sentence(appointment)}",
        "If you cannot come, please cancel, so that someone else can have the time.",
    ]


def _phone_sentence(appointment: Appointment) -> str:
    facility = appointment.facility
    if facility.phone_number:
        return f"phone {facility.name} on {facility.phone_number}."
    return f"contact {facility.name}."


def _invitation(appointment: Appointment, method: Method, *, sequence: int) -> dict[str, str]:
    facility = appointment.facility
    organizer_email = facility.email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    ways = _how_to_change(appointment)[0] if method == "REQUEST" else ""
    event = CalendarEvent(
        uid=calendar_uid(appointment),
        sequence=sequence,
        starts_at=appointment.starts_at,
        ends_at=appointment.starts_at + dt.timedelta(minutes=appointment.duration_minutes),
        # Calendars are often shared with family or colleagues: the title says no more than where.
        summary=f"Appointment at {facility.name}",
        location=f"{facility.name}, {_facility_address(appointment)}",
        description=f"{appointment.appointment_type} with {appointment.clinician.display_name}. {ways}".strip(),
        organizer_name=facility.name,
        organizer_email=organizer_email,
        attendee_name=appointment.patient.full_name,
        attendee_email=appointment.patient.email.strip(),
        stamp=clock.now(),
    )
    return {
        "filename": "cancelled-appointment.ics" if method == "CANCEL" else "appointment.ics",
        "content_type": f"text/calendar; method={method}",
        "content": calendar_document(event, method),
    }
