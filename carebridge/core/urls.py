from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

app_name = "core"


@require_GET
def healthz(request):
    """For load balancers and `make run`'s wait: answers without touching the database."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("healthz", healthz, name="healthz")]
