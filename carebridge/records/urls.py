from django.urls import path

from carebridge.records import views

app_name = "records"
urlpatterns = [
    path("", views.search, name="search"),
    path("me/", views.my_record, name="my_record"),
    path("emergency-access/", views.break_glass, name="break_glass"),
    path("<uuid:public_id>/", views.record, name="record"),
]
