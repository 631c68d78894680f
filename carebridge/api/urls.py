from django.urls import path

from carebridge.api.api import api

urlpatterns = [path("", api.urls)]
