"""Showing and downloading the managers' reports: the rule asked, the figures built, the audit row written.

Reports count and name no patient, so they ask no patient access; who may see them is
`access.rules.may_view_reports` (the facility's own managers). A refusal is audited once, after the
transaction, by `refusals_audited`; a report shown or downloaded is audited with what was asked for.
"""

from dataclasses import dataclass

from django.db import transaction

from carebridge.access.rules import may_view_reports
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.refusals import refusals_audited
from carebridge.audit.services import audit_record
from carebridge.core.actor import Actor
from carebridge.core.errors import NotFound, NotPermitted
from carebridge.organisations.models import Clinician, Facility
from carebridge.reports.figures import Period, default_period
from carebridge.reports.tables import Report, ReportKind, build_report, csv_filename, kinds_for


@dataclass(frozen=True)
class ReportFilter:
    period: Period
    clinician: Clinician | None = None

    def audit_detail(self) -> dict[str, str]:
        detail = {"from": self.period.first_day.isoformat(), "to": self.period.last_day.isoformat()}
        if self.clinician is not None:
            detail["clinician"] = str(self.clinician.public_id)
        return detail


@dataclass(frozen=True)
class CsvDownload:
    filename: str
    text: str


def _require_reports(actor: Actor, facility: Facility | None, report_filter: ReportFilter) -> Facility:
    problem = may_view_reports(actor.user, facility_id=facility.pk if facility is not None else None)
    if problem is not None or facility is None:
        raise NotPermitted(problem or "Reports are for the facility's managers.")
    clinician = report_filter.clinician
    if clinician is not None and clinician.workplace_id != facility.pk:
        # Only the facility's own clinicians are offered; another's is not one of its figures' names.
        raise NotFound("No such clinician at this facility.")
    return facility


@refusals_audited(AuditObject.REPORT, target="facility")
def reports_check(*, actor: Actor, facility: Facility | None) -> Facility:
    """Refuse (audited) anyone who may not see the facility's reports, before a filter they typed wrong is
    shown back to them; nothing is shown, so nothing else is recorded."""
    return _require_reports(actor, facility, ReportFilter(period=default_period()))


@refusals_audited(AuditObject.REPORT, target="facility")
@transaction.atomic
def reports_view(*, actor: Actor, facility: Facility | None, report_filter: ReportFilter) -> list[Report]:
    """The reports `facility` has (a surgery's four, a hospital's three), for the filter. `facility` None:
    the person works at no facility, and is refused like any other non-manager."""
    facility = _require_reports(actor, facility, report_filter)
    kinds = kinds_for(facility)
    clinician_id = report_filter.clinician.pk if report_filter.clinician is not None else None
    reports = [
        build_report(kind, facility=facility, period=report_filter.period, clinician_id=clinician_id) for kind in kinds
    ]
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type=AuditObject.REPORT,
        object_id=str(facility.public_id),
        detail={"reports": [kind.value for kind in kinds], **report_filter.audit_detail()},
    )
    return reports


@refusals_audited(AuditObject.REPORT, target="facility")
@transaction.atomic
def report_download(
    *, actor: Actor, facility: Facility | None, kind: ReportKind, report_filter: ReportFilter
) -> CsvDownload:
    """One report's table as CSV, audited as an export."""
    facility = _require_reports(actor, facility, report_filter)
    if kind not in kinds_for(facility):
        raise NotFound(f"{facility.name} has no {kind.title.lower()} report.")
    clinician_id = report_filter.clinician.pk if report_filter.clinician is not None else None
    report = build_report(kind, facility=facility, period=report_filter.period, clinician_id=clinician_id)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=AuditObject.REPORT,
        object_id=str(facility.public_id),
        detail={"report": kind.value, "format": "csv", "rows": len(report.table.rows), **report_filter.audit_detail()},
    )
    return CsvDownload(filename=csv_filename(facility, kind, report_filter.period), text=report.table.csv_text())
