"""FHIR responses: resources as application/fhir+json, and every error as an OperationOutcome."""

from django.http import HttpResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource

from carebridge.fhir.systems import FHIR_JSON, SPINE_ERROR_OR_WARNING_CODE


class FhirError(Exception):
    """Answer with an OperationOutcome: `code` from the FHIR IssueType value set, `text` for people."""

    def __init__(
        self,
        status: int,
        code: str,
        text: str,
        *,
        expression: list[str] | None = None,
        spine_code: str | None = None,
        spine_display: str | None = None,
    ):
        super().__init__(text)
        self.status = status
        self.code = code
        self.text = text
        self.expression = expression
        self.spine_code = spine_code
        self.spine_display = spine_display

    def outcome(self) -> OperationOutcome:
        details: dict = {"text": self.text}
        if self.spine_code:
            details["coding"] = [
                {
                    "system": SPINE_ERROR_OR_WARNING_CODE,
                    "code": self.spine_code,
                    "display": self.spine_display or self.spine_code,
                }
            ]
        issue: dict = {"severity": "error", "code": self.code, "details": details}
        if self.expression:
            issue["expression"] = self.expression
        return OperationOutcome(issue=[issue])


def bad_request(text: str, *, expression: list[str] | None = None) -> FhirError:
    return FhirError(400, "invalid", text, expression=expression)


def unprocessable(text: str, *, code: str = "business-rule", expression: list[str] | None = None) -> FhirError:
    return FhirError(422, code, text, expression=expression)


def not_found(text: str = "No such resource.") -> FhirError:
    # Missing and forbidden look the same from outside (DESIGN section 3).
    return FhirError(404, "not-found", text, spine_code="NO_RECORD_FOUND", spine_display="No record found")


def slot_taken(text: str) -> FhirError:
    return FhirError(
        409,
        "conflict",
        text,
        spine_code="DUPLICATE_REJECTED",
        spine_display="Create would lead to creation of a duplicate resource",
    )


def fhir_response(resource: Resource, status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(resource.model_dump_json(), status=status, content_type=f"{FHIR_JSON}; charset=utf-8")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def error_response(error: FhirError) -> HttpResponse:
    return fhir_response(error.outcome(), status=error.status)
