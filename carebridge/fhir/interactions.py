"""What each FHIR resource type supports: read, search and (Appointment) create, update and patch.

Each handler is thin: it looks up through the access layer (access.selectors) or the directory, calls
at most one service, and returns a resource or Bundle. Errors are raised (FhirError, Http404,
carebridge.core.errors.Refused) and turned into OperationOutcomes by the view around them (views.py).
"""

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pydantic
from django.core.exceptions import RequestDataTooBig
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from fhir.resources.R4B.appointment import Appointment as FhirAppointment

from carebridge.access.rules import viewer_of, visible_patients
from carebridge.access.selectors import patient_record_for
from carebridge.accounts.models import User
from carebridge.api.visibility import slots_facility_id
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_search
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.nhs_number import normalise as normalise_nhs_number
from carebridge.fhir import resources, systems
from carebridge.fhir.outcomes import FhirError, bad_request, fhir_response, unprocessable
from carebridge.fhir.patch import PatchError, PatchTooLarge, TooManyOperations, json_patch, merge_patch
from carebridge.fhir.search import (
    date_filter,
    reference_id,
    refuse_foreign_references,
    searchset,
    string_filter,
    token,
)
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient
from carebridge.scheduling import services
from carebridge.scheduling.models import HOLDING_STATUSES, Appointment, AppointmentStatus, Slot
from carebridge.scheduling.selectors import appointment_disclosed, appointment_for

JSON_TYPES = ("application/fhir+json", "application/json")
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class Call:
    """One authenticated FHIR request: who acts, and the base URL resources are named under."""

    request: HttpRequest
    actor: Actor
    base_url: str

    @property
    def user(self) -> User:
        return self.actor.user

    @property
    def params(self):
        return self.request.GET


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str
    documentation: str


@dataclass(frozen=True)
class ResourceSupport:
    """A resource type's handlers; the CapabilityStatement is generated from these."""

    read: Callable[[Call, str], HttpResponse]
    search: Callable[[Call], HttpResponse]
    search_params: tuple[SearchParam, ...]
    documentation: str
    create: Callable[[Call], HttpResponse] | None = None
    update: Callable[[Call, str], HttpResponse] | None = None
    patch: Callable[[Call, str], HttpResponse] | None = None
    interactions: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = ["read", "search-type"]
        names += [name for name in ("create", "update", "patch") if getattr(self, name) is not None]
        object.__setattr__(self, "interactions", tuple(names))


# --- Shared pieces ------------------------------------------------------------------------------------


def _values(call: Call, name: str) -> list[str]:
    """Every value of a parameter: repeats are ANDed by the caller, commas split ORed alternatives."""
    return [value for raw in call.params.getlist(name) for value in [raw.strip()] if value]


def _alternatives(call: Call, name: str) -> list[list[str]]:
    return [[part.strip() for part in value.split(",") if part.strip()] for value in _values(call, name)]


def _ids(values: list[str], resource_type: str, base_url: str) -> list[uuid.UUID]:
    found = (reference_id(value, resource_type, base_url=base_url) for value in values)
    return [public_id for public_id in found if public_id is not None]


def _id_filter(call: Call, name: str, field_name: str, resource_type: str) -> Q:
    """A reference (or _id) parameter. A value naming no resource of the type here matches nothing."""
    condition = Q()
    for alternatives in _alternatives(call, name):
        condition &= Q(**{f"{field_name}__in": _ids(alternatives, resource_type, call.base_url)})
    return condition


_PAGING = frozenset({"_count", "_offset", "_format"})


def _audit_search(call: Call, object_type: AuditObject, found: list) -> None:
    criteria = {key: call.params.getlist(key) for key in call.params if key not in _PAGING}
    patient_ids = [row.pk if object_type == AuditObject.PATIENT else row.patient_id for row in found]
    audit_search(actor=call.actor, object_type=object_type, criteria=criteria, patient_ids=patient_ids)


