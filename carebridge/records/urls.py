from django.urls import path

from carebridge.records import management_views, views

app_name = "records"
urlpatterns = [
    path("", views.search, name="search"),
    path("me/", views.my_record, name="my_record"),
    path("emergency-access/", views.break_glass, name="break_glass"),
    path("<uuid:public_id>/", views.record, name="record"),
    # Records management (docs/records.md).
    path("duplicates/", management_views.duplicates, name="duplicates"),
    path("merge/<uuid:first_id>/<uuid:second_id>/", management_views.merge, name="merge"),
    path("merges/", management_views.merges, name="merges"),
    path("<uuid:public_id>/merges/<uuid:merge_id>/undo/", management_views.unmerge, name="unmerge"),
    path("<uuid:public_id>/deregister/", management_views.deregister, name="deregister"),
    path("register-again/", management_views.reregister, name="reregister"),
]
