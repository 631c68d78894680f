"""The prescribing pages' forms. They check what was typed; the rules (and the safety checks) are the
services'. Field names are shared with the REST and FHIR channel table (docs/prescribing.md)."""

from collections.abc import Iterable, Mapping

from django import forms

from carebridge.clinical.models import Condition
from carebridge.core import clock
from carebridge.core.forms import NHSDateField, PlainMessages
from carebridge.prescribing import dosing
from carebridge.prescribing.formulary import MEDICINES
from carebridge.prescribing.models import Course, PrescriptionStatus
from carebridge.prescribing.safety import WarningKind

# What each kind of warning is called beside its reason box.
WARNING_LABELS = {
    WarningKind.ALLERGY: "Allergy",
    WarningKind.DUPLICATE: "Duplicate therapy",
    WarningKind.INTERACTION: "Interaction",
    WarningKind.DOSE: "Dose",
    WarningKind.QUANTITY: "Quantity",
    WarningKind.UNCHECKED: "Not in the formulary",
}
OVERRIDE_PREFIX = "override-"
# The order a reason was written for: a reason given for one medicine and dose is never carried over to
# another, so changing the order after a warning asks for the reasons again.
ORDER_FIELDS = ("medicine", "dose_value", "dose_unit", "frequency", "duration_days", "quantity_value", "quantity_unit")


def _input(width: int | None = None, **attrs: str) -> forms.TextInput:
    css = "nhsuk-input" + (f" nhsuk-input--width-{width}" if width else "")
    return forms.TextInput(attrs={"class": css, **attrs})


def order_signature(data: Mapping[str, str]) -> str:
    return "|".join(str(data.get(name, "")).strip() for name in ORDER_FIELDS)


def overrides_from(data: Mapping[str, str]) -> dict[str, str]:
    """The prescriber's reason for each warning they chose to go ahead despite (override-<kind>)."""
    reasons = {}
    for name, value in data.items():
        if name.startswith(OVERRIDE_PREFIX) and str(value).strip():
            reasons[name.removeprefix(OVERRIDE_PREFIX)] = str(value).strip()
    if data.get("overrides_for") not in (None, order_signature(data)):
        return {}  # the order changed since the warnings were shown: the reasons were for something else
    return reasons


