"""HealthcareService: what each facility offers, for the directory. One per facility, with the facility's
id (as its Organization and Location have): the services and specialities it offers (`specialty`, as the
manager keeps them on the facility details page), how to reach it, the referral inbox, and its weekly
opening hours. Directory data: any token user may read it (a connected system reads nothing, views.py).
"""

from django.http import HttpResponse
from fhir.resources.R4B.healthcareservice import HealthcareService as FhirHealthcareService

from carebridge.fhir import resources
from carebridge.fhir.interactions import (
    _COUNT,
    Call,
    ResourceSupport,
    SearchParam,
    _bundle_response,
    _get_or_404,
    _id_filter,
)
from carebridge.fhir.outcomes import fhir_response
from carebridge.fhir.search import string_filter
from carebridge.organisations.models import Facility

# How referrals reach the service (HL7 service-referral-method): by email to the referral inbox.
REFERRAL_METHOD = "http://terminology.hl7.org/CodeSystem/service-referral-method"


def healthcare_service_resource(facility: Facility) -> FhirHealthcareService:
    telecom = []
    if facility.phone_number:
        telecom.append({"system": "phone", "value": facility.phone_number, "use": "work"})
    if facility.referral_address:
        # The referral inbox, where it differs from the main address, is how referrals reach the service.
        telecom.append({"system": "email", "value": facility.referral_address, "use": "work"})
    hours = resources.hours_of_operation(facility)
    return FhirHealthcareService(
        id=str(facility.public_id),
        active=True,
        providedBy=resources.reference("Organization", facility.public_id, facility.name),
        location=[resources.reference("Location", facility.public_id, facility.name)],
        name=facility.name,
        category=[{"text": facility.get_facility_type_display()}],
        specialty=[{"text": name} for name in facility.specialities_offered or []] or None,
        telecom=telecom or None,
        referralMethod=[{"coding": [{"system": REFERRAL_METHOD, "code": "mail", "display": "Mail"}]}]
        if facility.referral_address
        else None,
        appointmentRequired=True,
        availableTime=[
            {
                "daysOfWeek": row["daysOfWeek"],
                "availableStartTime": row["openingTime"],
                "availableEndTime": row["closingTime"],
            }
            for row in hours
        ]
        if hours
        else None,
        availabilityExceptions=(facility.opening_hours or None) if hours is None else None,
    )


def _facilities():
    return Facility.objects.prefetch_related("opening_times")


def healthcare_service_read(call: Call, resource_id: str) -> HttpResponse:
    return fhir_response(healthcare_service_resource(_get_or_404(_facilities(), resource_id)))


def healthcare_service_search(call: Call) -> HttpResponse:
    found = _facilities()
    if (condition := string_filter("name", call.params, "name")) is not None:
        found = found.filter(condition)
    found = found.filter(
        _id_filter(call, "organization", "public_id", "Organization"),
        _id_filter(call, "location", "public_id", "Location"),
        _id_filter(call, "_id", "public_id", "HealthcareService"),
    )
    return _bundle_response(call, found.order_by("name", "pk"), healthcare_service_resource)


DIRECTORY: dict[str, ResourceSupport] = {
    "HealthcareService": ResourceSupport(
        read=healthcare_service_read,
        search=healthcare_service_search,
        documentation=(
            "What each facility offers (same id as its Organization): its services and specialities, "
            "phone, referral inbox and weekly opening hours (directory data)."
        ),
        search_params=(
            SearchParam("name", "string", "Name starts with"),
            SearchParam("organization", "reference", "Organization/<id>"),
            SearchParam("location", "reference", "Location/<id>"),
            SearchParam("_id", "token", "The HealthcareService id"),
            SearchParam(*_COUNT),
        ),
    )
}