def _bundle_response(call: Call, queryset, build, *, audit_as: AuditObject | None = None) -> HttpResponse:
    bundle, rows = searchset(call.request, call.base_url, queryset, build)
    if audit_as:
        _audit_search(call, audit_as, rows)
    return fhir_response(bundle)


def _get_or_404(queryset: QuerySet, public_id: str):
    try:
        return queryset.get(public_id=uuid.UUID(public_id))
    except (ValueError, queryset.model.DoesNotExist):
        raise Http404 from None


# --- Patient --------------------------------------------------------------------------------------------


def patient_read(call: Call, resource_id: str) -> HttpResponse:
    access = patient_record_for(actor=call.actor, public_id=resource_id, purpose="fhir")
    return fhir_response(resources.patient_resource(access.patient))


def patient_search(call: Call) -> HttpResponse:
    found = visible_patients(Patient.objects.all(), call.user).select_related("registered_surgery")
    for alternatives in _alternatives(call, "identifier"):
        either = Q(pk__in=[])
        for value in alternatives:
            system, code = token(value)
            if system in (None, systems.NHS_NUMBER_SYSTEM):
                either |= Q(nhs_number=normalise_nhs_number(code))
            if system in (None, systems.CAREBRIDGE_PATIENT_ID):
                either |= Q(source_id=code)
        found = found.filter(either)
    for name, field_name in (("family", "last_name"), ("given", "first_name")):
        if (condition := string_filter(field_name, call.params, name)) is not None:
            found = found.filter(condition)
    for value in _values(call, "birthdate"):
        found = found.filter(date_filter("date_of_birth", value, parameter="birthdate", date_only=True))
    found = found.filter(_id_filter(call, "_id", "public_id", "Patient"))
    return _bundle_response(
        call, found.order_by("last_name", "first_name", "pk"), resources.patient_resource, audit_as=AuditObject.PATIENT
    )


# --- Practitioner, Organization, Location: directory data any token user may read ---------------------------


def practitioner_read(call: Call, resource_id: str) -> HttpResponse:
    return fhir_response(resources.practitioner_resource(_get_or_404(Clinician.objects.all(), resource_id)))


def practitioner_search(call: Call) -> HttpResponse:
    found = Clinician.objects.all()
    for alternatives in _alternatives(call, "identifier"):
        either = Q(pk__in=[])
        for value in alternatives:
            system, code = token(value)
            if (
                system is None
                or (system == systems.GMC_NUMBER and not code.startswith("N"))
                or (system == systems.NMC_NUMBER and code.startswith("N"))
            ):
                either |= Q(registration_number=code)
        found = found.filter(either)
    for name, field_name in (("family", "last_name"), ("given", "first_name")):
        if (condition := string_filter(field_name, call.params, name)) is not None:
            found = found.filter(condition)
    found = found.filter(_id_filter(call, "_id", "public_id", "Practitioner"))
    return _bundle_response(call, found.order_by("last_name", "first_name", "pk"), resources.practitioner_resource)


def organization_read(call: Call, resource_id: str) -> HttpResponse:
    return fhir_response(resources.organization_resource(_get_or_404(Facility.objects.all(), resource_id)))


def organization_search(call: Call) -> HttpResponse:
    found = Facility.objects.all()
    for alternatives in _alternatives(call, "identifier"):
        either = Q(pk__in=[])
        for value in alternatives:
            system, code = token(value)
            if system in (None, systems.ODS_ORGANISATION_CODE):
                either |= Q(ods_code__iexact=code) & ~Q(ods_code="")
            if system in (None, systems.CAREBRIDGE_FACILITY_ID):
                either |= Q(source_id=code)
        found = found.filter(either)
    if (condition := string_filter("name", call.params, "name")) is not None:
        found = found.filter(condition)
    found = found.filter(_id_filter(call, "_id", "public_id", "Organization"))
    return _bundle_response(call, found.order_by("name", "pk"), resources.organization_resource)


