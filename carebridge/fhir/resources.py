"""Carebridge records as FHIR R4 resources, built with the fhir.resources R4B models so they validate.

Only what the viewer may see goes in: Patient carries demographics (what reception may see too), and
Appointment never carries the clinical-side appointment notes.
"""

import datetime as dt

from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.location import Location as FhirLocation
from fhir.resources.R4B.organization import Organization as FhirOrganization
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner
from fhir.resources.R4B.schedule import Schedule as FhirSchedule
from fhir.resources.R4B.slot import Slot as FhirSlot

from carebridge.core import clock
from carebridge.fhir import systems
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient
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


def location_resource(facility: Facility) -> FhirLocation:
    """Each facility is one place: the Location where its appointments happen, run by its Organization."""
    address = _address(facility.address, facility.postcode, "work")
    return FhirLocation(
        id=str(facility.public_id),
        status="active",
        name=facility.name,
        mode="instance",
        telecom=_telecom(facility.phone_number, facility.email, "work"),
        address=address[0] if address else None,
        managingOrganization=reference("Organization", facility.public_id, facility.name),
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
