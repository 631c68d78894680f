"""What the navigation offers about prescribing (the accounts app, below the care layer, cannot ask)."""

from django.http import HttpRequest

from carebridge.access.rules import works_repeat_queue


def navigation(request: HttpRequest) -> dict[str, bool]:
    return {"nav_repeat_requests": works_repeat_queue(request.user)}
