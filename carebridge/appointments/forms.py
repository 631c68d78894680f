"""The appointment pages' forms. They check what a person typed; the rules live in services.py."""

import datetime as dt
import re
from collections.abc import Iterable

from django import forms

from carebridge.core import clock
from carebridge.core.forms import NHSDateField, PlainMessages
from carebridge.organisations.models import Clinician
from carebridge.scheduling.models import Weekday

# The appointment types in the coursework data, offered as checkboxes when a session is added.
COMMON_APPOINTMENT_TYPES = [
    "Routine Consultation",
    "Follow-up",
    "Health Check",
    "Vaccination",
    "Urgent Consultation",
    "Specialist Consultation",
    "Emergency",
]


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


def _styled(form: forms.Form) -> None:
    """The NHS.UK class for each kind of input; radios and checkboxes are laid out by the template."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(field, NHSDateField):
            continue  # the NHS.UK date input's three boxes carry their own classes
        if isinstance(widget, forms.RadioSelect):
            widget.attrs.setdefault("class", "nhsuk-radios__input")
        elif isinstance(widget, forms.CheckboxSelectMultiple):
            widget.attrs.setdefault("class", "nhsuk-checkboxes__input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "nhsuk-select")
        elif isinstance(widget, forms.Textarea):
            widget.attrs.setdefault("class", "nhsuk-textarea")
        elif isinstance(widget, TimeInput):
            widget.attrs.setdefault("class", "nhsuk-input nhsuk-input--width-10")
        else:
            widget.attrs.setdefault("class", "nhsuk-input")


def _with_default(data, name: str, day: dt.date):
    """A GET form's data with a date filled in when none was given, so the page shows which day it is."""
    if data is None or data.get(name) or any(data.get(f"{name}_{part}") for part in ("day", "month", "year")):
        return data
    data = data.copy()
    data[name] = day.isoformat()
    return data


def _clinician_choices(clinicians: Iterable[Clinician], empty_label: str) -> list[tuple[str, str]]:
    return [("", empty_label), *((str(clinician.public_id), clinician.display_name) for clinician in clinicians)]


class SlotSearchForm(PlainMessages, forms.Form):
    """Which free times to show: a GET form, so every search has its own address."""

    clinician = forms.ChoiceField(label="Clinician", required=False)
    from_date = NHSDateField(label="From", required=False, help_text="For example, 30 11 2026")
    appointment_type = forms.ChoiceField(label="Type of appointment", required=False)

    def __init__(self, data=None, *, clinicians: Iterable[Clinician], types: list[str] | None):
        """`types` None: the type is fixed (moving an appointment keeps its type), so not asked."""
        super().__init__(_with_default(data, "from_date", clock.today()))
        self.fields["clinician"].choices = _clinician_choices(clinicians, "Any clinician")
        if types is None:
            del self.fields["appointment_type"]
        else:
            self.fields["appointment_type"].choices = [("", "Any type"), *((name, name) for name in types)]
        _styled(self)

    def clean_from_date(self) -> dt.date:
        day = self.cleaned_data["from_date"] or clock.today()
        if day < clock.today():
            raise forms.ValidationError("Choose today or a later date.")
        return day


class BookingForm(PlainMessages, forms.Form):
    appointment_type = forms.ChoiceField(
        label="Type of appointment",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the type of appointment."},
    )
    reason = forms.CharField(
        label="What is the appointment about?",
        max_length=300,
        help_text="A few words for the clinician, such as 'cough for three weeks'.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Say briefly what the appointment is about.",
            "max_length": "Keep the reason to 300 characters or fewer.",
        },
    )

    def __init__(self, data=None, *, types: list[str], initial_type: str = "", initial_reason: str = ""):
        initial = {
            "appointment_type": initial_type if initial_type in types else (types[0] if len(types) == 1 else ""),
            "reason": initial_reason,
        }
        super().__init__(data, initial=initial)
        self.fields["appointment_type"].choices = [(name, name) for name in types]
        _styled(self)


