"""What the REST API takes and gives, as pydantic schemas (they make its OpenAPI description)."""

import datetime as dt
import uuid
from decimal import Decimal

from ninja import Field, Schema


class Error(Schema):
    detail: str = Field(description="What went wrong, in words to show the person")
    code: str = Field(
        description="slot-taken, not-permitted, invalid, safety-warning, not-found, bad-request, unauthorized"
    )


class Named(Schema):
    id: uuid.UUID
    name: str


class Me(Schema):
    username: str
    role: str
    name: str


class OpeningOut(Schema):
    weekday: str = Field(description="Monday to Sunday")
    opens: str = Field(description="Opening time, 24-hour HH:MM, UK time", pattern=r"^\d{2}:\d{2}$")
    closes: str = Field(description="Closing time, 24-hour HH:MM, UK time", pattern=r"^\d{2}:\d{2}$")


class FacilityOut(Schema):
    id: uuid.UUID
    name: str
    facility_type: str = Field(description="gp_surgery or hospital")
    ods_code: str
    address: str
    postcode: str
    phone_number: str
    email: str
    referral_email: str = Field(description="Where referrals are emailed (the main email when none is set)")
    specialities_offered: list[str] = Field(description="The services and specialities the facility offers")
    opening_hours: list[OpeningOut] = Field(description="The weekly opening hours that decide appointment times")
    opening_hours_note: str = Field(description="The imported opening hours as written, where no weekly hours are set")


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


class CompleteIn(Schema):
    # Needed only when the patient was never checked in; the rules say so, in the same words as the web.
    reason: str = Field("", max_length=300)


# --- The clinical record and prescribing -----------------------------------------------------------------


class WarningOut(Schema):
    kind: str = Field(description="allergy, duplicate-therapy, interaction, dose, quantity or unchecked")
    message: str


class Refusal(Error):
    """A refusal by the rules (422), naming the inputs at fault and, for a prescription, the warnings."""

    fields: dict[str, str] | None = Field(None, description="Each input at fault, with what to change")
    warnings: list[WarningOut] | None = Field(
        None, description="code safety-warning: each safety warning not overridden; send overrides {kind: reason}"
    )


class ConditionOut(Schema):
    id: uuid.UUID
    code: str = Field(description="SNOMED CT concept id; empty for an uncoded (free text) problem")
    display: str
    coded: bool
    status: str = Field(description="active or resolved")
    recorded_at: dt.datetime
    recorded_by: Named
    resolved_at: dt.datetime | None


class ConditionIn(Schema):
    code: str = Field("", description="A SNOMED CT concept id from Carebridge's coded list")
    text: str = Field("", max_length=200, description="Or the problem in words (recorded as uncoded)")


class AllergyOut(Schema):
    id: uuid.UUID
    substance: str = Field(description="The formulary vocabulary key when coded (penicillins), else the words")
    display: str
    coded: bool = Field(description="False: written as free text, matched by its words only")
    reaction: str
    severity: str = Field(description="mild, moderate or severe")
    recorded_at: dt.datetime
    recorded_by: Named


class AllergyIn(Schema):
    substance: str = Field("", description="A key from the list of allergy substances (penicillins, nsaids, ...)")
    text: str = Field("", max_length=200, description="Or the substance in words")
    reaction: str = Field("", max_length=200)
    severity: str = Field("moderate", description="mild, moderate or severe")


class ConsultationOut(Schema):
    id: uuid.UUID
    patient: Named
    clinician: Named
    facility: Named
    appointment: uuid.UUID | None
    started_at: dt.datetime
    symptoms: str = Field(description="The patient's own account")
    findings: str
    assessment: str
    plan: str
    condition: ConditionOut | None


class ConsultationIn(Schema):
    symptoms: str
    findings: str = ""
    assessment: str = ""
    plan: str = ""
    condition_code: str = Field("", description="A SNOMED CT concept id from the coded list")
    condition_text: str = Field("", max_length=200, description="Or the condition in words (uncoded)")
    appointment: uuid.UUID | None = Field(None, description="The appointment it came from, if any")


class OverrideOut(Schema):
    kind: str
    message: str = Field(description="The warning as it was shown")
    reason: str = Field(description="The prescriber's reason for going ahead")
    overridden_by: Named
    overridden_at: dt.datetime


