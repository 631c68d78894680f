"""Carebridge records as FHIR R4 resources, built with the fhir.resources R4B models so they validate.

Only what the viewer may see goes in: Patient carries demographics (what reception may see too), and
Appointment never carries the clinical-side appointment notes. The clinical resources (MedicationRequest,
Condition, AllergyIntolerance, Encounter) are built only for viewers the clinical selectors let through.
"""

import datetime as dt
from decimal import Decimal

from fhir.resources.R4B.allergyintolerance import AllergyIntolerance as FhirAllergyIntolerance
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.condition import Condition as FhirCondition
from fhir.resources.R4B.encounter import Encounter as FhirEncounter
from fhir.resources.R4B.location import Location as FhirLocation
from fhir.resources.R4B.medicationrequest import MedicationRequest as FhirMedicationRequest
from fhir.resources.R4B.organization import Organization as FhirOrganization
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner
from fhir.resources.R4B.schedule import Schedule as FhirSchedule
from fhir.resources.R4B.slot import Slot as FhirSlot

from carebridge.clinical.codes import SNOMED_CT
from carebridge.clinical.models import Allergy, Condition, ConditionStatus, Consultation
from carebridge.core import clock
from carebridge.fhir import systems
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient
from carebridge.prescribing.formulary import DMD
from carebridge.prescribing.models import Course, Prescription, PrescriptionStatus, format_quantity
from carebridge.prescribing.safety import medicine_for
from carebridge.scheduling.models import Appointment, AppointmentStatus, Slot


def reference(resource_type: str, public_id, display: str = "") -> dict:
    ref = {"reference": f"{resource_type}/{public_id}"}
    if display:
        ref["display"] = display
    return ref


def _london(moment: dt.datetime) -> dt.datetime:
    # Instants are shown with the UK offset, as the people booking read them; the instant is the same.
    return moment.astimezone(clock.LONDON)


def _telecom(phone: str, email: str, use: str) -> list[dict] | None:
    points = []
    if phone:
        points.append({"system": "phone", "value": phone, "use": use})
    if email:
        points.append({"system": "email", "value": email, "use": use})
    return points or None


def _address(line: str, postcode: str, use: str) -> list[dict] | None:
    if not (line or postcode):
        return None
    address: dict = {"use": use}
    if line:
        address["line"] = [line]
    if postcode:
        address["postalCode"] = postcode
    address["text"] = ", ".join(part for part in (line, postcode) if part)
    return [address]


# --- People and places --------------------------------------------------------------------------------


def patient_resource(patient: Patient) -> FhirPatient:
    identifiers = []
    if patient.nhs_number:
        verified = patient.nhs_number_verified
        identifiers.append(
            {
                "system": systems.NHS_NUMBER_SYSTEM,
                "value": patient.nhs_number,
                "extension": [
                    {
                        "url": systems.NHS_NUMBER_VERIFICATION_EXTENSION,
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": systems.NHS_NUMBER_VERIFICATION_SYSTEM,
                                    "code": "01" if verified else "02",
                                    "display": "Number present and verified"
                                    if verified
                                    else "Number present but not traced",
                                }
                            ]
                        },
                    }
                ],
            }
        )
    if patient.source_id:
        identifiers.append({"system": systems.CAREBRIDGE_PATIENT_ID, "value": patient.source_id})
    surgery = patient.registered_surgery
    contact = None
    if patient.emergency_contact_name or patient.emergency_contact_phone:
        contact = [
            {
                "relationship": [
                    {"coding": [{"system": systems.CONTACT_ROLE, "code": "C", "display": "Emergency Contact"}]}
                ],
                **({"name": {"text": patient.emergency_contact_name}} if patient.emergency_contact_name else {}),
                **(
                    {"telecom": [{"system": "phone", "value": patient.emergency_contact_phone}]}
                    if patient.emergency_contact_phone
                    else {}
                ),
            }
        ]
    return FhirPatient(
        id=str(patient.public_id),
        identifier=identifiers or None,
        active=True,
        name=[
            {"use": "official", "family": patient.last_name, "given": [patient.first_name], "text": patient.full_name}
        ],
        telecom=_telecom(patient.phone_number, patient.email, "home"),
        gender=patient.gender,
        birthDate=patient.date_of_birth,
        address=_address(patient.address, patient.postcode, "home"),
        contact=contact,
        generalPractitioner=[reference("Organization", surgery.public_id, surgery.name)],
    )


