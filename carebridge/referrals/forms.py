"""The referral pages' forms. They check what was typed and what arrived; the rules are the services'
(carebridge.referrals.services), whose refusals come back on these forms by field name."""

import math
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from carebridge.core.errors import Invalid
from carebridge.core.forms import PlainMessages
from carebridge.organisations.models import Clinician, ClinicianTitle, Facility, FacilityType
from carebridge.referrals.attachments import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, Upload, checked_uploads
from carebridge.referrals.services import MAX_REASON, PRIORITIES_TO_CHOOSE

# A hospital service is chosen as one value, "<hospital public id>|<speciality>", so the page needs no
# script to keep a second list (the services) in step with the first (the hospitals).
SERVICE_SEPARATOR = "|"
_MEGABYTE = 1024 * 1024
_LIMIT_MB = MAX_ATTACHMENT_BYTES // _MEGABYTE


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": rows})


def service_value(facility: Facility, speciality: str) -> str:
    return f"{facility.public_id}{SERVICE_SEPARATOR}{speciality}"


def service_choices() -> list[tuple[str, str]]:
    """Every service every hospital offers, as "Hospital — Service", hospitals in name order."""
    choices = [("", "Choose a hospital and service")]
    for hospital in Facility.objects.filter(facility_type=FacilityType.HOSPITAL).order_by("name", "pk"):
        for speciality in sorted(hospital.specialities_offered or [], key=str.lower):
            choices.append((service_value(hospital, speciality), f"{hospital.name} — {speciality}"))
    return choices


def consultant_choices() -> list[tuple[str, str]]:
    """Consultants at hospitals, each with their speciality and hospital, so the one at the chosen
    hospital can be picked without a script (the service refuses one who works elsewhere)."""
    consultants = (
        Clinician.objects.filter(workplace__facility_type=FacilityType.HOSPITAL, title=ClinicianTitle.CONSULTANT)
        .select_related("workplace")
        .order_by("workplace__name", "last_name", "first_name", "pk")
    )
    return [("", "No named consultant: the hospital allocates one")] + [
        (
            str(consultant.public_id),
            f"{consultant.display_name}"
            + (f", {consultant.speciality}" if consultant.speciality else "")
            + f" — {consultant.workplace.name}",
        )
        for consultant in consultants
    ]


def _megabytes(size: int) -> str:
    """Rounded up, so a file just over the limit never reads as exactly the limit."""
    return f"{math.ceil(size * 10 / _MEGABYTE) / 10:.1f} MB"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


def uploads_from(files: Sequence[UploadedFile]) -> list[Upload]:
    """The files as the service takes them. Each file's size is checked before it is read, so a file too
    large is refused without holding it in memory. What each file *is* is checked here too, by the
    service's own rule (which checks again), so the form comes back naming every problem at once."""
    if len(files) > MAX_ATTACHMENTS:
        raise forms.ValidationError(
            f"A referral can carry at most {MAX_ATTACHMENTS} attachments; {len(files)} were attached."
        )
    too_large = [
        f"{upload.name} is {_megabytes(upload.size or 0)}; attachments can be at most {_LIMIT_MB} MB. "
        "Scan it at a lower resolution, or split it."
        for upload in files
        if (upload.size or 0) > MAX_ATTACHMENT_BYTES
    ]
    if too_large:
        raise forms.ValidationError(" ".join(too_large))
    uploads = [Upload(filename=upload.name or "", content=upload.read()) for upload in files]
    try:
        checked_uploads(uploads)
    except Invalid as refusal:
        raise forms.ValidationError(refusal.message) from None
    return uploads


class AttachmentsField(forms.FileField):
    """Several files from one input (`multiple`), as a list of Uploads; none is fine."""

    widget = MultipleFileInput(attrs={"class": "nhsuk-file-upload__input", "multiple": True})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Attachments")
        kwargs.setdefault(
            "help_text",
            f"Letters, results or photographs: PDF, PNG or JPEG, at most {_LIMIT_MB} MB each "
            f"and {MAX_ATTACHMENTS} in all. You can choose several at once.",
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Upload]:
        if isinstance(data, list | tuple):
            return uploads_from([upload for upload in data if upload])
        return uploads_from([data] if data else [])


def investigations_from(text: str) -> list[str]:
    """One investigation a line, blank lines left out."""
    return [line.strip() for line in text.splitlines() if line.strip()]