class PrescriptionOut(Schema):
    id: uuid.UUID
    patient: Named
    prescriber: Named
    prescribed_on: dt.date
    medicine: str
    medicine_key: str = Field(description="The formulary's key; empty for free text (no checks ran) or imported")
    dose_value: str = Field(description="A decimal, as text: 500, 2.5")
    dose_unit: str
    frequency: str
    duration_days: int
    quantity_value: str
    quantity_unit: str
    instructions: str
    pharmacy: str
    status: str = Field(description="issued, dispensed, collected or cancelled")
    collection_date: dt.date | None = Field(description="When it was dispensed or collected")
    cancellation_reason: str
    condition: Named | None = Field(description="What it treats (imported prescriptions may name none)")
    consultation: uuid.UUID | None
    course: str = Field(description="acute, continuous (repeat) or continuous-repeat-dispensing")
    issues_allowed: int
    issue_number: int
    review_date: dt.date | None
    previous: uuid.UUID | None = Field(description="The issue this one repeats")
    overrides: list[OverrideOut]


class PrescriptionIn(Schema):
    patient: uuid.UUID
    condition: uuid.UUID | None = Field(None, description="The patient's active problem it treats (required)")
    consultation: uuid.UUID | None = None
    medicine: str = Field(description="A formulary key or name, or free text (then no checks can run)")
    dose_value: Decimal = Field(max_digits=12, decimal_places=4, description="A number or a decimal string")
    dose_unit: str
    frequency: str = Field(description="Once daily, Twice daily, Three times daily, As required, ...")
    duration_days: int
    quantity_value: Decimal | None = Field(
        None, max_digits=12, decimal_places=4, description="Left out: worked out from dose, frequency and duration"
    )
    quantity_unit: str = ""
    instructions: str = ""
    pharmacy: str | None = Field(None, description="Left out: the patient's nominated pharmacy")
    course: str = Field("acute", description="acute, continuous or continuous-repeat-dispensing")
    issues_allowed: int = Field(1, description="A repeat: issues in all, 2 to 12")
    review_date: dt.date | None = Field(None, description="A repeat: when the prescriber reviews it")
    overrides: dict[str, str] = Field(
        default_factory=dict, description="{warning kind: the prescriber's reason for going ahead}"
    )


class OverridesIn(Schema):
    overrides: dict[str, str] = Field(default_factory=dict, description="{warning kind: reason}")


class SupplyIn(Schema):
    status: str = Field(description="dispensed or collected")
    on: dt.date | None = Field(None, description="The day; left out: today")


class ReasonIn(Schema):
    reason: str = Field("", max_length=1000)


class RepeatRequestIn(Schema):
    note: str = Field("", max_length=300)


class RepeatRequestOut(Schema):
    id: uuid.UUID
    prescription: uuid.UUID
    medicine: str
    patient: Named
    surgery: Named
    note: str
    requested_at: dt.datetime
    status: str = Field(description="pending, approved or refused")
    refusal_reason: str
    decided_by: Named | None
    decided_at: dt.datetime | None
    issued: uuid.UUID | None = Field(description="The prescription issued when it was approved")


# --- Referrals -------------------------------------------------------------------------------------------


class ReferralOut(Schema):
    """A referral, cut to what the caller may see: for non-clinical staff its clinical content (reason,
    summary, investigations, triage text, outcome) is empty and `clinical_content_withheld` is true."""

    id: uuid.UUID
    ubrn: str | None = Field(description="The 12-digit Unique Booking Reference Number; none for imported ones")
    patient: Named
    referrer: str = Field(description="Who referred, in words")
    referring_clinician: Named | None = Field(description="None when received from a system naming no one here")
    referring_facility: Named
    receiving_facility: Named
    receiving_clinician: Named | None
    speciality: str = Field(description="The hospital service referred to")
    priority: str = Field(description="routine, urgent, two_week_wait (non_urgent: imported only)")
    priority_words: str
    referral_date: dt.date
    status: str = Field(
        description="new, info_requested, pending, in_progress, completed, returned or rejected (the working state)"
    )
    status_words: str = Field(description="The state in words: staff words, or for the patient plain English")
    fhir_status: str = Field(description="FHIR ServiceRequest.status: active, on-hold, completed or revoked")
    reason: str
    clinical_summary: str
    investigations: list[str]
    status_reason: str = Field(description="The advice, the reason for rejecting, or the information asked for")
    triage_comment: str = Field(description="Why the priority changed at triage (clinicians only)")
    triaged_by: Named | None
    triaged_at: dt.datetime | None
    outcome: str = Field(description="The consultant's outcome once the patient was seen")
    completed_at: dt.datetime | None
    appointment: uuid.UUID | None = Field(description="The hospital appointment booked for it")
    appointment_at: dt.datetime | None
    wait_days: int = Field(description="Days waited since the referral (until it closed)")
    target_days: int = Field(description="Days within which a referral of this priority should be seen")
    target_date: dt.date
    is_breached: bool = Field(description="Still open, and waited longer than its target")
    version: int = Field(description="+1 each time the referrer changes it")
    clinical_content_withheld: bool = Field(description="True: cut for a viewer who may not see all of it")