def location_read(call: Call, resource_id: str) -> HttpResponse:
    return fhir_response(
        resources.location_resource(_get_or_404(Facility.objects.prefetch_related("opening_times"), resource_id))
    )


def location_search(call: Call) -> HttpResponse:
    found = Facility.objects.prefetch_related("opening_times")
    if (condition := string_filter("name", call.params, "name")) is not None:
        found = found.filter(condition)
    found = found.filter(_id_filter(call, "organization", "public_id", "Organization"))
    found = found.filter(_id_filter(call, "_id", "public_id", "Location"))
    return _bundle_response(call, found.order_by("name", "pk"), resources.location_resource)


# --- Schedule and Slot: the facility the user books at (api.visibility) -------------------------------------


def _scoped(call: Call, queryset: QuerySet, facility_field: str) -> QuerySet:
    facility_id = slots_facility_id(call.user)
    if facility_id is None:
        return queryset.none()
    return queryset.filter(**{facility_field: facility_id})


def schedule_read(call: Call, resource_id: str) -> HttpResponse:
    clinicians = _scoped(call, Clinician.objects.select_related("workplace"), "workplace_id")
    return fhir_response(resources.schedule_resource(_get_or_404(clinicians, resource_id)))


def schedule_search(call: Call) -> HttpResponse:
    found = _scoped(call, Clinician.objects.select_related("workplace"), "workplace_id")
    found = found.filter(_id_filter(call, "actor", "public_id", "Practitioner"))
    found = found.filter(_id_filter(call, "_id", "public_id", "Schedule"))
    return _bundle_response(call, found.order_by("last_name", "first_name", "pk"), resources.schedule_resource)


def _slots_with_hold() -> QuerySet[Slot]:
    held = Appointment.objects.filter(slot=OuterRef("pk"), status__in=HOLDING_STATUSES)
    return Slot.objects.select_related("clinician").annotate(held=Exists(held))


def _slot_status_filter(status: str, now: dt.datetime) -> Q:
    conditions = {
        "free": Q(held=False, withdrawn=False, starts_at__gt=now),
        "busy": Q(held=True),
        "busy-unavailable": Q(held=False) & (Q(withdrawn=True) | Q(starts_at__lte=now)),
        # Carebridge never holds a slot tentatively and never enters one in error.
        "busy-tentative": Q(pk__in=[]),
        "entered-in-error": Q(pk__in=[]),
    }
    if status not in conditions:
        raise bad_request(
            f"status={status}: a slot's status is free, busy, busy-unavailable, busy-tentative or entered-in-error.",
            expression=["status"],
        )
    return conditions[status]


def _build_slot(slot: Slot):
    return resources.slot_resource(slot, held=slot.held)


def slot_read(call: Call, resource_id: str) -> HttpResponse:
    return fhir_response(_build_slot(_get_or_404(_scoped(call, _slots_with_hold(), "facility_id"), resource_id)))


def slot_search(call: Call) -> HttpResponse:
    found = _scoped(call, _slots_with_hold(), "facility_id")
    found = found.filter(_id_filter(call, "schedule", "clinician__public_id", "Schedule"))
    found = found.filter(_id_filter(call, "schedule.actor", "clinician__public_id", "Practitioner"))
    for value in _values(call, "start"):
        found = found.filter(date_filter("starts_at", value, parameter="start"))
    now = clock.now()
    for alternatives in _alternatives(call, "status"):
        either = Q(pk__in=[])
        for status in alternatives:
            either |= _slot_status_filter(status, now)
        found = found.filter(either)
    for alternatives in _alternatives(call, "service-type"):
        either = Q(pk__in=[])
        for value in alternatives:
            # The types are kept as a JSON list of names; quoted, the text match is exact enough.
            either |= Q(appointment_types__icontains=json.dumps(token(value)[1]))
        found = found.filter(either)
    found = found.filter(_id_filter(call, "_id", "public_id", "Slot"))
    return _bundle_response(call, found.order_by("starts_at", "clinician_id", "pk"), _build_slot)


