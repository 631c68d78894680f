from django.urls import path

from carebridge.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/sign-in/", views.SignInView.as_view(), name="login"),
    path("accounts/sign-out/", views.sign_out, name="logout"),
]
