"""What the navigation offers about subject access requests (accounts, below this app, cannot ask)."""

from django.http import HttpRequest

from carebridge.access.rules import handles_subject_access


def navigation(request: HttpRequest) -> dict[str, bool]:
    return {"nav_subject_access": handles_subject_access(request.user) is not None}
