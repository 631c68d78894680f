"""Form pieces every page shares: the NHS.UK date input, and error messages that name their field.

The date input is three boxes (day, month, year), as the NHS service manual asks for any date a person
knows, such as a date of birth: the browser's own picker shows mm/dd/yyyy on many machines and is hard
to use with a screen reader. A single YYYY-MM-DD value under the field's own name is read too, so a
link such as /appointments/day/?date=2026-12-01 keeps working beside the boxes.
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import forms

from carebridge.core import clock

PARTS = ("day", "month", "year")


def _sentence_start(label: str) -> str:
    """'Date of birth' as it starts a sentence in the middle of one: 'date of birth' (but 'NHS number')."""
    first, _, rest = label.partition(" ")
    if first.isupper() and len(first) > 1:  # an acronym such as NHS keeps its capitals
        return label
    return f"{first.lower()} {rest}".strip()


class NHSDateInput(forms.MultiWidget):
    """The NHS.UK date input's three boxes, named <name>_day, <name>_month and <name>_year.

    The value it reads is a dict of the three parts as typed (kept so a mistake is shown back as typed),
    or the single ISO date sent under <name> when there are no boxes in the request."""

    template_name = "core/widgets/date_input.html"
    nhs_date_input = True  # core/field.html draws a fieldset and legend around these boxes

    def __init__(self, attrs: dict[str, Any] | None = None, *, birthday: bool = False):
        """`birthday`: the browser may offer the person's own date of birth (autocomplete bday-day...)."""
        boxes: dict[str, forms.Widget | type[forms.Widget]] = {
            part: forms.TextInput(
                attrs={
                    "class": f"nhsuk-input nhsuk-date-input__input nhsuk-input--width-{4 if part == 'year' else 2}",
                    "inputmode": "numeric",
                    **({"autocomplete": f"bday-{part}"} if birthday else {}),
                }
            )
            for part in PARTS
        }
        super().__init__(boxes, attrs)

    def decompress(self, value: Any) -> list[str]:
        if isinstance(value, dt.date):
            return [str(value.day), str(value.month), str(value.year)]
        if isinstance(value, Mapping):
            return [str(value.get(part, "")) for part in PARTS]
        if isinstance(value, str) and value:
            try:
                return self.decompress(dt.date.fromisoformat(value))
            except ValueError:
                return ["", "", ""]
        return ["", "", ""]

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        boxes = {part: str(data.get(f"{name}_{part}", "")) for part in PARTS}
        if any(f"{name}_{part}" in data for part in PARTS):
            return boxes
        return data.get(name)

    def id_for_label(self, id_: str) -> str:
        # Django's MultiWidget names no element; the error summary's link goes to the day box, as the
        # NHS.UK pattern does.
        return f"{id_}_0" if id_ else ""

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and all(f"{name}_{part}" not in data for part in PARTS)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        wrong = context["widget"]["attrs"].get("aria-invalid") == "true"
        for box, part in zip(context["widget"]["subwidgets"], PARTS, strict=True):
            box["part"] = part
            box["label"] = part.capitalize()
            if wrong:
                box["attrs"]["class"] += " nhsuk-input--error"
        return context


class NHSDateField(forms.Field):
    """A date typed into the NHS.UK date input, refused in the service manual's words when it is no date.

    `label` names the date in every message ("Date of birth must be a real date"); `required` asks for
    it ("Enter date of birth", or `error_messages["required"]`). Dates outside the ones Carebridge
    works with (core.clock.FIRST_DAY to LAST_DAY) are refused here, so no view meets one."""

    widget = NHSDateInput

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("help_text", "For example, 15 3 1984")
        super().__init__(**kwargs)
        if self.error_messages.get("required") in GENERIC_MESSAGES:
            self.error_messages["required"] = f"Enter {_sentence_start(str(self.label or 'the date'))}"

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.date):
            return value
        what = str(self.label or "The date").removesuffix(" (optional)")
        if isinstance(value, Mapping):
            typed = {part: str(value.get(part, "")).strip() for part in PARTS}
            if not any(typed.values()):
                return None
            missing = [part for part in PARTS if not typed[part]]
            if missing:
                raise forms.ValidationError(f"{what} must include a {' and '.join(missing)}", code="incomplete")
            if not all(typed[part].isdigit() for part in PARTS) or len(typed["year"]) != 4:
                raise forms.ValidationError(f"{what} must be a real date", code="invalid")
            try:
                day = dt.date(int(typed["year"]), int(typed["month"]), int(typed["day"]))
            except ValueError:
                raise forms.ValidationError(f"{what} must be a real date", code="invalid") from None
        elif value in (None, ""):
            return None
        else:
            try:
                day = dt.date.fromisoformat(str(value).strip())
            except ValueError:
                raise forms.ValidationError(f"{what} must be a real date", code="invalid") from None
        if not clock.FIRST_DAY <= day <= clock.LAST_DAY:
            raise forms.ValidationError(
                f"{what} must be between {clock.FIRST_DAY.year} and {clock.LAST_DAY.year}", code="out_of_range"
            )
        return day

    def prepare_value(self, value: Any) -> Any:
        return value

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != initial
        except forms.ValidationError:
            return True


# --- Messages that name the field ------------------------------------------------------------------------

# Django's own words, which say nothing about which field is wrong; PlainMessages replaces them.
GENERIC_MESSAGES = frozenset(
    {
        "This field is required.",
        "Enter a valid date.",
        "Enter a valid time.",
        "Enter a number.",
        "Enter a whole number.",
        "Enter a valid email address.",
    }
)


def required_message(field: forms.Field, label: str) -> str:
    """'Enter first name', 'Choose type of appointment': what to do, naming the field."""
    verb = "Choose" if isinstance(field, forms.ChoiceField | forms.BooleanField) else "Enter"
    return f"{verb} {_sentence_start(label.removesuffix(' (optional)'))}"


def name_the_fields(form: forms.BaseForm) -> None:
    """Every field's generic messages (required, invalid) replaced by ones that name it.

    A message a form gave its field itself is kept: this is the floor, not the wording to aim for."""
    for name, field in form.fields.items():
        label = str(field.label or name.replace("_", " ").capitalize())
        messages = field.error_messages
        if messages.get("required") in GENERIC_MESSAGES:
            messages["required"] = required_message(field, label)
        if messages.get("invalid") in GENERIC_MESSAGES or (
            isinstance(field, forms.EmailField) and "invalid" not in messages
        ):
            messages["invalid"] = f"Enter {_sentence_start(label)} in the form shown"
            if isinstance(field, forms.IntegerField):
                messages["invalid"] = f"Enter {_sentence_start(label)} as a whole number"
            elif isinstance(field, forms.DecimalField | forms.FloatField):
                messages["invalid"] = f"Enter {_sentence_start(label)} as a number"
            elif isinstance(field, forms.EmailField):
                messages["invalid"] = f"Enter {_sentence_start(label)} in the correct format, like name@example.com"
        if "invalid_choice" in messages and messages["invalid_choice"].startswith("Select a valid choice"):
            messages["invalid_choice"] = f"Choose {_sentence_start(label)} from the list"


class PlainMessages:
    """Mixed into a form (before forms.Form): its fields' messages name them (name_the_fields)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        name_the_fields(self)  # type: ignore[arg-type]
