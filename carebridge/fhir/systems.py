"""Identifier and code systems the FHIR API speaks (UK Core naming where one exists)."""

from carebridge.core.nhs_number import NHS_NUMBER_SYSTEM

__all__ = ["NHS_NUMBER_SYSTEM"]

FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"

ODS_ORGANISATION_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
# Doctors' 7-digit General Medical Council numbers and nurses' Nursing and Midwifery Council PINs,
# as UK Core names them (https://fhir.hl7.org.uk/Id/...).
GMC_NUMBER = "https://fhir.hl7.org.uk/Id/gmc-number"
NMC_NUMBER = "https://fhir.hl7.org.uk/Id/nmc-number"

# Records with no national identifier (a facility without an ODS code) are identified by their
# coursework source ID under a Carebridge system. `.example` until the deployment has its own domain.
CAREBRIDGE_ID_BASE = "https://fhir.carebridge.example/Id/"
CAREBRIDGE_FACILITY_ID = CAREBRIDGE_ID_BASE + "facility"
CAREBRIDGE_PATIENT_ID = CAREBRIDGE_ID_BASE + "patient"
CAREBRIDGE_APPOINTMENT_ID = CAREBRIDGE_ID_BASE + "appointment"

# UK Core: whether an NHS number has been traced and verified (01) or is present but not traced (02).
NHS_NUMBER_VERIFICATION_EXTENSION = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)
NHS_NUMBER_VERIFICATION_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"

ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
CONTACT_ROLE = "http://terminology.hl7.org/CodeSystem/v2-0131"

# The GP Connect error codes, so a GP Connect client recognises a taken slot (DUPLICATE_REJECTED).
SPINE_ERROR_OR_WARNING_CODE = "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1"
CAREBRIDGE_PRESCRIPTION_ID = CAREBRIDGE_ID_BASE + "prescription"

# --- Prescribing and the clinical record ---------------------------------------------------------------
# Carebridge's own vocabularies are URNs, not URLs: a code system's identity must not change with the host
# name a client happens to reach the server by, and these are not published anywhere to be looked up.
# `urn:carebridge:` is not a registered URN namespace; it is an opaque, stable name for these lists.
SAFETY_WARNING = "urn:carebridge:safety-warning"  # prescribing.safety.WarningKind values
FORMULARY_VOCABULARY = "urn:carebridge:formulary-vocabulary"  # allergy substances: formulary keys and classes

COURSE_OF_THERAPY = "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy"
# HL7's list has no repeat dispensing; the NHS's extends it with continuous-repeat-dispensing.
NHS_COURSE_OF_THERAPY = "https://fhir.nhs.uk/CodeSystem/medicationrequest-course-of-therapy"
# UK Core: how many issues of a repeat have been made, and when its authorisation ends (our review date).
UKCORE_REPEAT_INFORMATION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation"
UCUM = "http://unitsofmeasure.org"

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

# --- Referrals ---------------------------------------------------------------------------------------
# The e-Referral Service's Unique Booking Reference Number (12 digits), and its priorities.
UBRN = "https://fhir.nhs.uk/Id/UBRN"
ERS_PRIORITY = "https://fhir.nhs.uk/CodeSystem/eRS-Priority"
# ServiceRequest.priority is a bare code (routine | urgent | asap | stat) with no room for e-RS's
# two-week wait, so the e-RS priority travels beside it in this extension (a valueCoding in ERS_PRIORITY).
ERS_PRIORITY_EXTENSION = "https://fhir.carebridge.example/StructureDefinition/ers-priority"
CAREBRIDGE_REFERRAL_ID = CAREBRIDGE_ID_BASE + "referral"
# ServiceRequest.category: SNOMED CT 3457005 |Patient referral|.
PATIENT_REFERRAL = "3457005"
# Which of a referral's documents a DocumentReference is: referrals.models.DocumentKind values.
REFERRAL_DOCUMENT_KIND = "urn:carebridge:referral-document"
# The named inputs and outputs of a referral's Task (priority, priority-comment, consultant; outcome,
# clinic-letter).
REFERRAL_TASK_PARAMETER = "urn:carebridge:referral-task"