# --- Appointment ------------------------------------------------------------------------------------------


def _appointment_json(appointment: Appointment) -> dict:
    return json.loads(resources.appointment_resource(appointment).model_dump_json())


def _reloaded(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_related("patient", "clinician", "facility", "slot").get(pk=appointment.pk)


def appointment_read(call: Call, resource_id: str) -> HttpResponse:
    appointment, _ = appointment_for(actor=call.actor, public_id=resource_id, purpose="fhir")
    return fhir_response(resources.appointment_resource(appointment))


# R4's Appointment.status codes. Those Carebridge never records find nothing; any other word is refused, as
# for every resource's status (Slot, MedicationRequest, Condition's clinical-status).
APPOINTMENT_STATUSES = (
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
    "checked-in",
    "waitlist",
)


def appointment_search(call: Call) -> HttpResponse:
    found = Appointment.objects.select_related("patient", "clinician", "facility", "slot").filter(
        patient__in=visible_patients(Patient.objects.all(), call.user)
    )
    found = found.filter(_id_filter(call, "patient", "patient__public_id", "Patient"))
    found = found.filter(_id_filter(call, "practitioner", "clinician__public_id", "Practitioner"))
    for alternatives in _alternatives(call, "actor"):
        # actor names any participant: the patient, the practitioner or the location.
        either = Q(pk__in=[])
        for value in alternatives:
            for resource_type, field_name in (
                ("Patient", "patient"),
                ("Practitioner", "clinician"),
                ("Location", "facility"),
            ):
                if (found_id := reference_id(value, resource_type, base_url=call.base_url)) is not None:
                    either |= Q(**{f"{field_name}__public_id": found_id})
        found = found.filter(either)
    for value in _values(call, "date"):
        found = found.filter(date_filter("starts_at", value, parameter="date"))
    for alternatives in _alternatives(call, "status"):
        for status in alternatives:
            if status not in APPOINTMENT_STATUSES:
                raise bad_request(
                    f"status={status}: an Appointment's status is one of {', '.join(APPOINTMENT_STATUSES)}.",
                    expression=["status"],
                )
        found = found.filter(status__in=alternatives)
    found = found.filter(_id_filter(call, "_id", "public_id", "Appointment"))
    viewer = viewer_of(call.user)
    return _bundle_response(
        call,
        found.order_by("starts_at", "pk"),
        lambda appointment: resources.appointment_resource(appointment_disclosed(appointment, viewer)),
        audit_as=AuditObject.APPOINTMENT,
    )


def apply_patch(current: dict, body: Any, *, content_type: str) -> Any:
    """A PATCH body applied to the resource's JSON: a JSON Patch, or else a merge patch. Bounded (fhir.patch):
    too many operations answer 422, a result larger than any body a client may send 413, both too-costly."""
    try:
        return json_patch(current, body) if content_type == JSON_PATCH else merge_patch(current, body)
    except TooManyOperations as error:
        raise FhirError(422, "too-costly", str(error)) from None
    except PatchTooLarge as error:
        raise FhirError(413, "too-costly", str(error)) from None
    except PatchError as error:
        raise unprocessable(f"The patch cannot be applied: {error}", code="processing") from None
    except RecursionError:  # a merge patch nested deeper than Python recurses
        raise bad_request("The patch is nested too deeply.") from None


def _body(call: Call, accepted: tuple[str, ...] = JSON_TYPES) -> Any:
    if call.request.content_type not in accepted:
        raise FhirError(415, "not-supported", f"Send the body as {' or '.join(accepted)}.")
    try:
        return json.loads(call.request.body)
    except RequestDataTooBig:  # core.middleware.InputLimits refuses most first, by their Content-Length
        raise FhirError(413, "too-long", "The request body is too large.") from None
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; RecursionError: absurd nesting
        raise bad_request("The body is not valid JSON.") from None


def _validation_message(error: pydantic.ValidationError) -> str:
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"])
        problems.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return "The Appointment is not valid FHIR R4: " + "; ".join(problems)


def _appointment_model(data: Any) -> FhirAppointment:
    """Validate a body as an R4 Appointment (400 if it is not one)."""
    if not isinstance(data, dict) or data.get("resourceType") != "Appointment":
        raise bad_request("The body must be an Appointment resource (resourceType Appointment).")
    # Carebridge records every participant as accepted; a client that leaves participant.status out
    # (required by R4) means the same, so it is filled in rather than refused.
    participants = data.get("participant")
    for participant in participants if isinstance(participants, list) else []:
        if isinstance(participant, dict) and "status" not in participant:
            participant["status"] = "accepted"
    try:
        return FhirAppointment.model_validate(data)
    except pydantic.ValidationError as error:
        raise bad_request(_validation_message(error)) from None


def _participant_ids(model: FhirAppointment, resource_type: str) -> list[str]:
    """The ids of the participants of one type, as written (not yet checked to be UUIDs)."""
    ids = []
    for participant in model.participant or []:
        ref = participant.actor.reference if participant.actor else None
        if ref:
            parts = ref.rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2] == resource_type:
                ids.append(parts[-1])
    return ids


