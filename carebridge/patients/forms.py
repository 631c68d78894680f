from django import forms

from carebridge.core import nhs_number
from carebridge.core.forms import NHSDateField, NHSDateInput, PlainMessages
from carebridge.patients.models import Gender


def _styled(form: forms.Form) -> None:
    for field in form.fields.values():
        if isinstance(field, NHSDateField):
            continue  # its three boxes carry their own classes
        css = "nhsuk-select" if isinstance(field.widget, forms.Select) else "nhsuk-input"
        field.widget.attrs.setdefault("class", css)


class PatientRegistrationForm(PlainMessages, forms.Form):
    nhs_number = forms.CharField(
        label="NHS number",
        required=False,
        max_length=14,
        help_text="10 digits, for example 943 476 5919. Leave blank if the number is being traced.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}),
    )
    first_name = forms.CharField(
        label="First name", max_length=100, error_messages={"required": "Enter the patient's first name"}
    )
    last_name = forms.CharField(
        label="Last name", max_length=100, error_messages={"required": "Enter the patient's last name"}
    )
    date_of_birth = NHSDateField(
        label="Date of birth",
        widget=NHSDateInput(birthday=True),
        error_messages={"required": "Enter the patient's date of birth"},
    )
    gender = forms.ChoiceField(
        label="Gender",
        choices=[("", "Choose"), *Gender.choices],
        error_messages={"required": "Choose the patient's gender"},
    )
    phone_number = forms.CharField(label="Phone number", max_length=30, required=False)
    email = forms.EmailField(label="Email address", required=False)
    address = forms.CharField(label="Address", max_length=300, required=False)
    postcode = forms.CharField(label="Postcode", max_length=10, required=False)
    emergency_contact_name = forms.CharField(label="Emergency contact name", max_length=200, required=False)
    emergency_contact_phone = forms.CharField(label="Emergency contact phone", max_length=30, required=False)
    # Offered on the page only once a possible duplicate has been shown (patients.services.PossibleDuplicate).
    confirm_possible_duplicate = forms.BooleanField(
        label="This is a different person: register anyway", required=False, widget=forms.CheckboxInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)
        self.fields["confirm_possible_duplicate"].widget.attrs["class"] = "nhsuk-checkboxes__input"

    def details_fields(self) -> list[forms.BoundField]:
        """The patient's details, without the confirmation box, which the page places on its own."""
        return [field for field in self if field.name != "confirm_possible_duplicate"]

    def clean_nhs_number(self) -> str:
        value = self.cleaned_data["nhs_number"]
        if value and (problem := nhs_number.problem(value)):
            raise forms.ValidationError(problem)
        return nhs_number.normalise(value)


class PatientSearchForm(PlainMessages, forms.Form):
    nhs_number = forms.CharField(
        label="NHS number",
        required=False,
        max_length=14,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    last_name = forms.CharField(label="Last name", required=False, max_length=100)
    first_name = forms.CharField(label="First name (optional)", required=False, max_length=100)
    date_of_birth = NHSDateField(label="Date of birth", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)

    def clean_nhs_number(self) -> str:
        value = self.cleaned_data["nhs_number"]
        digits = nhs_number.normalise(value)
        if digits and (not digits.isdigit() or len(digits) != 10):
            raise forms.ValidationError("An NHS number has 10 digits.")
        return digits

    def clean(self):
        data = super().clean()
        has_number = bool(data.get("nhs_number"))
        has_name_and_birth = bool(data.get("last_name")) and bool(data.get("date_of_birth"))
        if not self.errors and not has_number and not has_name_and_birth:
            raise forms.ValidationError("Enter an NHS number, or a last name and date of birth.")
        return data
