"""Pages answer a service's refusal the way the APIs do: with its status and its message, never a 500;
and input no view can use is refused on every edge before any view runs."""

import io
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


# --- Which requests are the pages' -------------------------------------------------------------------

# The REST API and the FHIR API: token-authenticated only (carebridge/api/auth.py).
API_PATH_PREFIXES = ("/api/", "/fhir/")


def bearer_api_call(request: HttpRequest) -> bool:
    """A call to the REST or FHIR API that names its user with a bearer token.

    Such a call acts as the token's user and never as the browser's session (api/auth.py), so what is
    about the person at the screen (the idle sign-out) must not count it. Without a token (a browser on
    /api/docs, or a call that will be answered 401) a request is treated as a page's."""
    return request.path_info.startswith(API_PATH_PREFIXES) and request.META.get(
        "HTTP_AUTHORIZATION", ""
    ).lower().startswith("bearer ")


# --- Input every edge refuses before any view runs -------------------------------------------------------

# Longer than any address Carebridge makes (a FHIR search with every parameter is well under 1,000);
# gunicorn's own limit (limit_request_line, 4,094 by default) answers anything longer than that itself.
MAX_URL_LENGTH = 4096

# The few addresses whose JSON carries files, base64-encoded: a referral's attachments (at most 15 MB
# of files together, referrals.attachments.MAX_TOTAL_ATTACHMENT_BYTES) come to about 21 MB as base64,
# beside the letter's text. These, and only these, may send a body up to their own limit instead of
# DATA_UPLOAD_MAX_MEMORY_SIZE; each pattern must match the whole path. Both APIs that take referrals
# name theirs here (the REST API's, and FHIR's ServiceRequest and Task), so there is one mechanism.
REFERRAL_BODY_BYTES = 22 * 1024 * 1024
# The same files and the referral letters beside them, with room to spare.
FHIR_REFERRAL_BODY_BYTES = 32 * 1024 * 1024
LARGE_BODY_PATHS: tuple[tuple[re.Pattern[str], int], ...] = (
    # POST /api/referrals (make one) and POST /api/referrals/{id}/information (attachments again).
    (re.compile(r"/api/referrals(/[^/]+/information)?/?"), REFERRAL_BODY_BYTES),
    # POST /fhir/ServiceRequest and /fhir/Task: a referral delivered by another Carebridge carries its
    # attachments and its letter(s) inline, a clinic letter comes back inside a Task.
    (re.compile(r"/fhir/(ServiceRequest|Task)/?"), FHIR_REFERRAL_BODY_BYTES),
)


def body_limit(path: str) -> int:
    """The largest body a request to `path` may send (files uploaded as multipart/form-data apart)."""
    for pattern, limit in LARGE_BODY_PATHS:
        if pattern.fullmatch(path):
            return max(limit, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


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


def body_too_large(limit: int | None = None) -> InputProblem:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if limit is None else limit
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
    DATA_UPLOAD_MAX_MEMORY_SIZE (files excepted; the LARGE_BODY_PATHS have their own limit), and an
    address over MAX_URL_LENGTH. A date beyond the supported ones (core.clock.DateOutOfRange) that a
    view lets through is answered here too. Each answer is in the edge's own format (problem_response);
    nothing has been read or written."""

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
        limit = body_limit(request.path_info)
        if content_type != "multipart/form-data":
            if length > limit:
                raise body_too_large(limit)
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                _read_large_body(request, length)
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


def _read_large_body(request: HttpRequest, length: int) -> None:
    """Reads a body allowed past DATA_UPLOAD_MAX_MEMORY_SIZE (its path is in LARGE_BODY_PATHS, its
    length already checked against that path's limit) and keeps it where `request.body` finds it.

    Django's `HttpRequest.body` refuses anything over the global setting, whatever the path; raising
    that setting instead would let every address take 22 MB. So the body is read here, once, exactly
    as `HttpRequest.body` itself keeps it (`_body`, and `_stream` for a later `read()`)."""
    body = request.read(length)
    request._body = body
    request._stream = io.BytesIO(body)


_OVERFLOW = (
    f"That date is outside the dates Carebridge works with: give a date between "
    f"{FIRST_DAY:%d/%m/%Y} and {LAST_DAY:%d/%m/%Y}."
)
