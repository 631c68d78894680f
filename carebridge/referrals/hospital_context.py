"""What the navigation offers about the hospital's referrals (the accounts app, below the care layer,
cannot ask): the worklist, to the clinicians and administrative staff of a hospital."""

from django.http import HttpRequest

from carebridge.access.rules import works_referral_worklist


def navigation(request: HttpRequest) -> dict[str, bool]:
    return {"nav_referral_worklist": works_referral_worklist(getattr(request, "user", None)) is not None}
