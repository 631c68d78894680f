from django.apps import AppConfig


class SubjectAccessConfig(AppConfig):
    name = "carebridge.subject_access"
    label = "subject_access"
    verbose_name = "Subject access requests"
