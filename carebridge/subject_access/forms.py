from django import forms

from carebridge.core.forms import PlainMessages


class WrittenRequestForm(PlainMessages, forms.Form):
    """Staff record a request the patient made in writing or in person."""

    nhs_number = forms.CharField(
        label="NHS number",
        max_length=14,
        widget=forms.TextInput(attrs={"class": "nhsuk-input nhsuk-input--width-10", "inputmode": "numeric"}),
        error_messages={"required": "Enter the patient's NHS number"},
    )
    note = forms.CharField(
        label="How did the patient ask?",
        help_text="For example: letter received 30 November 2026, identity checked at the desk.",
        max_length=300,
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 3}),
        error_messages={"required": "Say how the patient asked", "max_length": "Keep this to 300 characters"},
    )
