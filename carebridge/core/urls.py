from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import path
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

app_name = "core"


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and `make run`'s wait: answers without touching the database."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers and bookmarks ask for /favicon.ico whatever a page links: the static file is the answer."""
    return HttpResponsePermanentRedirect(static("carebridge/favicon.ico"))


def _about(name: str) -> Callable[..., HttpResponseBase]:
    # Open to everyone, signed in or not: the footer links to them from every page, the sign-in page too.
    return TemplateView.as_view(template_name=f"core/about/{name}.html", http_method_names=["get", "head"])


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("accessibility/", _about("accessibility"), name="accessibility"),
    path("privacy-notice/", _about("privacy"), name="privacy"),
    path("contact/", _about("contact"), name="contact"),
]
