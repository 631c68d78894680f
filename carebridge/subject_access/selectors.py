"""Reading subject access requests: the patient's own, and the queue at a surgery."""

import uuid

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from carebridge.patients.models import Patient
from carebridge.subject_access.models import SubjectAccessRequest


def requests_of(patient: Patient) -> QuerySet[SubjectAccessRequest]:
    return SubjectAccessRequest.objects.filter(patient=patient).defer("document").order_by("-requested_at", "-pk")


def queue_at(surgery_id: int) -> QuerySet[SubjectAccessRequest]:
    """Open requests first, the nearest due date first; then those released, the latest first."""
    return (
        SubjectAccessRequest.objects.filter(surgery_id=surgery_id)
        .defer("document")
        .select_related("patient", "requested_by")
        .order_by("released_at", "due_by", "requested_at", "pk")
    )


def request_named(public_id: uuid.UUID | str) -> SubjectAccessRequest | None:
    """The request with `public_id`, or None: the services decide who may act on it."""
    try:
        return (
            SubjectAccessRequest.objects.defer("document")
            .select_related("patient__registered_surgery")
            .get(public_id=public_id)
        )
    except (SubjectAccessRequest.DoesNotExist, ValueError, ValidationError):
        return None