class ReferralForm(PlainMessages, forms.Form):
    consultation = forms.CharField(required=False, widget=forms.HiddenInput)
    service = forms.ChoiceField(
        label="Hospital service",
        help_text="The hospital and the service (speciality) you are referring to.",
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
        error_messages={
            "required": "Choose the hospital service to refer to.",
            "invalid_choice": "Choose a hospital service from the list.",
        },
    )
    receiving_clinician = forms.ChoiceField(
        label="Named consultant (optional)",
        required=False,
        help_text="Only a consultant at the hospital chosen above.",
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
        error_messages={"invalid_choice": "Choose a consultant from the list, or none."},
    )
    priority = forms.ChoiceField(
        label="Priority",
        help_text="Two-week wait is for suspected cancer.",
        choices=[(priority.value, priority.label) for priority in PRIORITIES_TO_CHOOSE],
        widget=forms.RadioSelect(attrs={"class": "nhsuk-radios__input"}),
        error_messages={
            "required": "Choose the priority: routine, urgent or two-week wait.",
            "invalid_choice": "Choose the priority: routine, urgent or two-week wait.",
        },
    )
    reason = forms.CharField(
        label="Reason for referral",
        max_length=MAX_REASON,
        help_text=f"In a sentence, at most {MAX_REASON} characters: the summary below can say more.",
        widget=_textarea(2),
        error_messages={
            "required": "Give the reason for referral.",
            "max_length": f"Give the reason in at most {MAX_REASON} characters; the summary can say more.",
        },
    )
    clinical_summary = forms.CharField(
        label="Clinical summary",
        required=False,
        strip=False,
        help_text="The history, findings and what has been tried. The letter adds the patient's current "
        "medicines, allergies and problems itself.",
        widget=_textarea(8),
    )
    investigations = forms.CharField(
        label="Investigations requested (optional)",
        required=False,
        help_text="One a line, for example: Echocardiogram",
        widget=_textarea(3),
    )
    attachments = AttachmentsField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = service_choices()  # type: ignore[attr-defined]
        self.fields["receiving_clinician"].choices = consultant_choices()  # type: ignore[attr-defined]

    def chosen_service(self) -> tuple[Facility, str]:
        """The hospital and speciality chosen (the value came from the list, so the hospital exists)."""
        facility_id, _, speciality = self.cleaned_data["service"].partition(SERVICE_SEPARATOR)
        return Facility.objects.get(public_id=facility_id), speciality

    def chosen_consultant(self) -> Clinician | None:
        chosen = self.cleaned_data["receiving_clinician"]
        if not chosen:
            return None
        return Clinician.objects.select_related("workplace").get(public_id=chosen)


class AddInformationForm(PlainMessages, forms.Form):
    information = forms.CharField(
        label="Information for the hospital",
        help_text="What the hospital asked for, or what has changed. It is added to the referral's clinical "
        "summary and the referral goes back to the hospital for triage.",
        widget=_textarea(6),
        error_messages={"required": "Write the information the hospital asked for."},
    )
    attachments = AttachmentsField()


class EndpointForm(PlainMessages, forms.Form):
    fhir_base = forms.CharField(
        label="FHIR base address",
        max_length=500,
        help_text="Where that organisation's system answers FHIR, for example https://carebridge.hospital.example/fhir",
        widget=forms.TextInput(attrs={"class": "nhsuk-input", "spellcheck": "false", "autocomplete": "off"}),
        error_messages={"required": "Give the system's FHIR base address, starting http:// or https://."},
    )
    token = forms.CharField(
        label="Token",
        max_length=500,
        help_text="The token that system issued for us (`carebridge api-token --system` there). It is kept, "
        "never shown again: to change it, give the new one.",
        # Never rendered back, not even after a refusal: a token on a page is a token in a browser's cache.
        widget=forms.PasswordInput(
            attrs={"class": "nhsuk-input", "spellcheck": "false", "autocomplete": "off"}, render_value=False
        ),
        error_messages={"required": "Give the token that system issued for us (one word, no spaces)."},
    )


class GiveUpForm(PlainMessages, forms.Form):
    reason = forms.CharField(
        label="Why give up",
        max_length=2000,
        help_text="Shown beside the message wherever its delivery is shown, for example on the referral.",
        widget=_textarea(2),
        error_messages={"required": "Say why delivery is given up."},
    )
