"""The JSON REST API at /api/ (django-ninja), with its OpenAPI description and docs page.

Every endpoint is thin: authenticate the bearer token, fetch through the access layer (missing and
forbidden both 404, audited), call one service, answer. A service's refusal (core/errors.py) comes back
with its status as {"detail": <the message for the person>, "code": <slot-taken | not-permitted |
invalid>, "fields": {<input>: <message>}} (fields only when the refusal names inputs).

CSRF: django-ninja marks its views csrf_exempt and leaves CSRF checks to cookie-based auth schemes.
This API authenticates only by the Authorization header, never by the session cookie, so a forged
cross-site request carries no credentials here and CSRF protection has nothing to protect.
"""

import datetime as dt
import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from pydantic import ValidationError as PydanticValidationError

from carebridge.access.rules import PatientAccess, Viewer, viewer_of, visible_patients, visible_patients_with_nhs_number
from carebridge.access.selectors import patient_record_for
from carebridge.accounts.models import User
from carebridge.api import clinical, referrals, schemas
from carebridge.api.auth import BearerToken, actor_for, www_authenticate
from carebridge.api.visibility import slots_facility_id
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_search
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound, Refused
from carebridge.core.nhs_number import normalise as normalise_nhs_number
from carebridge.core.roles import ROLE_LABELS, role_of
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient
from carebridge.patients.selectors import patients_matching
from carebridge.prescribing.services import SafetyWarnings
from carebridge.scheduling import services
from carebridge.scheduling.models import Appointment, AppointmentStatus, Slot
from carebridge.scheduling.selectors import (
    FreeSlot,
    appointment_for,
    appointments_disclosed,
    free_slots_page,
    slot_with_clinic,
)

DESCRIPTION = """
Appointments, consultations and prescriptions at Carebridge GP surgeries and hospitals, with the same
access rules and audit as the web pages. Authenticate with `Authorization: Bearer <token>`; a token is
issued on the server with `carebridge api-token USERNAME` and acts as that user. Records you may not see
answer 404, as do records that do not exist (clinical records, to staff who are not clinicians). A slot
someone else has just taken answers 409 with code `slot-taken`. A prescription the safety checks stop
answers 422 with code `safety-warning` and its `warnings`; send it again with `overrides` to go ahead.
Referrals are made, triaged, booked and closed under /api/referrals; their attachments travel in the
JSON, base64-encoded, so those requests may be up to 22 MB.
"""

MAX_LIMIT = 500


class CarebridgeAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        # "book", not "carebridge_api_api_book": client generators turn these into method names.
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        # The answers every operation can give whatever it does, described once here rather than on each:
        # 401 without a valid token; 422 (schemas.Refusal, code "invalid") for parameters or a body that
        # do not match the description; 400 (code "bad-request") for a body that is not JSON at all, or a
        # value the description allows but Carebridge cannot work with (a date in the year 9999).
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (schemas.Error, schemas.Refusal, schemas.WarningOut):
            components.setdefault(model.__name__, model.model_json_schema(ref_template="#/components/schemas/{model}"))
        error = {"$ref": "#/components/schemas/Error"}
        refusal = {"$ref": "#/components/schemas/Refusal"}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation["responses"]
                if operation.get("security"):
                    responses.setdefault(401, _described("Not authenticated", error))
                if operation.get("parameters") or operation.get("requestBody"):
                    responses[422] = _described("Invalid input, or refused by a rule", refusal)
                if operation.get("parameters") or operation.get("requestBody"):
                    responses.setdefault(400, _described("A malformed request", error))
        return schema


