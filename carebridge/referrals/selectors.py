"""Reads of referrals, cut to what the viewer may see."""

from carebridge.access.rules import PatientAccess, Viewer
from carebridge.referrals.models import Referral


def referral_disclosed(referral: Referral, access: PatientAccess | Viewer) -> Referral:
    """`referral` without its clinical content for a viewer who may not see it, for showing only.

    Non-clinical staff see a referral's administrative fields (priority, dates, status, the receiving
    clinic); the reason, clinical summary, investigations and notes are emptied here, so no page or API
    can show what it was never given. `Referral.save()` refuses an instance cut here."""
    if access.sees_clinical:
        return referral
    referral.reason = ""
    referral.clinical_summary = ""
    referral.requested_investigations = []
    referral.notes = ""
    referral.disclosed_only = True
    return referral
