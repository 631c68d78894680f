from django import forms

from carebridge.audit.models import AuditAction


class AuditSearchForm(forms.Form):
    username = forms.CharField(label="Username", required=False, max_length=150)
    nhs_number = forms.CharField(label="Patient's NHS number", required=False, max_length=14)
    action = forms.ChoiceField(label="What happened", required=False, choices=[("", "Anything"), *AuditAction.choices])
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "nhsuk-select" if isinstance(field.widget, forms.Select) else "nhsuk-input"
            )


class BreakGlassReviewForm(forms.Form):
    note = forms.CharField(
        label="Your conclusion", max_length=2000, widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 2})
    )
