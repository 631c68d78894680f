"""The referral's priority and its wait against the target, as every hospital page shows them (the
worklist, the pack, the consultant's day list): words in each tag, never colour alone."""

from django import template

from carebridge.referrals.models import Referral, ReferralPriority

register = template.Library()

_PRIORITY_TAG: dict[str, str] = {
    ReferralPriority.TWO_WEEK_WAIT: "nhsuk-tag--red",
    ReferralPriority.URGENT: "nhsuk-tag--orange",
    ReferralPriority.ROUTINE: "nhsuk-tag--blue",
    ReferralPriority.NON_URGENT: "nhsuk-tag--grey",
}


@register.inclusion_tag("referrals/hospital/_priority.html")
def referral_priority(referral: Referral) -> dict[str, object]:
    return {"words": referral.get_priority_display(), "colour": _PRIORITY_TAG.get(referral.priority, "")}


@register.inclusion_tag("referrals/hospital/_wait.html")
def referral_wait(referral: Referral) -> dict[str, object]:
    return {
        "waited": referral.wait_days,
        "target": referral.target_days,
        "over": referral.wait_days - referral.target_days if referral.is_breached else 0,
        "is_open": referral.is_open,
    }
