"""Why a service refused, in one vocabulary that every edge translates the same way.

Services raise these; pages show the message, REST answers {"detail", "code"} and FHIR an
OperationOutcome, each with the status below. Nothing was changed when one is raised.

  NotFound      404  missing, or not visible to this person (the two look the same from outside)
  NotPermitted  403  visible to this person, but they may not do this to it
  Conflict      409  someone else got there first (a slot just taken)
  Invalid       422  the request breaks a rule; `fields` names the inputs at fault, if any

`audited` is set once the refusal has an audit row, so the layers it passes through write one only.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.http import Http404

if TYPE_CHECKING:
    from django.db.models import Model
    from django.forms import BaseForm


class Refused(Exception):
    status = 422
    code = "refused"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.audited = False


class NotFound(Refused, Http404):
    """Also an Http404, so a page that lets it through answers Django's ordinary 404."""

    status = 404
    code = "not-found"

    def __init__(self, message: str = "Not found.", *, fields: dict[str, str] | None = None):
        super().__init__(message, fields=fields)


class NotPermitted(Refused):
    status = 403
    code = "not-permitted"


class Conflict(Refused):
    status = 409
    code = "conflict"


class Invalid(Refused):
    status = 422
    code = "invalid"


def add_to_form(form: "BaseForm", refusal: Refused) -> None:
    """Show a refusal on the page's form: beside the fields it names, or above the form."""
    if not refusal.fields:
        form.add_error(None, refusal.message)
    for field, message in refusal.fields.items():
        form.add_error(field if field in form.fields else None, message)


def full_clean_or_refuse(instance: "Model", *, exclude: Iterable[str] = (), database_checks: bool = True) -> None:
    """A model's own checks (full_clean) before saving, its problems as one Invalid naming each field: a
    value the edges let through (a dose with too many decimals) is a 422, never a 500.

    `database_checks=False` skips the checks that ask the database (uniqueness, constraints), for a hot
    path whose service has already checked those values itself: the database still enforces them."""
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=database_checks, validate_constraints=database_checks
        )
    except ValidationError as problem:
        fields = {name: " ".join(messages) for name, messages in problem.message_dict.items()}
        raise Invalid(" ".join(fields.values()), fields=fields) from None
