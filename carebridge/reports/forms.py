"""The reports' filter: a period and, optionally, one of the facility's clinicians. A GET form, so each
view of a report has its own address (and its CSV link carries the same filter)."""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms

from carebridge.core.forms import NHSDateField, PlainMessages
from carebridge.organisations.models import Clinician
from carebridge.reports.figures import LONGEST_PERIOD_DAYS, Period, default_period


def _with_default(data: Any, name: str, day: dt.date) -> Any:
    """The query with the default date filled in where none was typed, so the boxes show the period."""
    data = data.copy() if data is not None else {}
    if not data.get(name) and not any(data.get(f"{name}_{part}") for part in ("day", "month", "year")):
        data[name] = day.isoformat()
    return data


class ReportFilterForm(PlainMessages, forms.Form):
    clinician = forms.ChoiceField(
        label="Clinician", required=False, error_messages={"invalid_choice": "Choose a clinician from the list"}
    )
    from_date = NHSDateField(label="From", required=False, help_text="For example, 7 9 2026")
    to_date = NHSDateField(label="To", required=False, help_text="For example, 30 11 2026")

    def __init__(self, data: Any = None, *, clinicians: Iterable[Clinician]):
        self.clinicians = {str(clinician.public_id): clinician for clinician in clinicians}
        defaults = default_period()
        data = _with_default(data, "from_date", defaults.first_day)
        data = _with_default(data, "to_date", defaults.last_day)
        super().__init__(data)
        self.fields["clinician"].choices = [
            ("", "All clinicians"),
            *((public_id, clinician.display_name) for public_id, clinician in self.clinicians.items()),
        ]
        self.fields["clinician"].widget.attrs["class"] = "nhsuk-select"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        defaults = default_period()
        first: dt.date | None = cleaned.get("from_date")
        last: dt.date | None = cleaned.get("to_date")
        if "from_date" in self.errors or "to_date" in self.errors:
            return cleaned
        first, last = first or defaults.first_day, last or defaults.last_day
        if first > last:
            self.add_error("to_date", "To must be the same as or after from")
        elif (last - first).days >= LONGEST_PERIOD_DAYS:
            self.add_error("to_date", "Choose a period of 2 years or less")
        cleaned["period"] = Period(first_day=first, last_day=last)
        return cleaned

    @property
    def period(self) -> Period:
        return self.cleaned_data["period"]

    @property
    def chosen_clinician(self) -> Clinician | None:
        return self.clinicians.get(self.cleaned_data.get("clinician") or "")