def practitioner_identifier(clinician: Clinician) -> dict:
    number = clinician.registration_number
    system = systems.NMC_NUMBER if number.startswith("N") else systems.GMC_NUMBER
    return {"system": system, "value": number}


def practitioner_resource(clinician: Clinician) -> FhirPractitioner:
    # Directory data only: no personal phone numbers or email addresses.
    name: dict = {
        "use": "official",
        "family": clinician.last_name,
        "given": [clinician.first_name],
        "text": clinician.display_name,
    }
    if clinician.honorific:
        name["prefix"] = [clinician.honorific]
    return FhirPractitioner(
        id=str(clinician.public_id), identifier=[practitioner_identifier(clinician)], active=True, name=[name]
    )


def organization_identifier(facility: Facility) -> dict:
    if facility.ods_code:
        return {"system": systems.ODS_ORGANISATION_CODE, "value": facility.ods_code}
    return {"system": systems.CAREBRIDGE_FACILITY_ID, "value": facility.source_id or str(facility.public_id)}


def organization_resource(facility: Facility) -> FhirOrganization:
    return FhirOrganization(
        id=str(facility.public_id),
        identifier=[organization_identifier(facility)],
        active=True,
        type=[
            {
                "coding": [{"system": systems.ORGANIZATION_TYPE, "code": "prov", "display": "Healthcare Provider"}],
                "text": facility.get_facility_type_display(),
            }
        ],
        name=facility.name,
        telecom=_telecom(facility.phone_number, facility.email, "work"),
        address=_address(facility.address, facility.postcode, "work"),
    )


_FHIR_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def hours_of_operation(facility: Facility) -> list[dict] | None:
    """The weekly opening hours that drive scheduling (scheduling.OpeningTime, reached through the reverse
    relation; prefetch `opening_times` for a list), as FHIR availableTime / hoursOfOperation: the days
    that share the same times together ("mon".."fri" 08:00-18:00, "sat" 09:00-12:00)."""
    days_by_times: dict[tuple[dt.time, dt.time], list[str]] = {}
    for row in facility.opening_times.all():  # type: ignore[attr-defined]
        days_by_times.setdefault((row.opens, row.closes), []).append(_FHIR_DAYS[row.weekday])
    return [
        {"daysOfWeek": days, "openingTime": opens.isoformat(), "closingTime": closes.isoformat()}
        for (opens, closes), days in sorted(
            days_by_times.items(), key=lambda item: (_FHIR_DAYS.index(item[1][0]), item[0])
        )
    ] or None


def location_resource(facility: Facility) -> FhirLocation:
    """Each facility is one place: the Location where its appointments happen, run by its Organization,
    open at its weekly hours (or, where none are set, described by the imported note)."""
    address = _address(facility.address, facility.postcode, "work")
    hours = hours_of_operation(facility)
    return FhirLocation(
        id=str(facility.public_id),
        status="active",
        name=facility.name,
        mode="instance",
        telecom=_telecom(facility.phone_number, facility.email, "work"),
        address=address[0] if address else None,
        managingOrganization=reference("Organization", facility.public_id, facility.name),
        hoursOfOperation=hours,
        availabilityExceptions=(facility.opening_hours or None) if hours is None else None,
    )


# --- Schedules, slots and appointments ------------------------------------------------------------------


def schedule_resource(clinician: Clinician) -> FhirSchedule:
    """One Schedule per clinician (its id is the clinician's): their weekly sessions at their workplace."""
    workplace = clinician.workplace
    return FhirSchedule(
        id=str(clinician.public_id),
        active=True,
        actor=[
            reference("Practitioner", clinician.public_id, clinician.display_name),
            reference("Location", workplace.public_id, workplace.name),
        ],
        comment=f"{clinician.display_name}'s appointments at {workplace.name}",
    )


def slot_status(slot: Slot, *, held: bool, now: dt.datetime) -> str:
    """free: bookable now; busy: an appointment holds it; busy-unavailable: withdrawn or already begun."""
    if held:
        return "busy"
    if slot.withdrawn or slot.starts_at <= now:
        return "busy-unavailable"
    return "free"


