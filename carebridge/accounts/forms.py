from django import forms
from django.contrib.auth.forms import AuthenticationForm

from carebridge.accounts.models import User
from carebridge.core.forms import PlainMessages


class SignInForm(PlainMessages, AuthenticationForm):
    error_messages = {
        "invalid_login": "The username or password is not right. Check them and try again.",
        "inactive": "This account has been closed. Ask your practice or facility manager.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "nhsuk-input"
        self.fields["username"].widget.attrs["autocomplete"] = "username"
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"

    def clean_username(self) -> str:
        # Patients sign in with their email address, which people type with capitals and spaces; logins
        # are stored in lower case. A login that really has capitals still matches exactly first.
        typed = self.cleaned_data["username"].strip()
        if User.objects.filter(username=typed).exists():
            return typed
        return typed.lower()


def lockout_username(request, credentials: dict | None) -> str:
    """The name django-axes counts failures against: as the form reads it, so 'GP' and 'gp' share a count."""
    typed = (credentials or {}).get("username") or request.POST.get("username", "")
    return typed.strip().lower()


class PasswordResetRequestForm(PlainMessages, forms.Form):
    email = forms.EmailField(
        label="Email address",
        help_text="The email address your surgery has for you. We will email you a link to choose a new password.",
        max_length=254,
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
        },
        widget=forms.EmailInput(attrs={"class": "nhsuk-input", "autocomplete": "email", "spellcheck": "false"}),
    )