class CancelForm(PlainMessages, forms.Form):
    reason = forms.CharField(
        label="Why is the appointment being cancelled?",
        max_length=300,
        help_text="For example, 'feeling better' or 'cannot get time off work'.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Say why the appointment is being cancelled.",
            "max_length": "Keep the reason to 300 characters or fewer.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class DayListForm(PlainMessages, forms.Form):
    date = NHSDateField(label="Date", required=False, help_text="For example, 30 11 2026")
    clinician = forms.ChoiceField(label="Clinician", required=False)

    def __init__(self, data=None, *, clinicians: Iterable[Clinician] | None = None):
        super().__init__(_with_default(data, "date", clock.today()))
        if clinicians is None:
            del self.fields["clinician"]
        else:
            self.fields["clinician"].choices = _clinician_choices(clinicians, "All clinicians")
        _styled(self)

    def day(self) -> dt.date:
        if self.is_bound and self.is_valid() and self.cleaned_data["date"]:
            return self.cleaned_data["date"]
        return clock.today()

    def clinician_public_id(self) -> str:
        if self.is_bound and self.is_valid() and "clinician" in self.cleaned_data:
            return self.cleaned_data["clinician"]
        return ""


class CompleteForm(forms.Form):
    """Why an appointment the patient was never checked in for is done: the service requires it."""

    reason = forms.CharField(
        label="Why is this appointment done without the patient being checked in?",
        max_length=300,
        help_text="For example 'Seen by telephone' or 'Seen straight away, reception not told'.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the appointment is done without the patient being checked in."},
    )

    def __init__(self, data=None):
        super().__init__(data)
        _styled(self)


# --- Schedules (facility managers) ----------------------------------------------------------------------

_INTERVAL = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*(?:-|–|to)\s*(\d{1,2})[:.](\d{2})\s*$")


def parse_opening_intervals(text: str) -> list[tuple[dt.time, dt.time]]:
    """'08:00-12:30, 13:30-18:00' as time pairs; blank is closed. Raises ValidationError in words."""
    intervals = []
    for part in (piece for piece in text.split(",") if piece.strip()):
        match = _INTERVAL.match(part)
        if not match:
            raise forms.ValidationError(f"'{part.strip()}' is not a time range. Write it like 08:00-18:00.")
        hours_open, minutes_open, hours_close, minutes_close = (int(group) for group in match.groups())
        try:
            opens, closes = dt.time(hours_open, minutes_open), dt.time(hours_close, minutes_close)
        except ValueError:
            raise forms.ValidationError(f"'{part.strip()}' has a time that does not exist.") from None
        if not opens < closes:
            raise forms.ValidationError(f"In '{part.strip()}' the closing time must be after the opening time.")
        intervals.append((opens, closes))
    intervals.sort()
    for (_, first_closes), (second_opens, _) in zip(intervals, intervals[1:], strict=False):
        if second_opens < first_closes:
            raise forms.ValidationError("The times overlap. Give each part of the day once.")
    return intervals


def format_opening_intervals(intervals: Iterable[tuple[dt.time, dt.time]]) -> str:
    return ", ".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in intervals)


class OpeningHoursForm(PlainMessages, forms.Form):
    """One line per weekday, as people write opening hours on a door."""

    def __init__(self, data=None, *, current: dict[int, list[tuple[dt.time, dt.time]]]):
        super().__init__(data)
        for weekday, label in Weekday.choices:
            self.fields[f"day_{weekday}"] = forms.CharField(
                label=label,
                required=False,
                max_length=100,
                initial=format_opening_intervals(current.get(weekday, [])),
            )
        _styled(self)
        for field in self.fields.values():
            field.widget.attrs["class"] += " nhsuk-input--width-20"

    def clean(self):
        data = super().clean()
        self.hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
        for weekday, _ in Weekday.choices:
            name = f"day_{weekday}"
            if name not in data:
                continue
            try:
                intervals = parse_opening_intervals(data[name])
            except forms.ValidationError as problem:
                self.add_error(name, problem)
                continue
            if intervals:
                self.hours[weekday] = intervals
        return data


