from django.contrib.auth.forms import AuthenticationForm

from carebridge.accounts.models import User


class SignInForm(AuthenticationForm):
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
