"""Pages answer a service's refusal the way the APIs do: with its status and its message, never a 500;
and input no view can use is refused on every edge before any view runs."""

import re
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from carebridge.core.clock import FIRST_DAY, LAST_DAY, DateOutOfRange
from carebridge.core.errors import NotFound, Refused


class RefusalPages:
    """A Refused that a view lets through becomes a page with the refusal's status (403, 409, 422).

    NotFound is an Http404 and gets Django's ordinary 404 page, the same as a page that is not there.
    Views that re-show a form with the message catch Invalid themselves; this is for the rest, such as
    a person who may see a patient but not take the action they asked for.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Refused) and not isinstance(exception, NotFound):
            return render(request, "refused.html", {"message": exception.message}, status=exception.status)
        return None


# --- Input every edge refuses before any view runs -------------------------------------------------------

# Longer than any address Carebridge makes (a FHIR search with every parameter is well under 1,000);
# gunicorn's own limit (limit_request_line, 4,094 by default) answers anything longer than that itself.
MAX_URL_LENGTH = 4096

_NUL_IN_FORM = re.compile(rb"%00|\x00")
_NUL_IN_JSON = re.compile(rb"\\u0000|\x00", re.IGNORECASE)


class InputProblem(Exception):
    """Bad input, answered in the edge's own format: `code` names it for REST clients, `issue` is the
    FHIR IssueType, `status` 400, 413 or 414."""

    def __init__(self, status: int, code: str, issue: str, message: str):
        super().__init__(message)
        self.status, self.code, self.issue, self.message = status, code, issue, message


def nul_byte() -> InputProblem:
    return InputProblem(
        400, "nul-byte", "invalid", "The request contains a NUL character (%00), which no text may hold."
    )


def body_too_large() -> InputProblem:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return InputProblem(413, "too-large", "too-long", f"The request body is too large: at most {limit:,} bytes.")


def url_too_long() -> InputProblem:
    return InputProblem(
        414, "url-too-long", "too-long", f"The address is too long: at most {MAX_URL_LENGTH:,} characters."
    )


def date_out_of_range(message: str) -> InputProblem:
    return InputProblem(400, "date-out-of-range", "invalid", message)


def problem_response(request: HttpRequest, problem: InputProblem) -> HttpResponse:
    """The same refusal on every edge, each in its own format: FHIR an OperationOutcome, the REST API
    {"detail", "code"}, a page a page that says what to correct."""
    path = request.path_info
    if path.startswith("/fhir/"):
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": problem.issue, "details": {"text": problem.message}}],
        }
        return JsonResponse(outcome, status=problem.status, content_type="application/fhir+json; charset=utf-8")
    if path.startswith("/api/"):
        return JsonResponse({"detail": problem.message, "code": problem.code}, status=problem.status)
    return render(request, "bad_input.html", {"message": problem.message}, status=problem.status)


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path_info or "\x00" in unquote_plus(request.META.get("QUERY_STRING", "")):
        return True
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        # Files may hold anything; the text fields may not. Django parses these with its own limits.
        return any("\x00" in key or "\x00" in value for key, values in request.POST.lists() for value in values)
    body = request.body
    if content_type == "application/x-www-form-urlencoded":
        return bool(_NUL_IN_FORM.search(body))
    return bool(_NUL_IN_JSON.search(body))


class InputLimits:
    """Refuses, before any view runs, what no view can use: a NUL character anywhere in the address or
    body (PostgreSQL refuses NUL in text, so it could only end as a 500), a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE (files excepted), and an address over MAX_URL_LENGTH. A date beyond
    the supported ones (core.clock.DateOutOfRange) that a view lets through is answered here too.
    Each answer is in the edge's own format (problem_response); nothing has been read or written."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            self._check(request)
        except InputProblem as problem:
            return problem_response(request, problem)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        if len(request.path_info) + len(request.META.get("QUERY_STRING", "")) > MAX_URL_LENGTH:
            raise url_too_long()
        content_type = request.content_type or ""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise InputProblem(400, "bad-request", "invalid", "The Content-Length header is not a number.") from None
        if content_type != "multipart/form-data" and length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise body_too_large()
        try:
            if _has_nul(request):
                raise nul_byte()
        except RequestDataTooBig:  # a body sent without a Content-Length, or multipart fields too large
            raise body_too_large() from None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Date arithmetic overflows only on a date far outside the supported ones (9999-12-31 plus a day).
        if isinstance(exception, DateOutOfRange):
            return problem_response(request, date_out_of_range(str(exception)))
        if isinstance(exception, OverflowError):
            return problem_response(request, date_out_of_range(_OVERFLOW))
        if isinstance(exception, RequestDataTooBig):
            return problem_response(request, body_too_large())
        return None


_OVERFLOW = (
    f"That date is outside the dates Carebridge works with: give a date between "
    f"{FIRST_DAY:%d/%m/%Y} and {LAST_DAY:%d/%m/%Y}."
)
