from django.urls import path

from carebridge.privacy import views

app_name = "privacy"
urlpatterns = [
    path("audit/", views.audit_search, name="audit"),
    path("emergency-access/", views.break_glass_list, name="break_glass"),
    path("emergency-access/<int:grant_id>/", views.break_glass_detail, name="break_glass_detail"),
    path("emergency-access/<int:grant_id>/review/", views.break_glass_review_view, name="break_glass_review"),
    path("access-changes/", views.access_change_list, name="access_changes"),
    path("access-changes/<int:change_id>/review/", views.access_change_review_view, name="access_change_review"),
]
