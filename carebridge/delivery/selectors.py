"""Reads of the outbox: what was sent to whom, and how delivery went."""

from django.db.models import QuerySet

from carebridge.delivery.models import OutboundEmail


def emails_for_patient(patient_id: int) -> QuerySet[OutboundEmail]:
    """Every message about one patient, newest first. The caller has checked access to the patient."""
    return OutboundEmail.objects.filter(patient_id=patient_id).order_by("-created_at", "-id")