def _described(description: str, body: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": body}}}


class CarebridgeSwagger(Swagger):
    """django-ninja's Swagger UI in our own page (api/docs.html), which gives it a language, a main
    landmark and a level-one heading."""

    template = "api/docs.html"


api = CarebridgeAPI(
    title="Carebridge API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=BearerToken(),
    # The Swagger UI files come from django-ninja's own static folder (no CDN); its page has no inline
    # script, so the site's Content-Security-Policy applies to it unchanged. No validator badge: it
    # would send our description's address to validator.swagger.io (and the CSP would refuse it).
    docs=CarebridgeSwagger(settings={"validatorUrl": None}),
    docs_decorator=never_cache,
)


# --- Errors ---------------------------------------------------------------------------------------


def _error(request: HttpRequest, status: int, detail: str, code: str) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "code": code}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, 401, "Send a valid API token: Authorization: Bearer <token>.", "unauthorized")
    response["WWW-Authenticate"] = www_authenticate(request)
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # The same answer for missing and forbidden, so nobody learns that a record exists.
    return _error(request, 404, "Not found.", "not-found")


@api.exception_handler(Refused)
def _refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    # The status is the refusal's own (core/errors.py), as on the pages and in FHIR. NotPermitted comes
    # only after the record was found visible to this user, so a 403 reveals nothing.
    if isinstance(exc, NotFound):
        return _not_found(request, exc)
    body: dict = {"detail": exc.message, "code": exc.code}
    if exc.fields:
        body["fields"] = exc.fields
    if isinstance(exc, SafetyWarnings):
        body["warnings"] = [{"kind": warning.kind.value, "message": warning.message} for warning in exc.warnings]
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(ValidationError)
def _invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # The same shape as a rule's refusal (422, code "invalid", the inputs at fault), so that a client
    # reads one kind of error body, whichever layer refused the input.
    fields: dict[str, str] = {}
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ())]
        # ("body", "payload", "dose_value") -> "dose_value"; ("query", "date") -> "date".
        name = ".".join(location[2:] if location[:1] == ["body"] else location[1:]) or "body"
        fields.setdefault(name, str(error.get("msg", "Not valid.")))
    detail = "Check the request: " + "; ".join(f"{name}: {message}" for name, message in fields.items())
    return api.create_response(request, {"detail": detail, "code": "invalid", "fields": fields}, status=422)


