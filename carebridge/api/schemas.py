"""What the REST API takes and gives, as pydantic schemas (they make its OpenAPI description)."""

import datetime as dt
import uuid

from ninja import Field, Schema


class Error(Schema):
    detail: str = Field(description="What went wrong, in words to show the person")
    code: str = Field(description="slot-taken, not-permitted, refused, not-found, bad-request, unauthorized")


class Named(Schema):
    id: uuid.UUID
    name: str


class Me(Schema):
    username: str
    role: str
    name: str


class FacilityOut(Schema):
    id: uuid.UUID
    name: str
    facility_type: str = Field(description="gp_surgery or hospital")
    ods_code: str
    address: str
    postcode: str


class ClinicianOut(Schema):
    id: uuid.UUID
    name: str
    title: str
    speciality: str
    registration_number: str = Field(description="GMC number (7 digits) or NMC-style PIN (N + 6 digits)")
    facility: Named


class SlotOut(Schema):
    id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    minutes: int
    appointment_types: list[str]
    clinician: Named
    facility: Named


class PatientOut(Schema):
    id: uuid.UUID
    nhs_number: str | None
    nhs_number_verified: bool
    first_name: str
    last_name: str
    date_of_birth: dt.date
    gender: str
    registered_surgery: Named


class PatientDetailOut(PatientOut):
    phone_number: str
    email: str
    address: str
    postcode: str


class AppointmentOut(Schema):
    id: uuid.UUID
    status: str = Field(description="FHIR Appointment.status: booked, arrived, fulfilled, cancelled, noshow")
    starts_at: dt.datetime
    ends_at: dt.datetime
    duration_minutes: int
    appointment_type: str
    reason: str
    cancellation_reason: str
    needs_rebooking: bool = Field(description="Its slot was withdrawn by a schedule change: offer another time")
    slot: uuid.UUID | None
    patient: Named
    clinician: Named
    facility: Named


class BookingIn(Schema):
    patient: uuid.UUID
    slot: uuid.UUID
    appointment_type: str = Field(
        "", description="One of the slot's types; may be left out only when the slot offers one type"
    )
    reason: str = Field("", max_length=300)


class MoveIn(Schema):
    slot: uuid.UUID
    reason: str = Field("", max_length=300)


class CancelIn(Schema):
    # Required by the rules, but checked there, so a missing reason gets the same words as on the web.
    reason: str = Field("", max_length=300)
