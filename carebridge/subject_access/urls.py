from django.urls import path

from carebridge.subject_access import views

app_name = "subject_access"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("mine/", views.mine, name="mine"),
    path("written/", views.written, name="written"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/produce/", views.produce, name="produce"),
    path("<uuid:public_id>/release/", views.release, name="release"),
    path("<uuid:public_id>/copy.pdf", views.download, name="download"),
]
