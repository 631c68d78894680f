"""What the navigation offers medical records staff (accounts, below the access layer, cannot ask)."""

from django.http import HttpRequest

from carebridge.access.rules import manages_records


def navigation(request: HttpRequest) -> dict[str, bool]:
    return {"nav_records_management": manages_records(getattr(request, "user", None)) is not None}
