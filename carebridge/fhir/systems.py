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
