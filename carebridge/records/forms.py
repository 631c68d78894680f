from django import forms


class BreakGlassForm(forms.Form):
    nhs_number = forms.CharField(
        label="NHS number",
        max_length=14,
        widget=forms.TextInput(attrs={"class": "nhsuk-input nhsuk-input--width-10", "inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label="Why do you need this record now?",
        help_text="This is recorded, shown to the patient and reviewed by the privacy officer.",
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 3}),
    )