def slot_resource(slot: Slot, *, held: bool) -> FhirSlot:
    return FhirSlot(
        id=str(slot.public_id),
        schedule=reference("Schedule", slot.clinician.public_id, slot.clinician.display_name),
        status=slot_status(slot, held=held, now=clock.now()),
        start=_london(slot.starts_at),
        end=_london(slot.ends_at),
        serviceType=[{"text": name} for name in slot.appointment_types] or None,
    )


def appointment_resource(appointment: Appointment) -> FhirAppointment:
    patient, clinician, facility = appointment.patient, appointment.clinician, appointment.facility
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    return FhirAppointment(
        id=str(appointment.public_id),
        meta={"lastUpdated": appointment.updated_at},
        identifier=(
            [{"system": systems.CAREBRIDGE_APPOINTMENT_ID, "value": appointment.source_id}]
            if appointment.source_id
            else None
        ),
        # Carebridge keeps FHIR's own Appointment.status codes, so they are sent unchanged.
        status=appointment.status,
        cancelationReason=(
            {"text": appointment.cancellation_reason} if cancelled and appointment.cancellation_reason else None
        ),
        appointmentType={"text": appointment.appointment_type} if appointment.appointment_type else None,
        reasonCode=[{"text": appointment.reason_for_visit}] if appointment.reason_for_visit else None,
        start=_london(appointment.starts_at),
        end=_london(appointment.ends_at),
        minutesDuration=appointment.duration_minutes,
        slot=[reference("Slot", appointment.slot.public_id)] if appointment.slot_id else None,
        created=_london(appointment.created_at),
        participant=[
            {
                "actor": reference("Patient", patient.public_id, patient.full_name),
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": reference("Practitioner", clinician.public_id, clinician.display_name),
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": reference("Location", facility.public_id, facility.name),
                "required": "required",
                "status": "accepted",
            },
        ],
    )


# --- Prescribing and the clinical record -------------------------------------------------------------------

# Prescription.status as MedicationRequest.status. The request is done once the pharmacy has dispensed
# it, whether or not it has been collected; FHIR's status cannot tell those two apart (the REST API can).
MEDICATION_REQUEST_STATUS = {
    PrescriptionStatus.ISSUED: "active",
    PrescriptionStatus.DISPENSED: "completed",
    PrescriptionStatus.COLLECTED: "completed",
    PrescriptionStatus.CANCELLED: "cancelled",
}

COURSE_CODINGS = {
    Course.ACUTE: (systems.COURSE_OF_THERAPY, "Short course (acute) therapy"),
    Course.REPEAT: (systems.COURSE_OF_THERAPY, "Continuous long term therapy"),
    Course.REPEAT_DISPENSING: (systems.NHS_COURSE_OF_THERAPY, "Continuous long term (repeat dispensing)"),
}

# Each of dosing.FREQUENCIES as a Timing.repeat, for clients that read the structure rather than the words.
# Timing.code.text carries the frequency's own name, which is what Carebridge reads back.
FREQUENCY_TIMING: dict[str, dict] = {
    "Once daily": {"frequency": 1, "period": 1, "periodUnit": "d"},
    "Twice daily": {"frequency": 2, "period": 1, "periodUnit": "d"},
    "Three times daily": {"frequency": 3, "period": 1, "periodUnit": "d"},
    "Four times daily": {"frequency": 4, "period": 1, "periodUnit": "d"},
    "Every morning": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["MORN"]},
    "At night": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["NIGHT"]},
    "Every 4 hours": {"frequency": 1, "period": 4, "periodUnit": "h"},
    "Every 6 hours": {"frequency": 1, "period": 6, "periodUnit": "h"},
    "Every 8 hours": {"frequency": 1, "period": 8, "periodUnit": "h"},
    "Once weekly": {"frequency": 1, "period": 1, "periodUnit": "wk"},
}
AS_REQUIRED = "As required"

# Dose units that are UCUM units too, so a client can compute with them.
_UCUM_UNITS = {"mg": "mg", "g": "g", "microgram": "ug", "micrograms": "ug", "ml": "mL"}


def frequency_from_timing(repeat: dict) -> str | None:
    """The frequency's name for a Timing.repeat (as JSON), when it is one of FREQUENCY_TIMING."""
    wanted = {key: value for key, value in repeat.items() if value is not None}
    for name, timing in FREQUENCY_TIMING.items():
        if {key: wanted.get(key) for key in set(timing) | set(wanted)} == timing:
            return name
    return None