class SessionForm(PlainMessages, forms.Form):
    clinician = forms.ChoiceField(label="Clinician", error_messages={"required": "Choose the clinician."})
    weekday = forms.TypedChoiceField(label="Day of the week", coerce=int, choices=Weekday.choices)
    start_time = forms.TimeField(
        label="Starts at",
        widget=TimeInput,
        error_messages={
            "required": "Enter the time the session starts.",
            "invalid": "Enter the start as a time, for example 09:00.",
        },
    )
    end_time = forms.TimeField(
        label="Ends at",
        widget=TimeInput,
        error_messages={
            "required": "Enter the time the session ends.",
            "invalid": "Enter the end as a time, for example 12:00.",
        },
    )
    slot_minutes = forms.IntegerField(
        label="Length of each appointment, in minutes",
        initial=15,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Enter how long each appointment is.",
            "invalid": "Enter the length as a whole number of minutes.",
        },
    )
    appointment_types = forms.MultipleChoiceField(
        label="Types of appointment offered",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(name, name) for name in COMMON_APPOINTMENT_TYPES],
    )
    other_types = forms.CharField(
        label="Other types (optional)",
        required=False,
        max_length=300,
        help_text="Separate several with commas, for example: Smear test, Blood test",
    )
    valid_from = NHSDateField(
        label="First day (optional)", required=False, help_text="Leave blank to start today. For example, 4 1 2027"
    )

    def __init__(self, data=None, *, clinicians: Iterable[Clinician], initial_clinician: str = ""):
        super().__init__(data, initial={"clinician": initial_clinician})
        self.fields["clinician"].choices = _clinician_choices(clinicians, "Choose a clinician")
        _styled(self)
        self.fields["slot_minutes"].widget.attrs["class"] += " nhsuk-input--width-3"

    def types(self) -> list[str]:
        chosen = list(self.cleaned_data["appointment_types"])
        for name in self.cleaned_data["other_types"].split(","):
            if name.strip() and name.strip() not in chosen:
                chosen.append(name.strip())
        return chosen


class SessionEndForm(PlainMessages, forms.Form):
    last_day = NHSDateField(
        label="Last day the session runs",
        help_text="Booked appointments after this day are listed for rebooking, not cancelled. For example, 31 1 2027",
        error_messages={"required": "Enter the last day the session runs"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class ExceptionForm(PlainMessages, forms.Form):
    clinician = forms.ChoiceField(label="Who is away", required=False)
    first_day = NHSDateField(
        label="First day", help_text="For example, 24 12 2026", error_messages={"required": "Enter the first day"}
    )
    from_time = forms.TimeField(
        label="From (optional)",
        required=False,
        widget=TimeInput,
        error_messages={"invalid": "Enter the time as, for example, 13:00."},
    )
    last_day = NHSDateField(
        label="Last day", help_text="For example, 2 1 2027", error_messages={"required": "Enter the last day"}
    )
    until_time = forms.TimeField(
        label="Until (optional)",
        required=False,
        widget=TimeInput,
        error_messages={"invalid": "Enter the time as, for example, 17:00."},
    )
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        help_text="For example 'Annual leave' or 'Training closure'.",
        error_messages={"required": "Give a reason, such as 'Annual leave'."},
    )

    def __init__(self, data=None, *, clinicians: Iterable[Clinician]):
        super().__init__(data)
        self.fields["clinician"].choices = _clinician_choices(clinicians, "The whole facility is closed")
        _styled(self)

    def interval(self) -> tuple[dt.datetime, dt.datetime]:
        """From the start of the first day (or the time given) to the end of the last (or the time given)."""
        data = self.cleaned_data
        starts_at = clock.london_datetime(data["first_day"], data["from_time"] or dt.time.min)
        if data["until_time"] is not None:
            ends_at = clock.london_datetime(data["last_day"], data["until_time"])
        else:
            ends_at = clock.london_datetime(data["last_day"] + dt.timedelta(days=1), dt.time.min)
        return starts_at, ends_at
