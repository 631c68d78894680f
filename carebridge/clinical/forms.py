"""The consultation and allergy forms. They check what was typed; the rules live in services.py."""

from django import forms

from carebridge.clinical import codes
from carebridge.clinical.models import AllergySeverity
from carebridge.core.forms import PlainMessages


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": rows})


class ConsultationForm(PlainMessages, forms.Form):
    symptoms = forms.CharField(
        label="What the patient describes",
        help_text="Their symptoms in their own words: what, since when, what makes it better or worse.",
        widget=_textarea(4),
        error_messages={"required": "Write what the patient describes."},
    )
    findings = forms.CharField(label="Examination findings", required=False, widget=_textarea())
    assessment = forms.CharField(label="Assessment", required=False, widget=_textarea())
    condition_code = forms.ChoiceField(
        label="Condition",
        required=False,
        help_text="The condition being treated, from the coded list (SNOMED CT).",
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )
    condition_text = forms.CharField(
        label="Or, if it is not on the list, write the condition",
        required=False,
        max_length=200,
        help_text="It will be shown on the problem list as uncoded.",
        widget=forms.TextInput(attrs={"class": "nhsuk-input"}),
    )
    plan = forms.CharField(label="Plan", required=False, widget=_textarea())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["condition_code"].choices = [
            ("", "Choose a condition"),
            *sorted(((concept.code, concept.display) for concept in codes.CONDITIONS), key=lambda pair: pair[1]),
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("condition_code") and cleaned.get("condition_text", "").strip():
            self.add_error("condition_text", "Choose the condition from the list or write it, not both.")
        return cleaned


class AllergyForm(PlainMessages, forms.Form):
    substance = forms.ChoiceField(
        label="Substance or drug class",
        required=False,
        help_text="Choose from the list so the prescribing checks can match it.",
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )
    text = forms.CharField(
        label="Or, if it is not on the list, write what the patient is allergic to",
        required=False,
        max_length=200,
        help_text="The checks can only look for these words in a medicine's name, class and contents.",
        widget=forms.TextInput(attrs={"class": "nhsuk-input"}),
    )
    reaction = forms.CharField(
        label="Reaction",
        required=False,
        max_length=200,
        help_text="For example, rash, swelling of the lips, anaphylaxis.",
        widget=forms.TextInput(attrs={"class": "nhsuk-input"}),
    )
    severity = forms.ChoiceField(
        label="How severe is the reaction?",
        choices=AllergySeverity.choices,
        initial=AllergySeverity.MODERATE,
        widget=forms.RadioSelect(attrs={"class": "nhsuk-radios__input"}),
        error_messages={"required": "Choose how severe the reaction is."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["substance"].choices = [
            ("", "Choose a substance"),
            *sorted(codes.ALLERGY_SUBSTANCES, key=lambda pair: pair[1]),
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("substance") and cleaned.get("text", "").strip():
            self.add_error("text", "Choose the substance from the list or write it, not both.")
        return cleaned
