"""The staff pages' forms. They check what a manager typed; the rules live in services.py."""

from django import forms

from carebridge.core.fields import EmploymentStatus
from carebridge.core.forms import PlainMessages
from carebridge.organisations.models import AccessLevel, StaffMember

# The jobs Carebridge knows (core.roles), first, then those in the coursework with no record work.
KNOWN_JOBS = [
    "Receptionist",
    "Appointments Coordinator",
    "Ward Clerk",
    "Healthcare Assistant",
    "Medical Secretary",
    "Medical Records Clerk",
    "Practice Manager",
    "Hospital Administrator",
    "Porter",
]


def _styled(form: forms.Form) -> None:
    for field in form.fields.values():
        if isinstance(field.widget, forms.Select):
            field.widget.attrs.setdefault("class", "nhsuk-select")
        else:
            field.widget.attrs.setdefault("class", "nhsuk-input")


class LoginCreateForm(PlainMessages, forms.Form):
    username = forms.CharField(
        label="Username",
        max_length=150,
        help_text="What they will type to sign in. Letters, digits and . @ + - _ only.",
        error_messages={"required": "Enter a username."},
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="We send the link to set their password here. It works once, for 72 hours.",
        error_messages={
            "required": "Enter their email address, for the link to set a password.",
            "invalid": "Enter an email address like name@example.nhs.uk.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs["autocomplete"] = "off"
        self.fields["username"].widget.attrs["spellcheck"] = "false"
        _styled(self)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip().lower()
        if not all(character.isalnum() or character in ".@+-_" for character in username):
            raise forms.ValidationError("Use only letters, digits and . @ + - _ in a username.")
        return username

    @staticmethod
    def suggested_username(staff_member: StaffMember) -> str:
        name = f"{staff_member.first_name}.{staff_member.last_name}".lower()
        return "".join(character for character in name if character.isalnum() or character in ".-")


class JobChangeForm(PlainMessages, forms.Form):
    job_title = forms.ChoiceField(
        label="Job", error_messages={"required": "Choose their job.", "invalid_choice": "Choose a job from the list."}
    )
    access_level = forms.ChoiceField(
        label="Access level",
        choices=[("", "Choose an access level"), *AccessLevel.choices],
        help_text="Basic and Standard staff work with records; Manager runs the facility's staff and schedules.",
        error_messages={
            "required": "Choose their access level.",
            "invalid_choice": "Choose an access level from the list.",
        },
    )
    employment_status = forms.ChoiceField(
        label="Employment",
        choices=[("", "Choose"), *EmploymentStatus.choices],
        error_messages={
            "required": "Choose full-time or part-time.",
            "invalid_choice": "Choose full-time or part-time.",
        },
    )

    def __init__(self, *args, staff_member: StaffMember, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "job_title": staff_member.job_title,
                "access_level": staff_member.access_level,
                "employment_status": staff_member.employment_status,
            },
        )
        super().__init__(*args, **kwargs)
        jobs = list(KNOWN_JOBS)
        if staff_member.job_title and staff_member.job_title not in jobs:
            # An imported job Carebridge does not know ("Children's Unit Coordinator") stays choosable.
            jobs.append(staff_member.job_title)
        self.fields["job_title"].choices = [("", "Choose a job"), *((job, job) for job in jobs)]
        _styled(self)


class FacilityDetailsForm(PlainMessages, forms.Form):
    """How patients and other services find and reach the facility. Opening hours are kept on the
    schedules page, because they decide which appointment times are offered."""

    name = forms.CharField(label="Name", max_length=200, error_messages={"required": "Enter the facility's name"})
    address = forms.CharField(
        label="Address", max_length=300, error_messages={"required": "Enter the facility's address"}
    )
    postcode = forms.CharField(label="Postcode", max_length=10, error_messages={"required": "Enter the postcode"})
    phone_number = forms.CharField(label="Phone number", max_length=30, required=False)
    email = forms.EmailField(
        label="Email address", required=False, error_messages={"invalid": "Enter an email address like name@nhs.net"}
    )
    referral_email = forms.EmailField(
        label="Referral inbox address",
        required=False,
        help_text=(
            "Where referrals (and, for a surgery, clinic letters) are emailed. "
            "Leave empty to use the email address above."
        ),
        error_messages={"invalid": "Enter a referral inbox address like referrals@nhs.net"},
    )
    specialities_offered = forms.CharField(
        label="Services and specialities offered",
        required=False,
        help_text="One on each line, for example Cardiology.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "nhsuk-textarea" if isinstance(field.widget, forms.Textarea) else "nhsuk-input"
            )

    def clean_postcode(self) -> str:
        return self.cleaned_data["postcode"].strip().upper()

    def clean_specialities_offered(self) -> list[str]:
        seen: dict[str, str] = {}
        for line in self.cleaned_data["specialities_offered"].splitlines():
            name = " ".join(line.split())
            if len(name) > 100:
                raise forms.ValidationError("Keep each service to 100 characters")
            if name and name.lower() not in seen:
                seen[name.lower()] = name
        return list(seen.values())