@api.exception_handler(HttpError)
def _bad_request(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # django-ninja's own refusals, such as a body that is not JSON (400).
    return _error(request, exc.status_code, str(exc), "bad-request" if exc.status_code == 400 else "refused")


def _actor(request: HttpRequest) -> Actor:
    return actor_for(request, request.auth, "api")


# Consultations, problems, allergies, prescriptions and repeat requests (carebridge/api/clinical.py).
api.add_router("", clinical.router)
# Referrals: made, triaged, booked, seen, and the arrival pack (carebridge/api/referrals.py).
api.add_router("", referrals.router)


REFUSALS = {403: schemas.Error, 404: schemas.Error, 409: schemas.Error, 422: schemas.Refusal}


# --- Shapes ---------------------------------------------------------------------------------------


def _named(public_id: uuid.UUID, name: str) -> dict:
    return {"id": public_id, "name": name}


def _slot_out(slot: FreeSlot) -> dict:
    return {
        "id": slot.public_id,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "minutes": slot.minutes,
        "appointment_types": slot.appointment_types,
        "clinician": _named(slot.clinician_public_id, slot.clinician_name),
        "facility": _named(slot.facility_public_id, slot.facility_name),
    }


def _patient_out(patient: Patient) -> dict:
    return {
        "id": patient.public_id,
        "nhs_number": patient.nhs_number,
        "nhs_number_verified": patient.nhs_number_verified,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth,
        "gender": patient.gender,
        "registered_surgery": _named(patient.registered_surgery.public_id, patient.registered_surgery.name),
    }


def _patient_detail_out(patient: Patient) -> dict:
    return {
        **_patient_out(patient),
        "phone_number": patient.phone_number,
        "email": patient.email,
        "address": patient.address,
        "postcode": patient.postcode,
    }


def _appointment_out(appointment: Appointment) -> dict:
    # Appointment notes are clinical-side text and are never sent through the API.
    return {
        "id": appointment.public_id,
        "status": appointment.status,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "duration_minutes": appointment.duration_minutes,
        "appointment_type": appointment.appointment_type,
        "reason": appointment.reason_for_visit,
        "cancellation_reason": appointment.cancellation_reason,
        "needs_rebooking": appointment.needs_rebooking,
        "slot": appointment.slot.public_id if appointment.slot_id else None,
        "patient": _named(appointment.patient.public_id, appointment.patient.full_name),
        "clinician": _named(appointment.clinician.public_id, appointment.clinician.display_name),
        "facility": _named(appointment.facility.public_id, appointment.facility.name),
    }


def _reloaded(appointment: Appointment) -> Appointment:
    # Services hand back the row they locked, without its relations: one query to show it whole.
    return Appointment.objects.select_related("patient", "clinician", "facility", "slot").get(pk=appointment.pk)


def _slot(public_id: uuid.UUID) -> Slot:
    # Slots are not patient data: any slot can be named, and the booking rules decide who may take it.
    slot = slot_with_clinic(public_id=public_id)
    if slot is None:
        raise Http404("No such slot")
    return slot


def _london_day(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (clock.london_datetime(day, dt.time.min), clock.london_datetime(day + dt.timedelta(days=1), dt.time.min))


# --- Who am I, and the directory ---------------------------------------------------------------------


@api.get("/me", response=schemas.Me, tags=["directory"], summary="The user the token acts as")
def me(request: HttpRequest):
    user: User = request.auth
    return {"username": user.username, "role": ROLE_LABELS[role_of(user)], "name": user.get_full_name()}


@api.get("/facilities", response=list[schemas.FacilityOut], tags=["directory"], summary="GP surgeries and hospitals")
def facilities(request: HttpRequest):
    return [
        {
            "id": f.public_id,
            "name": f.name,
            "facility_type": f.facility_type,
            "ods_code": f.ods_code,
            "address": f.address,
            "postcode": f.postcode,
            "phone_number": f.phone_number,
            "email": f.email,
            "referral_email": f.referral_address,
            "specialities_offered": list(f.specialities_offered or []),
            "opening_hours": [
                {"weekday": row.get_weekday_display(), "opens": f"{row.opens:%H:%M}", "closes": f"{row.closes:%H:%M}"}
                for row in f.opening_times.all()
            ],
            "opening_hours_note": f.opening_hours,
        }
        for f in Facility.objects.prefetch_related("opening_times").order_by("name")
    ]


@api.get("/clinicians", response=list[schemas.ClinicianOut], tags=["directory"], summary="Clinicians")
def clinicians(request: HttpRequest, facility: uuid.UUID | None = None):
    found = Clinician.objects.select_related("workplace").order_by("last_name", "first_name")
    if facility is not None:
        found = found.filter(workplace__public_id=facility)
    return [
        {
            "id": c.public_id,
            "name": c.display_name,
            "title": c.get_title_display(),
            "speciality": c.speciality,
            "registration_number": c.registration_number,
            "facility": _named(c.workplace.public_id, c.workplace.name),
        }
        for c in found
    ]


# --- Slots ----------------------------------------------------------------------------------------


@api.get("/slots", response=list[schemas.SlotOut], tags=["slots"], summary="Free slots, soonest first")
def slots(
    request: HttpRequest,
    facility: uuid.UUID | None = None,
    clinician: uuid.UUID | None = None,
    date: dt.date | None = None,
    appointment_type: str = "",
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
):
    """Free slots at the facility you book at (a patient: their surgery; staff and clinicians: their own)."""
    scope = slots_facility_id(request.auth)
    if scope is None:
        return []
    starts_from, starts_before = _london_day(date) if date else (None, None)
    page = free_slots_page(
        facility_id=scope,
        starts_from=starts_from,
        starts_before=starts_before,
        appointment_type=appointment_type.strip(),
        clinician_public_id=clinician,
        facility_public_id=facility,
        limit=limit,
    )
    # Written out as it is, not validated against SlotOut on the way (django-ninja's checking of fifty
    # nested objects was 40% of the search's CPU): _slot_out builds exactly SlotOut's shape, which
    # api/tests/test_slots_and_patients.py holds it to, and the JSON is rendered by the same renderer.
    return api.create_response(request, [_slot_out(slot) for slot in page], status=200)


# --- Patients -------------------------------------------------------------------------------------


@api.get(
    "/patients",
    response={200: list[schemas.PatientOut], 400: schemas.Error},
    tags=["patients"],
    summary="Find patients by NHS number, or by surname and date of birth",
)
def patients(request: HttpRequest, nhs_number: str = "", last_name: str = "", date_of_birth: dt.date | None = None):
    """Only patients you may see are found; the search is recorded in the audit trail."""
    if date_of_birth is not None:
        clock.supported_day(date_of_birth)  # beyond the supported dates: 400 (core.middleware.InputLimits)
    number = normalise_nhs_number(nhs_number)
    if not number and not (last_name.strip() and date_of_birth):
        return Status(400, {"detail": "Give an NHS number, or a surname and a date of birth.", "code": "bad-request"})
    if number:
        found = visible_patients_with_nhs_number(request.auth, number)
    else:
        found = list(
            patients_matching(
                visible_patients(Patient.objects.all(), request.auth), last_name=last_name, date_of_birth=date_of_birth
            ).select_related("registered_surgery")[:50]
        )
    criteria = (
        {"nhs_number": number} if number else {"last_name": last_name.strip(), "date_of_birth": str(date_of_birth)}
    )
    audit_search(
        actor=_actor(request),
        object_type=AuditObject.PATIENT,
        criteria=criteria,
        patient_ids=[patient.pk for patient in found],
    )
    return [_patient_out(patient) for patient in found]


@api.get(
    "/patients/{patient_id}",
    response={200: schemas.PatientDetailOut, 404: schemas.Error},
    tags=["patients"],
    summary="A patient's demographics",
)
def patient(request: HttpRequest, patient_id: str):
    access = patient_record_for(actor=_actor(request), public_id=patient_id, purpose="api")
    return _patient_detail_out(access.patient)


# --- Appointments ---------------------------------------------------------------------------------


@api.get(
    "/appointments",
    response={200: list[schemas.AppointmentOut], 404: schemas.Error},
    tags=["appointments"],
    summary="Appointments of one patient, or of every patient you may see",
)
def appointments(
    request: HttpRequest,
    patient: str = "",
    clinician: uuid.UUID | None = None,
    date: dt.date | None = None,
    status: AppointmentStatus | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
):
    actor = _actor(request)
    found = Appointment.objects.select_related("patient", "clinician", "facility", "slot")
    seen_by: PatientAccess | Viewer
    if patient:
        seen_by = patient_record_for(actor=actor, public_id=patient, purpose="appointments")
        found = found.filter(patient=seen_by.patient)
    else:
        seen_by = viewer_of(request.auth)
        found = found.filter(patient__in=visible_patients(Patient.objects.all(), request.auth))
    if clinician is not None:
        found = found.filter(clinician__public_id=clinician)
    if date is not None:
        starts, ends = _london_day(date)
        found = found.filter(starts_at__gte=starts, starts_at__lt=ends)
    if status is not None:
        found = found.filter(status=status)
    results = appointments_disclosed(found.order_by("starts_at")[:limit], seen_by)
    if not patient:
        audit_search(
            actor=actor,
            object_type=AuditObject.APPOINTMENT,
            criteria={"clinician": clinician, "date": date, "status": status},
            patient_ids=[appointment.patient_id for appointment in results],
        )
    return [_appointment_out(appointment) for appointment in results]


@api.get(
    "/appointments/{appointment_id}",
    response={200: schemas.AppointmentOut, 404: schemas.Error},
    tags=["appointments"],
    summary="One appointment",
)
def appointment(request: HttpRequest, appointment_id: str):
    found, _ = appointment_for(actor=_actor(request), public_id=appointment_id)
    return _appointment_out(found)


@api.post(
    "/appointments",
    response={201: schemas.AppointmentOut, **REFUSALS},
    tags=["appointments"],
    summary="Book a slot for a patient",
)
def book(request: HttpRequest, payload: schemas.BookingIn):
    """201 with the appointment; 409 (code `slot-taken`) when someone else has just taken the slot; 422 when
    a rule refuses (a past slot, overlapping appointments); 403 when you may not book this patient there."""
    actor = _actor(request)
    access = patient_record_for(actor=actor, public_id=payload.patient, purpose="booking")
    slot = _slot(payload.slot)
    booked = services.appointment_book(
        actor=actor, patient=access.patient, slot=slot, appointment_type=payload.appointment_type, reason=payload.reason
    )
    return Status(201, _appointment_out(booked))


@api.post(
    "/appointments/{appointment_id}/move",
    response={200: schemas.AppointmentOut, **REFUSALS},
    tags=["appointments"],
    summary="Move to another slot (the new one is held before the old is freed)",
)
def move(request: HttpRequest, appointment_id: str, payload: schemas.MoveIn):
    actor = _actor(request)
    found, _ = appointment_for(actor=actor, public_id=appointment_id)
    moved = services.appointment_move(
        actor=actor, appointment=found, new_slot=_slot(payload.slot), reason=payload.reason
    )
    return _appointment_out(_reloaded(moved))


@api.post(
    "/appointments/{appointment_id}/cancel",
    response={200: schemas.AppointmentOut, **REFUSALS},
    tags=["appointments"],
    summary="Cancel, with a reason, before the start",
)
def cancel(request: HttpRequest, appointment_id: str, payload: schemas.CancelIn):
    actor = _actor(request)
    found, _ = appointment_for(actor=actor, public_id=appointment_id)
    cancelled = services.appointment_cancel(actor=actor, appointment=found, reason=payload.reason)
    return _appointment_out(_reloaded(cancelled))


@api.post(
    "/appointments/{appointment_id}/check-in",
    response={200: schemas.AppointmentOut, **REFUSALS},
    tags=["appointments"],
    summary="Reception: the patient has arrived (status arrived)",
)
def check_in(request: HttpRequest, appointment_id: str):
    actor = _actor(request)
    found, _ = appointment_for(actor=actor, public_id=appointment_id)
    return _appointment_out(_reloaded(services.appointment_check_in(actor=actor, appointment=found)))


@api.post(
    "/appointments/{appointment_id}/no-show",
    response={200: schemas.AppointmentOut, **REFUSALS},
    tags=["appointments"],
    summary="Reception: the patient did not attend (status noshow)",
)
def no_show(request: HttpRequest, appointment_id: str):
    actor = _actor(request)
    found, _ = appointment_for(actor=actor, public_id=appointment_id)
    return _appointment_out(_reloaded(services.appointment_mark_no_show(actor=actor, appointment=found)))


@api.post(
    "/appointments/{appointment_id}/complete",
    response={200: schemas.AppointmentOut, **REFUSALS},
    tags=["appointments"],
    summary="The clinician: the appointment is done (status fulfilled); why, if never checked in",
    # The body is optional (a checked-in patient's appointment needs none), so it is read by hand; this
    # says what it may hold.
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": schemas.CompleteIn.model_json_schema()}},
        }
    },
)
def complete(request: HttpRequest, appointment_id: str):
    actor = _actor(request)
    found, _ = appointment_for(actor=actor, public_id=appointment_id)
    reason = _optional_reason(request)
    return _appointment_out(_reloaded(services.appointment_complete(actor=actor, appointment=found, reason=reason)))


def _optional_reason(request: HttpRequest) -> str:
    """`reason` from a JSON body if one was sent; none (or any other kind of body) gives no reason."""
    if request.content_type != "application/json" or not request.body:
        return ""
    try:
        return schemas.CompleteIn.model_validate_json(request.body).reason
    except PydanticValidationError as problem:
        raise Invalid("Send the reason as text of at most 300 characters.", fields={"reason": str(problem)}) from None