def _quantity(value: Decimal, unit: str) -> dict:
    quantity: dict = {"value": Decimal(format_quantity(value)), "unit": unit}
    if unit in _UCUM_UNITS:
        quantity |= {"system": systems.UCUM, "code": _UCUM_UNITS[unit]}
    return quantity


def _practitioner(clinician: Clinician) -> dict:
    return reference("Practitioner", clinician.public_id, clinician.display_name)


def detected_issue_id(number: int) -> str:
    return f"override-{number}"


def medication_request_resource(prescription: Prescription) -> FhirMedicationRequest:
    """A prescription, with the safety warnings it was issued despite as contained DetectedIssues (each
    with the prescriber's reason as its mitigation), referenced from detectedIssue."""
    patient = prescription.patient
    medicine = medicine_for(prescription.medicine_key) if prescription.medicine_key else None
    medication: dict = {"text": prescription.medication_name}
    if medicine is not None and medicine.dmd_code:
        medication["coding"] = [{"system": DMD, "code": medicine.dmd_code, "display": medicine.name}]
    dosage: dict = {
        "sequence": 1,
        "text": f"{prescription.dose_display} {prescription.frequency.lower()} for {prescription.duration_days} days",
        "doseAndRate": [{"doseQuantity": _quantity(prescription.dose_value, prescription.dose_unit)}],
    }
    if prescription.frequency == AS_REQUIRED:
        dosage["asNeededBoolean"] = True
    else:
        timing: dict = {"code": {"text": prescription.frequency}}
        if prescription.frequency in FREQUENCY_TIMING:
            timing["repeat"] = FREQUENCY_TIMING[prescription.frequency]
        dosage["timing"] = timing
    if prescription.instructions:
        dosage["patientInstruction"] = prescription.instructions
    dispense: dict = {
        "quantity": _quantity(prescription.quantity_value, prescription.quantity_unit),
        "expectedSupplyDuration": {
            "value": prescription.duration_days,
            "unit": "days",
            "system": systems.UCUM,
            "code": "d",
        },
    }
    if prescription.pharmacy_name:
        dispense["performer"] = {"display": prescription.pharmacy_name}
    repeat = prescription.course != Course.ACUTE
    if repeat:
        dispense["numberOfRepeatsAllowed"] = prescription.issues_allowed - 1
    course_system, course_display = COURSE_CODINGS[Course(prescription.course)]
    overrides = list(prescription.overrides.all())
    contained = [
        {
            "resourceType": "DetectedIssue",
            "id": detected_issue_id(number),
            "status": "final",
            "code": {"coding": [{"system": systems.SAFETY_WARNING, "code": override.kind}]},
            "patient": reference("Patient", patient.public_id),
            "detail": override.message,
            "mitigation": [
                {
                    "action": {"text": override.reason},
                    "date": _london(override.overridden_at),
                    "author": _practitioner(override.overridden_by),
                }
            ],
        }
        for number, override in enumerate(overrides, start=1)
    ]
    extension = None
    if repeat:
        information: list[dict] = [
            {"url": "numberOfRepeatPrescriptionsIssued", "valueUnsignedInt": prescription.issue_number}
        ]
        if prescription.review_date:
            information.append(
                {"url": "authorisationExpiryDate", "valueDateTime": prescription.review_date.isoformat()}
            )
        extension = [{"url": systems.UKCORE_REPEAT_INFORMATION, "extension": information}]
    cancelled = prescription.status == PrescriptionStatus.CANCELLED
    return FhirMedicationRequest(
        id=str(prescription.public_id),
        identifier=(
            [{"system": systems.CAREBRIDGE_PRESCRIPTION_ID, "value": prescription.source_id}]
            if prescription.source_id
            else None
        ),
        contained=contained or None,
        extension=extension,
        status=MEDICATION_REQUEST_STATUS[PrescriptionStatus(prescription.status)],
        statusReason={"text": prescription.cancellation_reason}
        if cancelled and prescription.cancellation_reason
        else None,
        intent="order",
        medicationCodeableConcept=medication,
        subject=reference("Patient", patient.public_id, patient.full_name),
        encounter=(
            reference("Encounter", prescription.consultation.public_id) if prescription.consultation_id else None
        ),
        authoredOn=prescription.prescribed_on.isoformat(),
        requester=_practitioner(prescription.prescriber),
        reasonReference=(
            [reference("Condition", prescription.condition.public_id, prescription.condition.display)]
            if prescription.condition_id
            else None
        ),
        courseOfTherapyType={
            "coding": [{"system": course_system, "code": prescription.course, "display": course_display}],
            "text": prescription.get_course_display(),
        },
        dosageInstruction=[dosage],
        dispenseRequest=dispense,
        priorPrescription=reference("MedicationRequest", prescription.previous.public_id)
        if prescription.previous_id
        else None,
        detectedIssue=[{"reference": f"#{issue['id']}"} for issue in contained] or None,
    )


