"""The receiving hospital's forms: triage, booking and the outcome. They collect what a person chose or
typed; the rules (what must be given, how long it may be, who may act) are the services' and come back
as their Invalid messages, shown beside the field they name."""

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, cast

from django import forms

from carebridge.core import clock
from carebridge.core.forms import PlainMessages
from carebridge.organisations.models import Clinician
from carebridge.referrals.models import ReferralPriority
from carebridge.referrals.services import MAX_SUMMARY, MAX_TRIAGE_TEXT, PRIORITIES_TO_CHOOSE, TriageDecision
from carebridge.scheduling.models import Slot

DECISION_LABELS = {
    TriageDecision.ACCEPT: "Accept",
    TriageDecision.RETURN_WITH_ADVICE: "Return to the GP with advice",
    TriageDecision.REJECT: "Reject",
    TriageDecision.REQUEST_INFORMATION: "Ask for more information",
}


def _styled(form: forms.Form) -> None:
    """The NHS.UK class for each input; radios are laid out by the template."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.RadioSelect):
            widget.attrs.setdefault("class", "nhsuk-radios__input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "nhsuk-select")
        elif isinstance(widget, forms.Textarea):
            widget.attrs.setdefault("class", "nhsuk-textarea")
        else:
            widget.attrs.setdefault("class", "nhsuk-input")


class TriageForm(PlainMessages, forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[(decision.value, DECISION_LABELS[decision]) for decision in TriageDecision],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose accept, return with advice, reject, or ask for more information."},
    )
    # No max_length here: the service refuses a longer text with a message that says how long it is.
    text = forms.CharField(
        label="Advice, reason or information needed",
        required=False,
        widget=forms.Textarea,
        help_text=f"Needed to return, reject or ask for more; up to {MAX_TRIAGE_TEXT:,} characters. The GP reads this.",
    )
    priority = forms.ChoiceField(label="Priority", required=False, choices=())
    comment = forms.CharField(
        label="Why the priority changes",
        required=False,
        widget=forms.Textarea,
        help_text="Needed only if you change the priority.",
    )
    consultant = forms.ChoiceField(label="Named consultant (optional)", required=False, choices=())

    def __init__(self, *args: Any, current_priority: str, consultants: Sequence[Clinician], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = ReferralPriority(current_priority).label
        self.fields[
            "priority"
        ].help_text = f"Referred as {current}. Change it only with a comment below: the GP sees both."
        cast(forms.ChoiceField, self.fields["priority"]).choices = [("", f"Keep it as {current}")] + [
            (priority.value, priority.label) for priority in PRIORITIES_TO_CHOOSE if priority != current_priority
        ]
        self._consultants = {str(clinician.public_id): clinician for clinician in consultants}
        named = [
            (key, clinician.display_name + (f" ({clinician.speciality})" if clinician.speciality else ""))
            for key, clinician in self._consultants.items()
        ]
        cast(forms.ChoiceField, self.fields["consultant"]).choices = [
            ("", "None named"),
            *named,
        ]
        _styled(self)

    def chosen_consultant(self) -> Clinician | None:
        return self._consultants.get(self.cleaned_data.get("consultant") or "")


class BookForm(PlainMessages, forms.Form):
    slot = forms.ChoiceField(
        label="Appointment time",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a time.",
            "invalid_choice": "That time has just been taken or is no longer offered. Please choose another.",
        },
    )
    appointment_type = forms.ChoiceField(label="Type of appointment", required=False, choices=())
    reason = forms.CharField(
        label="What the appointment is for (optional)",
        required=False,
        max_length=300,
        help_text="The patient's confirmation says this. Leave it empty to say it is for this referral.",
    )

    def __init__(self, *args: Any, slots: Iterable[Slot], types: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slots = {str(slot.public_id): slot for slot in slots}
        cast(forms.ChoiceField, self.fields["slot"]).choices = [
            (key, slot_label(slot)) for key, slot in self.slots.items()
        ]
        cast(forms.ChoiceField, self.fields["appointment_type"]).choices = [(name, name) for name in types]
        if len(types) <= 1:
            # One type: the booking takes it without asking.
            del self.fields["appointment_type"]
        _styled(self)

    def chosen_slot(self) -> Slot | None:
        return self.slots.get(self.cleaned_data.get("slot") or "")


def slot_label(slot: Slot) -> str:
    local = slot.starts_at.astimezone(clock.LONDON)
    return f"{local:%H:%M} with {slot.clinician.display_name} ({slot.minutes} minutes)"


def slot_day(slot: Slot) -> dt.date:
    return slot.starts_at.astimezone(clock.LONDON).date()


class OutcomeForm(PlainMessages, forms.Form):
    outcome = forms.CharField(
        label="Outcome",
        widget=forms.Textarea,
        required=False,
        help_text=f"In a line or two: what was found and what happens next (up to {MAX_TRIAGE_TEXT:,} characters).",
    )
    clinic_letter = forms.CharField(
        label="Clinic letter to the GP",
        widget=forms.Textarea,
        required=False,
        help_text=f"Sent to the GP surgery as a PDF with the patient's details (up to {MAX_SUMMARY:,} characters).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _styled(self)
