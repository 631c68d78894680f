"""The records staff's forms: merging two records, undoing a merge, deregistering, registering again."""

from django import forms

from carebridge.core.forms import NHSDateField, PlainMessages

_REASON = {"class": "nhsuk-textarea", "rows": 3}


class MergeForm(PlainMessages, forms.Form):
    """Which of the two records to keep (the other is retired), and why they are one person."""

    survivor = forms.ChoiceField(
        label="Which record do you want to keep?",
        help_text="Its name, date of birth, NHS number and contact details stay as they are. "
        "Everything on the other record moves to it.",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the record to keep"},
    )
    reason = forms.CharField(
        label="Why are these the same person?",
        help_text="For example: registered twice, once without an NHS number. This is recorded.",
        max_length=1000,
        widget=forms.Textarea(attrs=_REASON),
        error_messages={"required": "Enter why these records are the same person"},
    )

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survivor"].choices = choices


class UnmergeForm(PlainMessages, forms.Form):
    reason = forms.CharField(
        label="Why are you undoing this merge?",
        help_text="For example: twins with the same surname, merged by mistake. This is recorded.",
        max_length=1000,
        widget=forms.Textarea(attrs=_REASON),
        error_messages={"required": "Enter why this merge is being undone"},
    )


class DeregisterForm(PlainMessages, forms.Form):
    left_on = NHSDateField(label="Date the patient left", help_text="For example, 27 11 2026")
    reason = forms.CharField(
        label="Why is the patient leaving?",
        help_text="For example: moved away and registered with a practice in Leeds.",
        max_length=300,
        widget=forms.Textarea(attrs=_REASON),
        error_messages={"required": "Enter why the patient is leaving the surgery"},
    )


class ReregisterForm(PlainMessages, forms.Form):
    nhs_number = forms.CharField(
        label="NHS number",
        max_length=14,
        widget=forms.TextInput(attrs={"class": "nhsuk-input nhsuk-input--width-10", "inputmode": "numeric"}),
        error_messages={"required": "Enter the patient's NHS number"},
    )
    date_of_birth = NHSDateField(label="Date of birth")
