"""FHIR to other systems, through an outbox: queued in the caller's transaction, sent by the task worker.

A care service calls `fhir_enqueue()` in the transaction of the change to be told (a referral made, a
referral triaged), naming the receiving system (a `RemoteEndpoint`), a payload kind and the record. The
worker's `deliver_fhir()` asks the builder registered for that kind (the FHIR app registers them: this
layer knows nothing of referrals) for the request to make, built from the record as it is now, and makes
it over HTTP with the endpoint's token. A 2xx answer is delivered; anything else (refused, timed out,
5xx, and also 4xx: a wrong token or a receiver that needs updating is put right by people) is kept on
the row and retried: 30 s, doubling, at most 15 minutes apart, until delivered or an administrator
gives it up (carebridge.delivery.outbox). The receiver recognises a message sent twice by its content's
version, so nothing arrives twice.
"""

import http.client
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django_tasks import task

from carebridge.core import clock
from carebridge.delivery import outbox
from carebridge.delivery.models import OutboundFhir, RemoteEndpoint

DELIVER_FHIR_TASK_PATH = "carebridge.delivery.remote.deliver_fhir"
FHIR_JSON = "application/fhir+json"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FhirRequest:
    """What to send: `path` relative to the endpoint's FHIR base, say "ServiceRequest"."""

    method: str
    path: str
    body: dict[str, Any]


# kind -> builder(object_id) -> the request, or None when there is nothing to send any more.
Builder = Callable[[str], FhirRequest | None]
_builders: dict[str, Builder] = {}


def register_payload(kind: str, builder: Builder) -> None:
    """Called by the app that knows how to say `kind` in FHIR (carebridge.fhir, at start-up)."""
    _builders[kind] = builder


def fhir_enqueue(
    *, endpoint: RemoteEndpoint, kind: str, object_id: str, version: int, description: str, patient_id: int | None
) -> OutboundFhir:
    """Queue a message for `endpoint`, in the caller's transaction; the same record at the same version
    is queued once."""
    key = f"{endpoint.name}:{kind}:{object_id}:v{version}"
    with transaction.atomic():
        existing = OutboundFhir.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
        now = clock.now()
        message = OutboundFhir(
            idempotency_key=key,
            endpoint=endpoint,
            kind=kind,
            object_id=object_id,
            description=description[:300],
            patient_id=patient_id,
            until_given_up=True,
            created_at=now,
            next_attempt_at=now,
        )
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            return OutboundFhir.objects.get(idempotency_key=key)
        deliver_fhir.enqueue(message.pk)
        return message


@task()
def deliver_fhir(message_id: int) -> str:
    """Make one queued request. Safe to run more than once: a delivered message is not sent again."""
    message = outbox.claim(OutboundFhir, message_id)
    if message is None:
        return "nothing to do"
    builder = _builders.get(message.kind)
    try:
        request = builder(message.object_id) if builder is not None else None
    except Exception as error:  # a bug in a builder must not leave the message waiting for the sweep
        logger.exception("Building FHIR message %s failed", message.public_id)
        return outbox.record_failure(
            OutboundFhir,
            message_id,
            deliver_fhir,
            description=f"Carebridge could not build the message ({type(error).__name__}); it will try again.",
            permanent=False,
        )
    if request is None:
        outbox.record_failure(
            OutboundFhir,
            message_id,
            deliver_fhir,
            description=f"Nothing to send: no {message.kind} {message.object_id} here any more.",
            permanent=True,
        )
        return "nothing to send"
    endpoint = RemoteEndpoint.objects.get(pk=message.endpoint_id)  # read now: a corrected token applies
    try:
        status = _send(endpoint, request)
    except _Failed as failure:
        return outbox.record_failure(
            OutboundFhir,
            message_id,
            deliver_fhir,
            description=failure.description,
            permanent=False,
            response_status=failure.status,
        )
    outbox.record_sent(OutboundFhir, message_id, response_status=status)
    return "sent"


class _Failed(Exception):
    def __init__(self, description: str, status: int | None = None):
        super().__init__(description)
        self.description = description[:2000]
        self.status = status


def _send(endpoint: RemoteEndpoint, request: FhirRequest) -> int:
    url = endpoint.fhir_base.rstrip("/") + "/" + request.path.lstrip("/")
    http_request = urllib.request.Request(
        url,
        method=request.method,
        data=json.dumps(request.body).encode("utf-8"),
        headers={
            "Content-Type": FHIR_JSON,
            "Accept": FHIR_JSON,
            "Authorization": f"Bearer {endpoint.token}",
        },
    )
    try:
        with urllib.request.urlopen(http_request, timeout=settings.REMOTE_FHIR_TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        raise _Failed(f"{endpoint.label} answered {error.code}: {_diagnostics(error)}", error.code) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise _Failed(f"Could not reach {endpoint.label} ({type(error).__name__}): {reason}") from None
    except http.client.HTTPException as error:
        # Something answered that is not HTTP (another service on that port, an answer cut short): kept
        # and retried like any failure, rather than ending the task with the attempt still in hand.
        raise _Failed(f"{endpoint.label} gave no HTTP answer ({type(error).__name__}): {error}") from None


def _diagnostics(error: urllib.error.HTTPError) -> str:
    """What the receiver said, from its OperationOutcome when it sent one; short, for the record."""
    try:
        body = json.loads(error.read(20_000) or b"{}")
        issues = body.get("issue") or []
        # Carebridge's own OperationOutcomes put the words in details.text; others often in diagnostics.
        text = "; ".join(
            str(issue.get("diagnostics") or (issue.get("details") or {}).get("text") or issue.get("code") or "")
            for issue in issues
        )
    except (ValueError, AttributeError, OSError):
        text = ""
    return (text or error.reason or "no explanation").strip()[:500]


def fhir_release_attempts(*, lost_workers: set[str], message_ids: set[int]) -> int:
    return outbox.release_attempts(OutboundFhir, deliver_fhir, lost_workers=lost_workers, entry_ids=message_ids)


def fhir_requeue_overdue() -> int:
    return outbox.requeue_overdue(OutboundFhir, deliver_fhir)


def endpoint_named(name: str) -> RemoteEndpoint | None:
    return RemoteEndpoint.objects.filter(name=name).first()