def _slot_ids(model: FhirAppointment) -> list[str]:
    ids = []
    for ref in model.slot or []:
        parts = (ref.reference or "").rstrip("/").split("/")
        if len(parts) < 2 or parts[-2] != "Slot":
            raise unprocessable(
                f"{ref.reference or 'A slot'} is not a Slot reference (Slot/<id>).", expression=["Appointment.slot"]
            )
        ids.append(parts[-1])
    return ids


def _referenced_slot(slot_id: str) -> Slot:
    # Slots are not patient data, so any slot may be named: the booking rules decide who may take it
    # (a patient at another surgery is refused there, with the reason, and the refusal is audited).
    try:
        return Slot.objects.select_related("clinician", "facility").get(public_id=uuid.UUID(slot_id))
    except (ValueError, Slot.DoesNotExist):
        raise unprocessable(
            f"Slot/{slot_id} does not exist.", code="not-found", expression=["Appointment.slot"]
        ) from None


def _type_text(model: FhirAppointment) -> str:
    concepts = [model.appointmentType] if model.appointmentType else []
    concepts += list(model.serviceType or [])
    for concept in concepts:
        text = concept.text or next(
            (coding.display or coding.code for coding in concept.coding or [] if coding.display or coding.code), None
        )
        if text and text.strip():
            return text.strip()
    return ""


def _reason_text(model: FhirAppointment) -> str | None:
    for concept in model.reasonCode or []:
        if concept.text:
            return concept.text.strip()
    return model.description.strip() if model.description else None


def _mismatches(
    model: FhirAppointment,
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    minutes: int,
    clinician: Clinician,
    facility: Facility,
) -> list[tuple[str, str]]:
    """Where the resource disagrees with the given times and people: (FHIRPath, words) pairs."""
    found = []
    if model.start is not None and model.start != starts_at:
        found.append(
            (
                "Appointment.start",
                f"start {model.start.isoformat()} is not {starts_at.astimezone(clock.LONDON).isoformat()}",
            )
        )
    if model.end is not None and model.end != ends_at:
        found.append(
            ("Appointment.end", f"end {model.end.isoformat()} is not {ends_at.astimezone(clock.LONDON).isoformat()}")
        )
    if model.minutesDuration is not None and model.minutesDuration != minutes:
        found.append(("Appointment.minutesDuration", f"minutesDuration {model.minutesDuration} is not {minutes}"))
    for practitioner in _participant_ids(model, "Practitioner"):
        if practitioner != str(clinician.public_id):
            found.append(
                (
                    "Appointment.participant",
                    f"Practitioner/{practitioner} is not {clinician.display_name} (Practitioner/{clinician.public_id})",
                )
            )
    for location in _participant_ids(model, "Location"):
        if location != str(facility.public_id):
            found.append(
                (
                    "Appointment.participant",
                    f"Location/{location} is not {facility.name} (Location/{facility.public_id})",
                )
            )
    return found


