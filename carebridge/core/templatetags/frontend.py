"""{% frontend_supported_script %}: the first thing in every page's body (carebridge/core/frontend.py)."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from carebridge.core.frontend import FRONTEND_SUPPORTED_SCRIPT

register = template.Library()


@register.simple_tag
def frontend_supported_script() -> SafeString:
    # A constant of ours, not input: nothing to escape (and escaping would break the script's quotes).
    return mark_safe(f"<script>{FRONTEND_SUPPORTED_SCRIPT}</script>")
