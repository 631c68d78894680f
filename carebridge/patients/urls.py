from django.urls import path

from carebridge.patients import views

app_name = "patients"
urlpatterns = [path("", views.register, name="register")]
