"""The FHIR R4 API at /fhir/: authentication, dispatch to interactions.py, errors as OperationOutcomes.

Bearer tokens only (never the session cookie), so CSRF does not apply: see carebridge/api/auth.py.
"""

import functools
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from carebridge.access.rules import reads_nothing
from carebridge.api.auth import actor_for, bearer_token, user_for_token, www_authenticate
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial
from carebridge.core import clock
from carebridge.core.errors import Conflict, NotPermitted, Refused
from carebridge.fhir import everything
from carebridge.fhir.clinical import CLINICAL, FIELD_PATHS, safety_outcome
from carebridge.fhir.directory import DIRECTORY
from carebridge.fhir.interactions import SUPPORTED as SCHEDULING
from carebridge.fhir.interactions import Call, ResourceSupport
from carebridge.fhir.outcomes import FhirError, error_response, fhir_response, not_found, slot_taken
from carebridge.fhir.referrals import FIELD_PATHS as REFERRAL_FIELD_PATHS
from carebridge.fhir.referrals import REFERRALS
from carebridge.fhir.search import searchset
from carebridge.fhir.systems import FHIR_JSON, FHIR_VERSION
from carebridge.prescribing.services import SafetyWarnings

# Every resource type the server supports: appointments and the directory (interactions.py), the
# clinical record and prescribing (clinical.py), and referrals (referrals.py). The CapabilityStatement
# is generated from these.
SUPPORTED: dict[str, ResourceSupport] = {**SCHEDULING, **DIRECTORY, **CLINICAL, **REFERRALS}

_JSON_FORMATS = {"json", "application/json", FHIR_JSON}
# Where in a resource each input a service names in a refusal (core.errors.Invalid.fields) came from:
# (resource type, create?) -> {field: FHIRPath}. An Appointment create's reason is why the patient comes;
# a PUT or PATCH only gives one to cancel.
_FHIR_PATHS = {
    ("Appointment", True): {"appointment_type": "Appointment.appointmentType", "reason": "Appointment.reasonCode"},
    ("Appointment", False): {"reason": "Appointment.cancelationReason"},
    **FIELD_PATHS,
    **REFERRAL_FIELD_PATHS,
}


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:base"))


