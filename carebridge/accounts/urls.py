from django.urls import path

from carebridge.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/sign-in/", views.SignInView.as_view(), name="login"),
    path("accounts/sign-out/", views.sign_out, name="logout"),
    path("accounts/invitation/<uidb64>/<token>/", views.PortalInvitationView.as_view(), name="portal_invitation"),
    path("accounts/set-password/<uidb64>/<token>/", views.StaffInvitationView.as_view(), name="staff_invitation"),
    path("accounts/password-reset/", views.password_reset_request_view, name="password_reset"),
    path("accounts/password-reset/sent/", views.password_reset_sent, name="password_reset_sent"),
    path("accounts/password-reset/<uidb64>/<token>/", views.PasswordResetSetView.as_view(), name="password_reset_set"),
]
