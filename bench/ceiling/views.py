"""The ceiling's two views: one INSERT to book, one SELECT to list free slots. No checks on purpose.

They take the same requests as the application's JSON API (public IDs in, JSON out), so the load
generator drives both alike. Benchmark-only: nothing here checks who asks, and the booking view would
book a slot in the past or a patient twice at once; the one rule kept is the database's own
(the partial unique index `appointment_one_per_slot`), because that is what answers 409.
"""

import datetime as dt
import json
import uuid
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

LONDON = ZoneInfo("Europe/London")
HOLDING = ("booked", "arrived", "fulfilled", "noshow")  # scheduling.models.HOLDING_STATUSES

# One statement: the slot and patient looked up by public ID and the row written, in one round trip.
BOOK_SQL = """
INSERT INTO scheduling_appointment
    (public_id, source_id, starts_at, duration_minutes, appointment_type, status, reason_for_visit, notes,
     created_at, updated_at, clinician_id, facility_id, patient_id, cancellation_reason, needs_rebooking, slot_id
     {extra_columns})
SELECT %s, NULL, s.starts_at, (EXTRACT(EPOCH FROM s.ends_at - s.starts_at) / 60)::int, %s, 'booked', %s, '',
       now(), now(), s.clinician_id, s.facility_id, p.id, '', false, s.id
       {extra_values}
FROM scheduling_slot s, patients_patient p
WHERE s.public_id = %s AND p.public_id = %s
"""
# Columns the application adds later get Django defaults in Python, not in the table; the ceiling gives any
# NOT NULL column it does not know the empty value of its type, so a new column does not break it.
UNKNOWN_COLUMNS_SQL = """
SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'scheduling_appointment'
  AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'
  AND column_name <> ALL(%s)
ORDER BY ordinal_position
"""
KNOWN_COLUMNS = [
    "public_id",
    "source_id",
    "starts_at",
    "duration_minutes",
    "appointment_type",
    "status",
    "reason_for_visit",
    "notes",
    "created_at",
    "updated_at",
    "clinician_id",
    "facility_id",
    "patient_id",
    "cancellation_reason",
    "needs_rebooking",
    "slot_id",
]
EMPTY_VALUES = {
    "character varying": "''",
    "text": "''",
    "smallint": "0",
    "integer": "0",
    "bigint": "0",
    "numeric": "0",
    "boolean": "false",
    "jsonb": "'{}'::jsonb",
    "json": "'{}'::json",
    "timestamp with time zone": "now()",
    "date": "current_date",
    "uuid": "gen_random_uuid()",
}
_book_sql: str | None = None  # made on a worker's first booking, from the table as it is


def _booking_statement() -> str:
    global _book_sql
    if _book_sql is None:
        with connection.cursor() as cursor:
            cursor.execute(UNKNOWN_COLUMNS_SQL, [KNOWN_COLUMNS])
            extra = cursor.fetchall()
        unsupported = [f"{name} ({kind})" for name, kind in extra if kind not in EMPTY_VALUES]
        if unsupported:
            raise RuntimeError(f"the ceiling does not know what to put in {', '.join(unsupported)}")
        _book_sql = BOOK_SQL.format(
            extra_columns="".join(f', "{name}"' for name, _ in extra),
            extra_values="".join(f", {EMPTY_VALUES[kind]}" for _, kind in extra),
        )
    return _book_sql


# What `scheduling.selectors.free_slots` asks, written out: offered, not started, held by nobody.
FREE_SLOTS_SQL = """
SELECT s.public_id, s.starts_at, s.ends_at, s.appointment_types, c.public_id, c.honorific, c.first_name, c.last_name,
       f.public_id, f.name
FROM scheduling_slot s
JOIN organisations_clinician c ON c.id = s.clinician_id
JOIN organisations_facility f ON f.id = s.facility_id
WHERE f.public_id = %(facility)s AND NOT s.withdrawn
  AND s.starts_at >= %(since)s AND s.starts_at < %(until)s AND s.starts_at > now()
  AND (%(clinician)s::uuid IS NULL OR c.public_id = %(clinician)s::uuid)
  AND (%(type)s::jsonb IS NULL OR s.appointment_types @> %(type)s::jsonb)
  AND NOT EXISTS (SELECT 1 FROM scheduling_appointment a
                  WHERE a.slot_id = s.id AND a.status IN ('booked', 'arrived', 'fulfilled', 'noshow'))
ORDER BY s.starts_at, s.clinician_id
LIMIT %(limit)s
"""


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


@csrf_exempt  # no middleware runs here anyway; said for whoever adds some
def book(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _error(405, "POST only")
    try:
        body = json.loads(request.body)
        slot, patient = uuid.UUID(body["slot"]), uuid.UUID(body["patient"])
        appointment_type, reason = str(body["appointment_type"]), str(body.get("reason", ""))[:300]
    except (ValueError, KeyError, TypeError):
        return _error(422, "expected JSON with slot, patient, appointment_type and reason")
    appointment_id = uuid.uuid4()
    try:
        with connection.cursor() as cursor:
            cursor.execute(_booking_statement(), [appointment_id, appointment_type, reason, slot, patient])
            written = cursor.rowcount
    except IntegrityError as error:
        if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) == "appointment_one_per_slot":
            return _error(409, "That time has just been taken.")
        raise
    if not written:
        return _error(404, "no such slot or patient")
    return JsonResponse({"id": str(appointment_id), "status": "booked"}, status=201)


def slots(request: HttpRequest) -> HttpResponse:
    """Free slots at a facility on a day, soonest first, at most `limit` (50 unless asked), as the API's
    GET /api/slots answers them."""
    if request.method != "GET":
        return _error(405, "GET only")
    try:
        facility = uuid.UUID(request.GET["facility"])
        day = dt.date.fromisoformat(request.GET["date"])
        clinician = uuid.UUID(request.GET["clinician"]) if request.GET.get("clinician") else None
        limit = min(max(int(request.GET.get("limit", "50")), 1), 500)
    except (ValueError, KeyError):
        return _error(422, "expected facility, date and optionally clinician, appointment_type and limit")
    appointment_type = request.GET.get("appointment_type") or None
    params = {
        "facility": facility,
        "clinician": clinician,
        "limit": limit,
        "since": dt.datetime.combine(day, dt.time.min, LONDON),
        "until": dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, LONDON),
        "type": json.dumps([appointment_type]) if appointment_type else None,
    }
    with connection.cursor() as cursor:
        cursor.execute(FREE_SLOTS_SQL, params)
        rows = cursor.fetchall()
    return JsonResponse(
        [
            {
                "id": str(slot_id),
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
                "minutes": int((ends_at - starts_at).total_seconds() // 60),
                # Django's PostgreSQL backend hands jsonb back as text, for JSONField to decode.
                "appointment_types": json.loads(types) if isinstance(types, str) else types,
                "clinician": {"id": str(clinician_id), "name": " ".join(p for p in (honorific, first, last) if p)},
                "facility": {"id": str(facility_id), "name": facility_name},
            }
            for (
                slot_id,
                starts_at,
                ends_at,
                types,
                clinician_id,
                honorific,
                first,
                last,
                facility_id,
                facility_name,
            ) in rows
        ],
        safe=False,
    )