def _outcomes(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every failure becomes an OperationOutcome with the right status; never a traceback."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            fmt = request.GET.get("_format")
            if fmt and fmt not in _JSON_FORMATS:
                raise FhirError(406, "not-supported", "This server speaks FHIR JSON only (_format=json).")
            return view(request, *args, **kwargs)
        except FhirError as error:
            response = error_response(error)
        except Http404:
            response = error_response(not_found())
        except Conflict as refusal:
            response = error_response(slot_taken(refusal.message))
        except NotPermitted as refusal:
            # Only reached after the record was found and shown to this user, so 403 reveals nothing.
            response = error_response(FhirError(403, "forbidden", refusal.message))
        except SafetyWarnings as refusal:
            response = fhir_response(safety_outcome(refusal.warnings), status=refusal.status)
        except Refused as refusal:  # Invalid and any other rule: NotFound was caught as Http404 above
            paths_for = _FHIR_PATHS.get((kwargs.get("resource_type", ""), request.method == "POST"), {})
            paths = sorted({paths_for[field] for field in refusal.fields if field in paths_for})
            response = error_response(
                FhirError(refusal.status, "business-rule", refusal.message, expression=paths or None)
            )
        if response.status_code == 401:
            response["WWW-Authenticate"] = www_authenticate(request)
        return response

    # Token-authenticated only: see the module docstring.
    return csrf_exempt(wrapper)


def _call(request: HttpRequest) -> Call:
    user = user_for_token(bearer_token(request) or "")
    if user is None:
        raise FhirError(401, "login", "Send a valid API token: Authorization: Bearer <token>.")
    return Call(request=request, actor=actor_for(request, user, "fhir"), base_url=_base_url(request))


def _support(resource_type: str) -> ResourceSupport:
    support = SUPPORTED.get(resource_type)
    if support is None:
        raise FhirError(404, "not-supported", f"{resource_type} is not a resource type this server supports.")
    return support


def _not_allowed(allowed: list[str], method: str, what: str) -> HttpResponse:
    response = error_response(FhirError(405, "not-supported", f"{method} is not supported on {what}."))
    response["Allow"] = ", ".join(allowed)
    return response


# Paging and format, which every search reads besides its own parameters.
_ALWAYS_USED = frozenset({"_count", "_offset", "_format"})


def used_parameters(request: HttpRequest, resource_type: str, support: ResourceSupport) -> QueryDict:
    """The query's parameters that `support`'s search reads (string ones with :exact and :contains).

    Any other is ignored, as R4 search allows by default; with `Prefer: handling=strict` it answers 400."""
    known = set(_ALWAYS_USED)
    for param in support.search_params:
        known.add(param.name)
        if param.type == "string":
            known |= {f"{param.name}:exact", f"{param.name}:contains"}
    unknown = [name for name in request.GET if name not in known]
    if unknown and _strict(request):
        raise FhirError(
            400,
            "not-supported",
            f"{', '.join(unknown)}: not a search parameter of {resource_type} on this server "
            "(see the CapabilityStatement).",
            expression=unknown,
        )
    used = QueryDict(mutable=True)
    for name, values in request.GET.lists():
        if name in known:
            used.setlist(name, values)
    return used


def _strict(request: HttpRequest) -> bool:
    preferences = [part.strip().lower() for part in request.headers.get("Prefer", "").replace(";", ",").split(",")]
    return "handling=strict" in preferences


@_outcomes
def base(request: HttpRequest) -> HttpResponse:
    raise FhirError(404, "not-supported", "Nothing lives at the base URL: see metadata for what does.")


def _system_reads_nothing(call: Call, resource_type: str, resource_id: str = "") -> HttpResponse:
    """Every read a connected system makes answers as to someone without access (access.rules.reads_nothing),
    and is audited."""
    audit_denial(
        actor=call.actor,
        object_type=AuditObject.CONNECTED_SYSTEM,
        object_id=resource_id,
        detail={"purpose": "fhir read", "resource_type": resource_type, "query": call.params.urlencode()},
    )
    if resource_id:
        raise FhirError(404, "not-found", "No such resource.")
    bundle, _ = searchset(call.request, call.base_url, [], lambda row: row)
    return fhir_response(bundle)


@_outcomes
def type_level(request: HttpRequest, resource_type: str) -> HttpResponse:
    call = _call(request)
    support = _support(resource_type)
    if request.method == "GET":
        # The search sees, and its self link names, only the parameters it uses.
        request.GET = used_parameters(request, resource_type, support)
        if reads_nothing(call.user):
            return _system_reads_nothing(call, resource_type)
        return support.search(call)
    if request.method == "POST" and support.create is not None:
        return support.create(call)
    return _not_allowed(["GET", "POST"] if support.create else ["GET"], request.method, resource_type)


@_outcomes
def instance_level(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    call = _call(request)
    support = _support(resource_type)
    if request.method == "GET":
        if reads_nothing(call.user):
            return _system_reads_nothing(call, resource_type, resource_id)
        return support.read(call, resource_id)
    if request.method == "PUT" and support.update is not None:
        return support.update(call, resource_id)
    if request.method == "PATCH" and support.patch is not None:
        return support.patch(call, resource_id)
    allowed = ["GET"] + [method for method, handler in (("PUT", support.update), ("PATCH", support.patch)) if handler]
    return _not_allowed(allowed, request.method, f"{resource_type}/{resource_id}")


@_outcomes
def patient_everything(request: HttpRequest, resource_id: str) -> HttpResponse:
    """GET Patient/{id}/$everything: the whole record in one Bundle (everything.py)."""
    call = _call(request)
    if request.method != "GET":
        return _not_allowed(["GET"], request.method, f"Patient/{resource_id}/$everything")
    if reads_nothing(call.user):
        return _system_reads_nothing(call, "Patient", resource_id)
    return everything.patient_everything(call, resource_id)


@_outcomes
def unsupported(request: HttpRequest, rest: str) -> HttpResponse:
    _call(request)
    raise FhirError(404, "not-supported", f"{rest} is not an interaction this server supports.")


@_outcomes
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement. Open to anyone: it says what the server does, not what it holds."""
    if request.method != "GET":
        return _not_allowed(["GET"], request.method, "metadata")
    return fhir_response(capability_statement(_base_url(request)))


def capability_statement(base_url: str) -> CapabilityStatement:
    return CapabilityStatement(
        status="active",
        date=clock.now(),
        publisher="Carebridge",
        kind="instance",
        software={"name": "Carebridge"},
        implementation={
            "description": (
                "Carebridge FHIR R4 API: appointments, slots and the people and places they involve; "
                "prescriptions, problems, allergies and consultations; referrals (ServiceRequest), the "
                "hospital's work on them (Task) and their documents (DocumentReference), which two "
                "Carebridges also use to send each other referrals and their progress"
            ),
            "url": base_url,
        },
        fhirVersion=FHIR_VERSION,
        format=["json", FHIR_JSON],
        patchFormat=["application/json-patch+json", FHIR_JSON],
        rest=[
            {
                "mode": "server",
                "documentation": (
                    "Authorization: Bearer <token>, issued with `carebridge api-token USERNAME`. The "
                    "token acts as that user, with their role and relationships; records they may not "
                    "see answer 404, exactly as records that do not exist. A token made with "
                    "`carebridge api-token --system FACILITY` is another organisation's Carebridge: it may "
                    "only POST the referrals that organisation makes (ServiceRequest) and its progress on "
                    "referrals sent to it (Task); every read it makes answers 404 or an empty Bundle. "
                    "Booking a referral's appointment needs a slot and is done in the REST API "
                    "(/api/) and on the referral's page, not through Task."
                ),
                "security": {"cors": False, "description": "Bearer tokens; every patient read and change is audited."},
                "resource": [
                    {
                        "type": name,
                        "profile": f"http://hl7.org/fhir/StructureDefinition/{name}",
                        "documentation": support.documentation,
                        "interaction": [{"code": code} for code in support.interactions],
                        "versioning": "no-version",
                        "readHistory": False,
                        "updateCreate": False,
                        "searchParam": [
                            {"name": param.name, "type": param.type, "documentation": param.documentation}
                            for param in support.search_params
                        ],
                        "operation": [
                            {
                                "name": "everything",
                                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                                "documentation": everything.__doc__.splitlines()[0] if everything.__doc__ else None,
                            }
                        ]
                        if name == "Patient"
                        else None,
                    }
                    for name, support in SUPPORTED.items()
                ],
            }
        ],
    )
