from django.contrib.auth import views as auth_views
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from carebridge.accounts.forms import SignInForm
from carebridge.accounts.roles import Role, role_of
from carebridge.audit.services import audit_sign_in, audit_sign_in_failed, audit_sign_out
from carebridge.core.actor import Actor

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
        audit_sign_in_failed(actor=Actor.from_request(self.request),
                             username=form.data.get("username", "")[:150])
        return super().form_invalid(form)


@require_POST
def sign_out(request):
    if request.user.is_authenticated:
        audit_sign_out(actor=Actor.from_request(request))
    logout(request)
    return redirect("accounts:login")
