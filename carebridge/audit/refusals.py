"""Every denial a service raises is audited, once, after the service's transaction has rolled back.

A denial is a refusal of access: NotFound (not visible to this person) and NotPermitted (visible, but
not theirs to do). A request that breaks a rule (Invalid) or loses a race (Conflict) changes nothing and
is answered with its reason, but it is not an access decision, so it is not a row in the audit trail:
the pages catch many such mistakes in the form before any service is asked, and the trail must read
the same whichever channel the request came through.
"""

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial
from carebridge.core.actor import Actor
from carebridge.core.errors import NotFound, NotPermitted

P = ParamSpec("P")
R = TypeVar("R")


def _subject(kwargs: dict[str, Any]) -> tuple[str, int | None]:
    """The object and patient a service call was about, from its usual keyword arguments."""
    patient_id = None
    object_id = ""
    for name in ("appointment", "prescription", "referral", "consultation", "patient"):
        value = kwargs.get(name)
        if value is None:
            continue
        if not object_id and hasattr(value, "public_id"):
            object_id = str(value.public_id)
        if patient_id is None:
            patient_id = value.pk if name == "patient" else getattr(value, "patient_id", None)
    return object_id, patient_id


def refusals_audited(object_type: AuditObject, target: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Wrap a service (outside its @transaction.atomic) so a denial it raises is written to the audit
    trail where the rollback cannot take it, then re-raised for the edge to translate.

    `target` names the keyword argument holding the record acted on (a staff member, a login), when it is
    not one of a patient's records, which are found by their usual names."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return function(*args, **kwargs)
            except (NotFound, NotPermitted) as refusal:
                if not refusal.audited:
                    actor = kwargs["actor"]
                    assert isinstance(actor, Actor)
                    object_id, patient_id = _subject(kwargs)
                    if target is not None:
                        record = kwargs.get(target)
                        object_id = str(getattr(record, "public_id", None) or getattr(record, "pk", "") or "")
                    audit_denial(
                        actor=actor,
                        object_type=object_type,
                        object_id=object_id,
                        patient_id=patient_id,
                        detail={"operation": function.__name__, "refusal": refusal.code, "message": refusal.message},
                    )
                    refusal.audited = True
                raise

        return wrapper

    return decorate