class PrescriptionForm(PlainMessages, forms.Form):
    condition = forms.ChoiceField(
        label="Condition treated",
        help_text="Every prescription names the condition it treats, from the patient's active problems.",
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
        error_messages={"required": "Say which condition this prescription treats."},
    )
    consultation = forms.CharField(required=False, widget=forms.HiddenInput)
    medicine = forms.CharField(
        label="Medicine",
        max_length=200,
        help_text="Choose from the formulary. A medicine not in it can be written in full, but no safety checks "
        "can run on it.",
        widget=_input(None, list="formulary", autocomplete="off"),
        error_messages={"required": "Choose the medicine, or write its name."},
    )
    dose_value = forms.DecimalField(
        label="Dose",
        min_value=0,
        max_digits=12,
        decimal_places=4,
        widget=_input(5, inputmode="decimal"),
        error_messages={
            "required": "Give the dose as a number above zero.",
            "invalid": "Give the dose as a number, such as 500 or 2.5.",
        },
    )
    dose_unit = forms.CharField(
        label="Unit",
        max_length=30,
        widget=_input(5, list="dose-units"),
        error_messages={"required": "Give the dose's unit, such as mg."},
    )
    frequency = forms.ChoiceField(
        label="How often",
        choices=[("", "Choose how often"), *((name, name) for name in dosing.FREQUENCIES)],
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
        error_messages={"required": "Choose how often it is taken."},
    )
    duration_days = forms.IntegerField(
        label="For how many days",
        widget=_input(3, inputmode="numeric"),
        error_messages={"required": "Say for how many days.", "invalid": "Give the number of days as a whole number."},
    )
    quantity_value = forms.DecimalField(
        label="Quantity",
        required=False,
        max_digits=12,
        decimal_places=4,
        help_text="Leave blank to work it out from the dose, how often and for how long.",
        widget=_input(5, inputmode="decimal"),
        error_messages={"invalid": "Give the quantity as a number."},
    )
    quantity_unit = forms.CharField(
        label="Quantity unit",
        required=False,
        max_length=50,
        help_text="Such as tablets or ml. Blank: the medicine's own.",
        widget=_input(10),
    )
    instructions = forms.CharField(
        label="Instructions for the patient",
        required=False,
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 2}),
    )
    pharmacy = forms.CharField(
        label="Pharmacy",
        required=False,
        max_length=200,
        widget=_input(None),
    )
    course = forms.ChoiceField(
        label="Course",
        choices=[(Course.ACUTE, "Acute: one issue"), (Course.REPEAT, "Repeat")],
        initial=Course.ACUTE,
        widget=forms.RadioSelect(attrs={"class": "nhsuk-radios__input"}),
        error_messages={"required": "Choose acute or repeat."},
    )
    issues_allowed = forms.IntegerField(
        label="Number of issues",
        required=False,
        help_text="For a repeat: how many issues in all, from 2 to 12.",
        widget=_input(3, inputmode="numeric"),
        error_messages={"invalid": "Give the number of issues as a whole number."},
    )
    review_date = NHSDateField(
        label="Review date",
        required=False,
        help_text="For a repeat: when the prescriber reviews it. For example, 15 3 2027",
    )

    def __init__(self, *args, problems: Iterable[Condition] = (), nominated_pharmacy: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.problems = {str(problem.public_id): problem for problem in problems}
        self.fields["condition"].choices = [
            ("", "Choose the condition"),
            *((key, problem.display) for key, problem in self.problems.items()),
        ]
        self.fields["pharmacy"].help_text = (
            f"Leave blank for the patient's nominated pharmacy: {nominated_pharmacy}."
            if nominated_pharmacy
            else "The patient has not nominated a pharmacy. Leave blank to let them take it to any pharmacy."
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("course") == Course.ACUTE:
            cleaned["issues_allowed"], cleaned["review_date"] = 1, None
        elif cleaned.get("course") == Course.REPEAT and cleaned.get("issues_allowed") is None:
            self.add_error("issues_allowed", "Give the number of issues for a repeat.")
        return cleaned

    def chosen_condition(self) -> Condition | None:
        return self.problems.get(self.cleaned_data.get("condition", ""))


def medicine_choices() -> list[tuple[str, str]]:
    """The formulary for the medicine box's list: key and a description to pick it by."""
    strengths = {
        medicine.key: ", ".join(f"{strength.value.normalize():f}{strength.unit}" for strength in medicine.strengths)
        for medicine in MEDICINES
    }
    return [
        (medicine.key, f"{medicine.name} {medicine.form} {strengths[medicine.key]}".strip())
        for medicine in sorted(MEDICINES, key=lambda medicine: medicine.name)
    ]


def dose_units() -> list[str]:
    return sorted({medicine.dose_unit for medicine in MEDICINES} | {"mg", "g", "microgram", "ml"})


class CancelForm(PlainMessages, forms.Form):
    reason = forms.CharField(
        label="Why is the prescription being cancelled?",
        max_length=500,
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 2}),
        error_messages={"required": "Say why the prescription is cancelled."},
    )


class SupplyForm(PlainMessages, forms.Form):
    status = forms.ChoiceField(
        label="What happened?",
        choices=[
            (PrescriptionStatus.DISPENSED, "Dispensed by the pharmacy"),
            (PrescriptionStatus.COLLECTED, "Collected by the patient"),
        ],
        widget=forms.RadioSelect(attrs={"class": "nhsuk-radios__input"}),
        error_messages={"required": "Choose dispensed or collected."},
    )
    # The NHS.UK date input (or one YYYY-MM-DD value, as the other channels send it); blank for today.
    on = NHSDateField(label="Date", required=False, help_text="Leave blank for today. For example, 2 12 2026")

    def clean(self):
        cleaned = super().clean()
        if "on" in cleaned:
            cleaned["on"] = cleaned["on"] or clock.today()
        return cleaned


class RepeatRequestForm(PlainMessages, forms.Form):
    note = forms.CharField(
        label="Anything the surgery should know? (optional)",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 2}),
    )


class PharmacyForm(PlainMessages, forms.Form):
    pharmacy = forms.CharField(
        label="Your nominated pharmacy",
        required=False,
        max_length=200,
        help_text="The pharmacy's name and address, for example Boots, 12 High Street, Birmingham. Leave blank to "
        "take each prescription to any pharmacy.",
        widget=_input(None),
    )


class RefuseForm(PlainMessages, forms.Form):
    reason = forms.CharField(
        label="Why are you refusing it?",
        max_length=500,
        help_text="The patient reads this.",
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 2}),
        error_messages={"required": "Say why, in words the patient will read."},
    )