def _slot_mismatches(model: FhirAppointment, slot: Slot) -> list[tuple[str, str]]:
    return _mismatches(
        model,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        minutes=slot.minutes,
        clinician=slot.clinician,
        facility=slot.facility,
    )


def _current_mismatches(model: FhirAppointment, appointment: Appointment) -> list[tuple[str, str]]:
    return _mismatches(
        model,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        minutes=appointment.duration_minutes,
        clinician=appointment.clinician,
        facility=appointment.facility,
    )


def appointment_create(call: Call) -> HttpResponse:
    """Book: status booked, one slot, the patient as a participant. Times and practitioner come from the slot."""
    model = _appointment_model(_body(call))
    refuse_foreign_references(model, call.base_url)
    if model.status != AppointmentStatus.BOOKED:
        raise unprocessable(
            f"An appointment is created with status booked, not {model.status}.", expression=["Appointment.status"]
        )
    slot_ids = _slot_ids(model)
    if len(slot_ids) != 1:
        raise unprocessable(
            'Name exactly one slot: slot: [{"reference": "Slot/<id>"}].', expression=["Appointment.slot"]
        )
    patient_ids = _participant_ids(model, "Patient")
    if len(patient_ids) != 1:
        raise unprocessable(
            "Name the patient as exactly one participant: actor.reference Patient/<id>.",
            expression=["Appointment.participant"],
        )
    access = patient_record_for(actor=call.actor, public_id=patient_ids[0], purpose="booking")
    slot = _referenced_slot(slot_ids[0])
    if mismatches := _slot_mismatches(model, slot):
        raise unprocessable(
            "The appointment does not match its slot: " + "; ".join(words for _, words in mismatches) + ".",
            code="value",
            expression=sorted({path for path, _ in mismatches}),
        )
    booked = services.appointment_book(
        actor=call.actor,
        patient=access.patient,
        slot=slot,
        appointment_type=_type_text(model) or "",
        reason=_reason_text(model) or "",
    )
    location = f"{call.base_url}Appointment/{booked.public_id}"
    return fhir_response(resources.appointment_resource(booked), status=201, Location=location)


ONLY_CANCELLATION = (
    "Only cancellation is supported (status cancelled, with a cancelationReason), "
    "besides moving to another slot and recording arrived, noshow or fulfilled"
)


def _refuse_other_changes(model: FhirAppointment, appointment: Appointment, *, times_from: Slot | None) -> None:
    """422 unless the resource changes nothing the services cannot change.

    When moving (`times_from` the new slot), start, end and practitioner may be the new slot's or be
    left as they were; otherwise they must be as they are.
    """
    mismatches = _current_mismatches(model, appointment)
    if times_from is not None:
        new_slot_mismatches = {path for path, _ in _slot_mismatches(model, times_from)}
        mismatches = [(path, words) for path, words in mismatches if path in new_slot_mismatches]
    type_text = _type_text(model)
    if type_text and type_text != appointment.appointment_type:
        mismatches.append(("Appointment.appointmentType", "the appointment type"))
    reason = _reason_text(model)
    if reason is not None and reason != appointment.reason_for_visit:
        mismatches.append(("Appointment.reasonCode", "the reason"))
    patients = _participant_ids(model, "Patient")
    if patients and patients != [str(appointment.patient.public_id)]:
        mismatches.append(("Appointment.participant", "the patient"))
    if mismatches:
        raise unprocessable(
            f"{ONLY_CANCELLATION}: this changes " + "; ".join(words for _, words in mismatches) + ".",
            expression=sorted({path for path, _ in mismatches}),
        )


def _cancel_reason(model: FhirAppointment) -> str:
    concept = model.cancelationReason
    if concept is not None:
        text = concept.text or next(
            (coding.display or coding.code for coding in concept.coding or [] if coding.display or coding.code), None
        )
        if text and text.strip():
            return text.strip()
    # The service refuses a cancellation without a reason (422), as it does on every channel.
    return ""


