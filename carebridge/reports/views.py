"""The reports pages: look up the facility, read the filter, ask the service, show or send what it gives.

Who may see them is decided in the service (access.rules.may_view_reports); a refusal it raises is
shown by core.middleware.RefusalPages as a 403 page.
"""

import uuid
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from carebridge.core.actor import Actor
from carebridge.core.roles import ADMINISTRATIVE_ROLES, CLINICAL_ROLES, role_of
from carebridge.organisations.models import Facility
from carebridge.reports import services
from carebridge.reports.figures import facility_clinicians
from carebridge.reports.forms import ReportFilterForm
from carebridge.reports.tables import ReportKind


def _workplace(request: HttpRequest) -> Facility | None:
    """Where the signed-in person works, if anywhere: the facility /reports/ opens."""
    role = role_of(request.user)
    if role in ADMINISTRATIVE_ROLES:
        return request.user.staff_member.facility
    if role in CLINICAL_ROLES:
        return request.user.clinician.workplace
    return None


def _facility(facility_id: uuid.UUID) -> Facility:
    facility = Facility.objects.filter(public_id=facility_id).first()
    if facility is None:
        raise Http404
    return facility


def _filter_query(form: ReportFilterForm) -> str:
    """The filter as an address's query, so a CSV link downloads exactly what the page shows."""
    query = {"from_date": form.period.first_day.isoformat(), "to_date": form.period.last_day.isoformat()}
    if form.chosen_clinician is not None:
        query["clinician"] = str(form.chosen_clinician.public_id)
    return urlencode(query)


def _render(request: HttpRequest, facility: Facility | None) -> HttpResponse:
    actor = Actor.from_request(request)
    clinicians = facility_clinicians(facility) if facility is not None else []
    form = ReportFilterForm(request.GET, clinicians=clinicians)
    if not form.is_valid():
        # Refused first if they may not see reports at all; otherwise the form says what to correct.
        services.reports_check(actor=actor, facility=facility)
        return render(request, "reports/reports.html", {"facility": facility, "form": form, "reports": []})
    report_filter = services.ReportFilter(period=form.period, clinician=form.chosen_clinician)
    reports = services.reports_view(actor=actor, facility=facility, report_filter=report_filter)
    assert facility is not None  # the service refuses anyone without a facility
    return render(
        request,
        "reports/reports.html",
        {
            "facility": facility,
            "form": form,
            "reports": reports,
            "report_filter": report_filter,
            "query": _filter_query(form),
        },
    )


@require_GET
@login_required
def own_reports(request: HttpRequest) -> HttpResponse:
    return _render(request, _workplace(request))


@require_GET
@login_required
def facility_reports(request: HttpRequest, facility_id: uuid.UUID) -> HttpResponse:
    return _render(request, _facility(facility_id))


@require_GET
@login_required
def report_csv(request: HttpRequest, facility_id: uuid.UUID, kind: str) -> HttpResponse:
    facility = _facility(facility_id)
    try:
        report_kind = ReportKind(kind)
    except ValueError:
        raise Http404 from None
    actor = Actor.from_request(request)
    form = ReportFilterForm(request.GET, clinicians=facility_clinicians(facility))
    if not form.is_valid():
        services.reports_check(actor=actor, facility=facility)
        return render(request, "reports/reports.html", {"facility": facility, "form": form, "reports": []}, status=422)
    download = services.report_download(
        actor=actor,
        facility=facility,
        kind=report_kind,
        report_filter=services.ReportFilter(period=form.period, clinician=form.chosen_clinician),
    )
    response = HttpResponse(download.text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response
