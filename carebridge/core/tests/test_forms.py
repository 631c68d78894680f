"""The NHS.UK date input (core.forms.NHSDateField) and messages that name their field, on every form."""

import datetime as dt
from collections.abc import Callable

import pytest
from django import forms
from django.test import RequestFactory

from carebridge.core.forms import GENERIC_MESSAGES, NHSDateField, PlainMessages


class BirthForm(PlainMessages, forms.Form):
    date_of_birth = NHSDateField(label="Date of birth")


def _boxes(day: str, month: str, year: str) -> dict[str, str]:
    return {"date_of_birth_day": day, "date_of_birth_month": month, "date_of_birth_year": year}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (_boxes("15", "3", "1984"), dt.date(1984, 3, 15)),
        (_boxes(" 01 ", "12", "2026"), dt.date(2026, 12, 1)),
        (_boxes("29", "2", "2024"), dt.date(2024, 2, 29)),
        # One YYYY-MM-DD value under the field's name: the links between day lists are written so.
        ({"date_of_birth": "2026-11-30"}, dt.date(2026, 11, 30)),
    ],
)
def test_a_real_date_typed_into_the_boxes_is_that_date(typed, expected):
    form = BirthForm(typed)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["date_of_birth"] == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (_boxes("30", "2", "2026"), "Date of birth must be a real date"),
        (_boxes("29", "2", "2025"), "Date of birth must be a real date"),
        (_boxes("1", "13", "1990"), "Date of birth must be a real date"),
        (_boxes("x", "3", "1990"), "Date of birth must be a real date"),
        (_boxes("1", "3", "90"), "Date of birth must be a real date"),
        (_boxes("1", "3", "99999"), "Date of birth must be a real date"),
        (_boxes("-1", "3", "1990"), "Date of birth must be a real date"),
        ({"date_of_birth": "2026-02-30"}, "Date of birth must be a real date"),
        (_boxes("15", "3", ""), "Date of birth must include a year"),
        (_boxes("", "3", "1984"), "Date of birth must include a day"),
        (_boxes("15", "", ""), "Date of birth must include a month and year"),
        (_boxes("1", "1", "1799"), "Date of birth must be between 1800 and 2999"),
        ({"date_of_birth": "9999-12-31"}, "Date of birth must be between 1800 and 2999"),
        (_boxes("", "", ""), "Enter date of birth"),
        ({}, "Enter date of birth"),
    ],
)
def test_a_date_that_is_not_real_or_not_whole_is_refused_in_the_nhs_words(typed, message):
    form = BirthForm(typed)

    assert not form.is_valid()
    assert form.errors["date_of_birth"] == [message]


def test_the_boxes_are_the_nhs_date_input_and_show_back_what_was_typed():
    form = BirthForm(_boxes("30", "2", "2026"))
    form.is_valid()

    html = str(form["date_of_birth"])

    assert 'class="nhsuk-date-input"' in html
    for part, typed, label in (("day", "30", "Day"), ("month", "2", "Month"), ("year", "2026", "Year")):
        assert f'name="date_of_birth_{part}" value="{typed}"' in html
        assert f">{label}</label>" in html
    assert "nhsuk-input--error" in html
    assert 'type="date"' not in html
    # The error summary links to the first box, which is the field's label target.
    assert form["date_of_birth"].id_for_label == "id_date_of_birth_0"
    assert 'id="id_date_of_birth_0"' in html


def test_a_date_shown_again_fills_the_three_boxes():
    form = BirthForm(initial={"date_of_birth": dt.date(1984, 3, 15)})

    html = str(form["date_of_birth"])

    assert 'name="date_of_birth_day" value="15"' in html
    assert 'name="date_of_birth_month" value="3"' in html
    assert 'name="date_of_birth_year" value="1984"' in html


def test_core_field_template_puts_the_boxes_in_a_fieldset_with_the_label_as_legend():
    from django.template.loader import render_to_string

    form = BirthForm(_boxes("", "3", "1984"))
    form.is_valid()

    html = render_to_string("core/field.html", {"field": form["date_of_birth"]})

    assert '<fieldset class="nhsuk-fieldset" role="group"' in html
    assert "Date of birth</legend>" in html
    assert "Date of birth must include a day" in html
    assert '<label class="nhsuk-label" for=' not in html  # no label pointing at the group itself


# --- Every form's messages name their field --------------------------------------------------------------


