from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carebridge.accounts.forms import PasswordResetRequestForm, SignInForm
from carebridge.accounts.invitations import InvitationNoLongerValid, portal_invitation_accept, portal_invitation_tokens
from carebridge.accounts.models import AccountKind
from carebridge.accounts.password_reset import password_reset_complete, password_reset_request, password_reset_tokens
from carebridge.accounts.staff_invitations import INVITED_KINDS, staff_invitation_accept, staff_invitation_tokens
from carebridge.audit.services import audit_sign_in, audit_sign_in_failed, audit_sign_out
from carebridge.core.actor import Actor, client_ip
from carebridge.core.forms import name_the_fields
from carebridge.core.roles import Role, role_of

# Which home page each role lands on. Patients go straight to their own record.
HOME_TEMPLATES = {
    Role.GP: "accounts/home_clinician.html",
    Role.SPECIALIST: "accounts/home_clinician.html",
    Role.NURSE: "accounts/home_clinician.html",
    Role.FRONT_DESK: "accounts/home_front_desk.html",
    Role.RECORDS: "accounts/home_front_desk.html",
    Role.FACILITY_MANAGER: "accounts/home_manager.html",
    Role.SYSTEM_ADMIN: "accounts/home_system_admin.html",
    Role.PRIVACY_OFFICER: "accounts/home_privacy.html",
    Role.SUPPORT: "accounts/home_no_access.html",
    Role.NONE: "accounts/home_no_access.html",
}


@require_GET
@login_required
def home(request):
    role = role_of(request.user)
    if role == Role.PATIENT:
        return redirect("records:my_record")
    workplace = _workplace(request.user)
    return render(request, HOME_TEMPLATES[role], {"workplace": workplace})


def _workplace(user):
    if hasattr(user, "clinician"):
        return user.clinician.workplace
    if hasattr(user, "staff_member"):
        return user.staff_member.facility
    return None


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_sign_in(actor=Actor.from_request(self.request))
        return response

    def form_invalid(self, form):
        audit_sign_in_failed(actor=Actor.from_request(self.request), username=form.data.get("username", "")[:150])
        return super().form_invalid(form)


@require_POST
def sign_out(request):
    if request.user.is_authenticated:
        audit_sign_out(actor=Actor.from_request(request))
    logout(request)
    return redirect("accounts:login")


# --- The portal invitation: a patient sets their first password with the link in the email ----------


class PortalSetPasswordForm(SetPasswordForm):
    """Django's form (two entries, the password validators), with the NHS.UK field classes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Create a password"
        self.fields["new_password2"].label = "Type the password again"
        for field in self.fields.values():
            field.widget.attrs["class"] = "nhsuk-input"
            field.widget.attrs["autocomplete"] = "new-password"
        name_the_fields(self)  # after the labels are set, so the messages use them


class PortalInvitationView(auth_views.PasswordResetConfirmView):
    """The link from the invitation email.

    Django's view checks the token, keeps it in the session and redirects to a URL without it (so it
    does not leak in a Referer header); a link that is expired, used or wrong renders the same
    template with the reason instead of the form, never an error.
    """

    template_name = "accounts/portal_set_password.html"
    form_class = PortalSetPasswordForm
    token_generator = portal_invitation_tokens

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # Invitations are for patients' logins only, and never revive a closed one.
        if user is None or user.kind != AccountKind.PATIENT or not user.is_active:
            return None
        return user

    # Where the person lands once the password is set, and what they are told there (the views below
    # differ only in these and in the service that accepts the link).
    accepted_redirect = "records:my_record"
    accepted_message = ""

    def accept(self, *, actor: Actor, token: str, password: str):
        return portal_invitation_accept(actor=actor, user=self.user, token=token, password=password)

    def form_valid(self, form):
        token = self.request.session.get(INTERNAL_RESET_SESSION_TOKEN, "")
        actor = Actor(user=self.user, channel="web", ip_address=client_ip(self.request))
        try:
            user = self.accept(actor=actor, token=token, password=form.cleaned_data["new_password1"])
        except InvitationNoLongerValid:
            self.validlink = False
            return self.render_to_response(self.get_context_data())
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        audit_sign_in(actor=Actor.from_request(self.request))
        if self.accepted_message:
            messages.success(self.request, self.accepted_message)
        return redirect(self.accepted_redirect)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.validlink:
            token = self.kwargs.get("token")
            if token == self.reset_url_token:
                token = self.request.session.get(INTERNAL_RESET_SESSION_TOKEN)
            context["link_state"] = portal_invitation_tokens.state(self.user, token)
        else:
            context["username"] = self.user.username
        return context


# --- The set-password link a new staff login is sent (organisations.services.staff_login_create) -----


class StaffInvitationView(PortalInvitationView):
    """The link from a staff member's login email: as the portal invitation, for staff and clinicians."""

    template_name = "accounts/staff_set_password.html"
    token_generator = staff_invitation_tokens

    def get_user(self, uidb64):
        user = super(PortalInvitationView, self).get_user(uidb64)
        # Never revives a closed login: a deactivated staff member's old link does nothing.
        if user is None or user.kind not in INVITED_KINDS or not user.is_active:
            return None
        return user

    accepted_redirect = "accounts:home"

    def accept(self, *, actor: Actor, token: str, password: str):
        return staff_invitation_accept(actor=actor, user=self.user, token=token, password=password)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.validlink:
            token = self.kwargs.get("token")
            if token == self.reset_url_token:
                token = self.request.session.get(INTERNAL_RESET_SESSION_TOKEN)
            context["link_state"] = staff_invitation_tokens.state(self.user, token)
        return context


# --- "Forgotten your password?": a patient resets theirs with an emailed link (password_reset.py) -----


@require_http_methods(["GET", "POST"])
def password_reset_request_view(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password_reset_request(actor=Actor.from_request(request), address=form.cleaned_data["email"])
        # The same page whatever was typed: it must not tell anyone whether an address has a login.
        return redirect("accounts:password_reset_sent")
    return render(request, "accounts/password_reset_request.html", {"form": form})


@require_GET
def password_reset_sent(request):
    return render(request, "accounts/password_reset_sent.html")


class PasswordResetSetView(PortalInvitationView):
    """The link from the password reset email: as the invitation's page, for a patient's login in use."""

    template_name = "accounts/password_reset_set.html"
    token_generator = password_reset_tokens

    def get_user(self, uidb64):
        user = super(PortalInvitationView, self).get_user(uidb64)
        if user is None or user.kind != AccountKind.PATIENT or not user.is_active:
            return None
        return user

    accepted_message = "Your password has been changed. Use it the next time you sign in."

    def accept(self, *, actor: Actor, token: str, password: str):
        return password_reset_complete(actor=actor, user=self.user, token=token, password=password)

    def get_context_data(self, **kwargs):
        context = super(PortalInvitationView, self).get_context_data(**kwargs)
        context["valid_minutes"] = int(password_reset_tokens.valid_for.total_seconds() // 60)
        if not self.validlink:
            token = self.kwargs.get("token")
            if token == self.reset_url_token:
                token = self.request.session.get(INTERNAL_RESET_SESSION_TOKEN)
            context["link_state"] = password_reset_tokens.state(self.user, token)
        else:
            context["username"] = self.user.username
        return context