class ReferralEventOut(Schema):
    at: dt.datetime
    status: str
    words: str
    comment: str = Field(description="Clinical: advice, reasons, information (empty for non-clinical staff)")
    by: str


class ReferralDeliveryOut(Schema):
    """How one message of the referral is going on one channel (no addresses)."""

    channel: str = Field(description="Email or Electronic record")
    status: str = Field(description="pending (waiting or retrying), sent, failed or given_up")
    status_words: str
    attempts: int
    sent_at: dt.datetime | None
    last_error: str
    next_attempt_at: dt.datetime | None
    given_up_reason: str


class ReferralDocumentOut(Schema):
    id: uuid.UUID
    kind: str = Field(description="letter, attachment or clinic_letter")
    filename: str
    content_type: str
    size: int = Field(description="Bytes")


class ReferralDetailOut(Schema):
    referral: ReferralOut
    history: list[ReferralEventOut]
    deliveries: list[ReferralDeliveryOut] = Field(description="Staff only; empty for the patient")
    documents: list[ReferralDocumentOut] = Field(
        description="Clinicians only; fetch each from /api/referrals/documents/{id}"
    )


class WorklistOut(Schema):
    services: list[str] = Field(description="The hospital's services with open referrals")
    referrals: list[ReferralOut] = Field(description="Most urgent first, then by the wait against the target")


class PackMedicineOut(Schema):
    id: uuid.UUID
    medicine: str
    dose: str
    frequency: str
    instructions: str
    prescribed_on: dt.date
    course: str


class PackAllergyOut(Schema):
    id: uuid.UUID
    display: str
    reaction: str
    severity: str


class PackProblemOut(Schema):
    id: uuid.UUID
    code: str
    display: str
    recorded_at: dt.datetime


class ReferralPackOut(Schema):
    """What the consultant needs when the referred patient arrives (clinicians who may see the record)."""

    referral: ReferralOut
    documents: list[ReferralDocumentOut]
    medicines: list[PackMedicineOut] = Field(description="Current medicines")
    allergies: list[PackAllergyOut]
    problems: list[PackProblemOut] = Field(description="Active problems")


class AttachmentIn(Schema):
    filename: str = Field(max_length=300)
    content_base64: str = Field(description="The file's bytes, base64-encoded: a PDF, PNG or JPEG of at most 5 MB")


class ReferralIn(Schema):
    patient: uuid.UUID
    receiving_facility: uuid.UUID = Field(description="The hospital referred to")
    speciality: str = Field(description="A service the hospital offers (Cardiology, ...)")
    receiving_clinician: uuid.UUID | None = Field(None, description="A named consultant at that hospital")
    priority: str = Field(description="routine, urgent or two_week_wait")
    reason: str = Field(max_length=1000)
    clinical_summary: str = ""
    investigations: list[str] = Field(default_factory=list, description="The investigations requested")
    consultation: uuid.UUID | None = Field(None, description="The consultation it was made from")
    attachments: list[AttachmentIn] = Field(
        default_factory=list, description="At most 10 files of at most 5 MB each, 15 MB together"
    )


class InformationIn(Schema):
    information: str
    attachments: list[AttachmentIn] = Field(default_factory=list)


class TriageIn(Schema):
    decision: str = Field(description="accept, return_with_advice, reject or request_information")
    text: str = Field("", description="The advice, the reason for rejecting, or the information needed")
    priority: str | None = Field(None, description="A new priority: routine, urgent or two_week_wait")
    comment: str = Field("", description="Why the priority changes")
    consultant: uuid.UUID | None = Field(None, description="Accept to a named consultant at this hospital")


class ReferralBookingIn(Schema):
    slot: uuid.UUID = Field(description="A free slot at the receiving hospital")
    appointment_type: str = ""
    reason: str = Field("", max_length=300)


class OutcomeIn(Schema):
    outcome: str
    clinic_letter: str = Field(description="The letter to the GP, in words (sent as a PDF)")