def _apply_change(call: Call, appointment: Appointment, model: FhirAppointment) -> HttpResponse:
    """Carry out what a PUT or PATCH asks for, through the one service that does it."""
    refuse_foreign_references(model, call.base_url)
    slot_ids = _slot_ids(model)
    if len(slot_ids) > 1:
        raise unprocessable("An appointment holds one slot.", expression=["Appointment.slot"])
    current_slot = str(appointment.slot.public_id) if appointment.slot_id else None
    if slot_ids and slot_ids[0] != current_slot:
        if model.status != appointment.status:
            raise unprocessable(
                "Move the appointment and change its status in two requests.",
                expression=["Appointment.status", "Appointment.slot"],
            )
        new_slot = _referenced_slot(slot_ids[0])
        _refuse_other_changes(model, appointment, times_from=new_slot)
        changed = services.appointment_move(actor=call.actor, appointment=appointment, new_slot=new_slot)
        return fhir_response(resources.appointment_resource(_reloaded(changed)))
    _refuse_other_changes(model, appointment, times_from=None)
    if model.status == appointment.status:
        return fhir_response(resources.appointment_resource(appointment))
    actor = call.actor
    transitions: dict[str, Callable[[], Appointment]] = {
        AppointmentStatus.CANCELLED: lambda: services.appointment_cancel(
            actor=actor, appointment=appointment, reason=_cancel_reason(model)
        ),
        AppointmentStatus.ARRIVED: lambda: services.appointment_check_in(actor=actor, appointment=appointment),
        AppointmentStatus.NOSHOW: lambda: services.appointment_mark_no_show(actor=actor, appointment=appointment),
        # Why an appointment the patient was never checked in for is done: Appointment.comment.
        AppointmentStatus.FULFILLED: lambda: services.appointment_complete(
            actor=actor, appointment=appointment, reason=model.comment or ""
        ),
    }
    transition = transitions.get(model.status)
    if transition is None:
        raise unprocessable(
            f"{ONLY_CANCELLATION}; status {model.status} cannot be set here.", expression=["Appointment.status"]
        )
    return fhir_response(resources.appointment_resource(_reloaded(transition())))


def appointment_update(call: Call, resource_id: str) -> HttpResponse:
    appointment, _ = appointment_for(actor=call.actor, public_id=resource_id, purpose="fhir update")
    data = _body(call)
    if not isinstance(data, dict) or data.get("id") != resource_id:
        raise bad_request("The Appointment's id must be the id in the URL.", expression=["Appointment.id"])
    return _apply_change(call, appointment, _appointment_model(data))


def appointment_patch(call: Call, resource_id: str) -> HttpResponse:
    appointment, _ = appointment_for(actor=call.actor, public_id=resource_id, purpose="fhir update")
    content_type = call.request.content_type
    body = _body(call, accepted=(JSON_PATCH, MERGE_PATCH, *JSON_TYPES))
    current = _appointment_json(appointment)
    patched = apply_patch(current, body, content_type=content_type)
    if not isinstance(patched, dict) or patched.get("id") != resource_id:
        raise bad_request("A patch cannot change the Appointment's id.", expression=["Appointment.id"])
    return _apply_change(call, appointment, _appointment_model(patched))


# --- The server's resource types --------------------------------------------------------------------------


def _params(*triples: tuple[str, str, str]) -> tuple[SearchParam, ...]:
    return tuple(SearchParam(*triple) for triple in triples)


_COUNT = ("_count", "number", "Entries per page (default 50, at most 200); _offset pages on (see the next link)")

