from django import forms

from carebridge.core.forms import PlainMessages


class BreakGlassForm(PlainMessages, forms.Form):
    nhs_number = forms.CharField(
        label="NHS number",
        max_length=14,
        widget=forms.TextInput(attrs={"class": "nhsuk-input nhsuk-input--width-10", "inputmode": "numeric"}),
        error_messages={"required": "Enter the patient's NHS number"},
    )
    reason = forms.CharField(
        label="Why do you need this record now?",
        help_text="This is recorded, shown to the patient and reviewed by the privacy officer.",
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 3}),
        error_messages={"required": "Say why you need this record now"},
    )