def _every_form() -> list[tuple[str, Callable[[dict], forms.BaseForm]]]:
    """Each form in Carebridge, made with what its constructor needs (found by grepping forms.Form)."""
    from carebridge.accounts.forms import PasswordResetRequestForm, SignInForm
    from carebridge.accounts.views import PortalSetPasswordForm
    from carebridge.appointments import forms as appointments
    from carebridge.clinical.forms import AllergyForm, ConsultationForm
    from carebridge.organisations.forms import LoginCreateForm
    from carebridge.patients.forms import PatientRegistrationForm, PatientSearchForm
    from carebridge.prescribing import forms as prescribing
    from carebridge.privacy.forms import AuditSearchForm, BreakGlassReviewForm, ReviewNoteForm
    from carebridge.records.forms import BreakGlassForm
    from carebridge.referrals.forms import AddInformationForm, EndpointForm, GiveUpForm, ReferralForm
    from carebridge.referrals.hospital_forms import BookForm, OutcomeForm, TriageForm

    return [
        ("sign in", lambda data: SignInForm(RequestFactory().post("/accounts/sign-in/"), data)),
        ("password reset", PasswordResetRequestForm),
        ("portal set password", lambda data: PortalSetPasswordForm(None, data)),
        ("slot search", lambda data: appointments.SlotSearchForm(data, clinicians=[], types=["Follow-up"])),
        ("book", lambda data: appointments.BookingForm(data, types=["Follow-up", "Vaccination"])),
        ("cancel appointment", appointments.CancelForm),
        ("day list", lambda data: appointments.DayListForm(data, clinicians=[])),
        ("opening hours", lambda data: appointments.OpeningHoursForm(data, current={})),
        ("session", lambda data: appointments.SessionForm(data, clinicians=[])),
        ("session end", appointments.SessionEndForm),
        ("time off", lambda data: appointments.ExceptionForm(data, clinicians=[])),
        ("consultation", ConsultationForm),
        ("allergy", AllergyForm),
        ("staff login", LoginCreateForm),
        ("register patient", PatientRegistrationForm),
        ("find patient", PatientSearchForm),
        ("prescribe", prescribing.PrescriptionForm),
        ("cancel prescription", prescribing.CancelForm),
        ("record supply", prescribing.SupplyForm),
        ("repeat request", prescribing.RepeatRequestForm),
        ("pharmacy", prescribing.PharmacyForm),
        ("refuse repeat", prescribing.RefuseForm),
        ("audit search", AuditSearchForm),
        ("access review", ReviewNoteForm),
        ("emergency access review", BreakGlassReviewForm),
        ("emergency access", BreakGlassForm),
        ("refer", ReferralForm),
        ("add information", AddInformationForm),
        ("system endpoint", EndpointForm),
        ("give up delivery", GiveUpForm),
        ("triage", lambda data: TriageForm(data, current_priority="routine", consultants=[])),
        ("hospital book", lambda data: BookForm(data, slots=[], types=[])),
        ("outcome", OutcomeForm),
    ]


@pytest.mark.django_db
def test_every_form_says_which_field_is_wrong_in_plain_words():
    """Sent empty, and with nonsense in every box: no form answers with Django's own words, which name
    no field ("This field is required." four times in a summary says nothing)."""
    checked = 0
    for name, make in _every_form():
        for data in ({}, dict.fromkeys(make({}).fields, "?")):
            form = make(data)
            form.is_valid()
            for field, messages in form.errors.items():
                for message in messages:
                    assert message not in GENERIC_MESSAGES, (name, field, message)
                    assert not message.startswith("Select a valid choice"), (name, field, message)
                    checked += 1
    assert checked > 40  # the forms did refuse something, so the messages above were really looked at


def test_the_patient_registration_form_names_each_missing_field():
    from carebridge.patients.forms import PatientRegistrationForm

    form = PatientRegistrationForm({})

    assert not form.is_valid()
    assert form.errors["first_name"] == ["Enter the patient's first name"]
    assert form.errors["last_name"] == ["Enter the patient's last name"]
    assert form.errors["date_of_birth"] == ["Enter the patient's date of birth"]
    assert form.errors["gender"] == ["Choose the patient's gender"]


def test_a_field_without_its_own_message_gets_one_from_its_label():
    class Example(PlainMessages, forms.Form):
        first_name = forms.CharField(label="First name")
        nhs_number = forms.CharField(label="NHS number")
        colour = forms.ChoiceField(label="Favourite colour", choices=[("blue", "Blue")])
        count = forms.IntegerField(label="Number of tablets")

    form = Example({"count": "many", "colour": "green"})

    assert not form.is_valid()
    assert form.errors["first_name"] == ["Enter first name"]
    assert form.errors["nhs_number"] == ["Enter NHS number"]
    assert form.errors["colour"] == ["Choose favourite colour from the list"]
    assert form.errors["count"] == ["Enter number of tablets as a whole number"]
