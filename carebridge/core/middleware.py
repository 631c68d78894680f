"""Pages answer a service's refusal the way the APIs do: with its status and its message, never a 500."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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
