from django import forms

from carebridge.access.models import ReviewOutcome
from carebridge.audit.models import AuditAction
from carebridge.core.forms import NHSDateField, PlainMessages


class AuditSearchForm(PlainMessages, forms.Form):
    username = forms.CharField(label="Username", required=False, max_length=150)
    nhs_number = forms.CharField(label="Patient's NHS number", required=False, max_length=14)
    action = forms.ChoiceField(label="What happened", required=False, choices=[("", "Anything"), *AuditAction.choices])
    date_from = NHSDateField(label="Date from", required=False, help_text="For example, 1 11 2026")
    date_to = NHSDateField(label="Date to", required=False, help_text="For example, 30 11 2026")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, NHSDateField):
                continue  # the date input's three boxes carry their own classes
            field.widget.attrs.setdefault(
                "class", "nhsuk-select" if isinstance(field.widget, forms.Select) else "nhsuk-input"
            )


class ReviewNoteForm(PlainMessages, forms.Form):
    """A review of a change to someone's access: what the privacy officer concluded."""

    note = forms.CharField(
        label="Your conclusion", max_length=2000, widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 2})
    )


class _Radios(forms.RadioSelect):
    def id_for_label(self, id_: str, index: str = "0") -> str:
        # The error summary links to the first option, as the NHS radios pattern does (Django links nowhere).
        return super().id_for_label(id_, index)


class BreakGlassReviewForm(PlainMessages, forms.Form):
    """A review of an emergency access: its outcome, and a note (the service says when one is needed)."""

    outcome = forms.ChoiceField(
        label="Was this access appropriate?",
        choices=ReviewOutcome.choices,
        widget=_Radios,
        error_messages={
            "required": "Choose whether the access was appropriate, inappropriate, or needs follow-up.",
            "invalid_choice": "Choose whether the access was appropriate, inappropriate, or needs follow-up.",
        },
    )
    note = forms.CharField(
        label="Your conclusion",
        help_text="Needed if the access was inappropriate or needs follow-up: why, and what happens next.",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 3}),
    )