SUPPORTED: dict[str, ResourceSupport] = {
    "Patient": ResourceSupport(
        read=patient_read,
        search=patient_search,
        documentation="Patients you may see (role and relationship); reads and searches are audited.",
        search_params=_params(
            ("identifier", "token", f"{systems.NHS_NUMBER_SYSTEM}|<10 digits>"),
            ("family", "string", "Surname starts with (:exact, :contains)"),
            ("given", "string", "Given name starts with (:exact, :contains)"),
            ("birthdate", "date", "Date of birth, with eq, ne, gt, ge, lt, le prefixes"),
            ("_id", "token", "The Patient id"),
            _COUNT,
        ),
    ),
    "Practitioner": ResourceSupport(
        read=practitioner_read,
        search=practitioner_search,
        documentation="Clinicians (directory data).",
        search_params=_params(
            ("identifier", "token", f"{systems.GMC_NUMBER}|<7 digits> or {systems.NMC_NUMBER}|N<6 digits>"),
            ("family", "string", "Surname starts with"),
            ("given", "string", "Given name starts with"),
            ("_id", "token", "The Practitioner id"),
            _COUNT,
        ),
    ),
    "Organization": ResourceSupport(
        read=organization_read,
        search=organization_search,
        documentation="GP surgeries and hospitals (directory data).",
        search_params=_params(
            (
                "identifier",
                "token",
                f"{systems.ODS_ORGANISATION_CODE}|<ODS code>, or {systems.CAREBRIDGE_FACILITY_ID}|<source ID>",
            ),
            ("name", "string", "Name starts with (:exact, :contains)"),
            ("_id", "token", "The Organization id"),
            _COUNT,
        ),
    ),
    "Location": ResourceSupport(
        read=location_read,
        search=location_search,
        documentation="Each facility as the place its appointments happen (same id as its Organization).",
        search_params=_params(
            ("name", "string", "Name starts with"),
            ("organization", "reference", "Organization/<id>"),
            ("_id", "token", "The Location id"),
            _COUNT,
        ),
    ),
    "Schedule": ResourceSupport(
        read=schedule_read,
        search=schedule_search,
        documentation="One per clinician (same id as the Practitioner), at the facility you book at.",
        search_params=_params(("actor", "reference", "Practitioner/<id>"), ("_id", "token", "The Schedule id"), _COUNT),
    ),
    "Slot": ResourceSupport(
        read=slot_read,
        search=slot_search,
        documentation=(
            "Slots at the facility you book at: a patient's registered surgery, a clinician's or "
            "staff member's own facility. free = bookable now; busy = booked; busy-unavailable = "
            "withdrawn by a schedule change or already begun."
        ),
        search_params=_params(
            ("schedule", "reference", "Schedule/<id> (the clinician's id)"),
            ("schedule.actor", "reference", "Practitioner/<id> (chained through the Schedule)"),
            ("start", "date", "Slot start, with eq, ne, gt, ge, lt, le, sa, eb prefixes; repeat for a range"),
            ("status", "token", "free | busy | busy-unavailable"),
            ("service-type", "token", "An appointment type offered, by its text (Routine Consultation)"),
            ("_id", "token", "The Slot id"),
            _COUNT,
        ),
    ),
    "Appointment": ResourceSupport(
        read=appointment_read,
        search=appointment_search,
        create=appointment_create,
        update=appointment_update,
        patch=appointment_patch,
        documentation=(
            "Appointments of patients you may see. Create with status booked, one slot and the patient; "
            "409 when the slot has just been taken. PUT or PATCH cancels (status cancelled), moves "
            "(a new slot reference) or records arrived, noshow or fulfilled."
        ),
        search_params=_params(
            ("patient", "reference", "Patient/<id>"),
            ("practitioner", "reference", "Practitioner/<id>"),
            ("actor", "reference", "Patient/<id>, Practitioner/<id> or Location/<id>"),
            ("date", "date", "Appointment start, with eq, ne, gt, ge, lt, le, sa, eb prefixes; repeat for a range"),
            ("status", "token", "booked | arrived | fulfilled | cancelled | noshow (comma for either)"),
            ("_id", "token", "The Appointment id"),
            _COUNT,
        ),
    ),
}