def condition_resource(condition: Condition) -> FhirCondition:
    """A problem-list entry: SNOMED CT when coded; an uncoded one has only its words (code.text)."""
    code: dict = {"text": condition.display}
    if condition.code:
        code["coding"] = [{"system": SNOMED_CT, "code": condition.code, "display": condition.display}]
    patient = condition.patient
    return FhirCondition(
        id=str(condition.public_id),
        clinicalStatus={"coding": [{"system": systems.CONDITION_CLINICAL, "code": condition.status}]},
        verificationStatus={"coding": [{"system": systems.CONDITION_VERIFICATION, "code": "confirmed"}]},
        category=[
            {
                "coding": [
                    {"system": systems.CONDITION_CATEGORY, "code": "problem-list-item", "display": "Problem List Item"}
                ]
            }
        ],
        code=code,
        subject=reference("Patient", patient.public_id, patient.full_name),
        recordedDate=_london(condition.recorded_at),
        recorder=_practitioner(condition.recorded_by),
        abatementDateTime=(
            _london(condition.resolved_at)
            if condition.status == ConditionStatus.RESOLVED and condition.resolved_at
            else None
        ),
    )


# AllergyIntolerance.reaction needs a manifestation; when none was written, it says so, so that the
# severity is still sent.
REACTION_NOT_RECORDED = "Reaction not recorded"


def allergy_resource(allergy: Allergy) -> FhirAllergyIntolerance:
    """An allergy. A coded one names its formulary vocabulary key (a medicine, class or substance) under
    systems.FORMULARY_VOCABULARY, which is what the safety checks match; free text has only code.text."""
    code: dict = {"text": allergy.display}
    if allergy.coded:
        code["coding"] = [
            {"system": systems.FORMULARY_VOCABULARY, "code": allergy.substance, "display": allergy.display}
        ]
    patient = allergy.patient
    return FhirAllergyIntolerance(
        id=str(allergy.public_id),
        clinicalStatus={"coding": [{"system": systems.ALLERGY_CLINICAL, "code": "active"}]},
        verificationStatus={"coding": [{"system": systems.ALLERGY_VERIFICATION, "code": "confirmed"}]},
        # A coded substance is a medicine, its class or a substance in one; free text may be anything.
        category=["medication"] if allergy.coded else None,
        code=code,
        patient=reference("Patient", patient.public_id, patient.full_name),
        recordedDate=_london(allergy.recorded_at),
        recorder=_practitioner(allergy.recorded_by),
        reaction=[
            {"manifestation": [{"text": allergy.reaction or REACTION_NOT_RECORDED}], "severity": allergy.severity}
        ],
    )


def encounter_resource(consultation: Consultation) -> FhirEncounter:
    """A consultation: who saw the patient, where, when, and the problem it was about. The clinician's
    notes (symptoms, findings, assessment, plan) are in the REST API, not here."""
    patient, clinician, facility = consultation.patient, consultation.clinician, consultation.facility
    return FhirEncounter(
        id=str(consultation.public_id),
        status="finished",
        # R4B's Encounter.class is a Coding; "class" is a Python keyword, so fhir.resources calls it class_fhir.
        class_fhir={"system": systems.ACT_CODE, "code": "AMB", "display": "ambulatory"},
        subject=reference("Patient", patient.public_id, patient.full_name),
        participant=[
            {
                "type": [
                    {"coding": [{"system": systems.PARTICIPATION_TYPE, "code": "PPRF", "display": "primary performer"}]}
                ],
                "individual": _practitioner(clinician),
            }
        ],
        appointment=[reference("Appointment", consultation.appointment.public_id)]
        if consultation.appointment_id
        else None,
        period={"start": _london(consultation.started_at)},
        reasonReference=(
            [reference("Condition", consultation.condition.public_id, consultation.condition.display)]
            if consultation.condition_id
            else None
        ),
        serviceProvider=reference("Organization", facility.public_id, facility.name),
    )
