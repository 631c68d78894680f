"""The ceiling's views: one INSERT to book, one SELECT to list free slots, one INSERT to prescribe, one INSERT
to refer. No checks on purpose.

They take the same requests as the application's JSON API (public IDs in, JSON out), so the load
generator drives both alike. Benchmark-only: nothing here checks who asks, and the booking view would
book a slot in the past or a patient twice at once; the one rule kept is the database's own
(the partial unique index `appointment_one_per_slot`), because that is what answers 409. The prescribing
view runs no safety check and asks nobody's permission: it writes the row the application would write. The
referring view likewise writes the referral row alone: no letter, no email, no history, no audit.
"""

import datetime as dt
import json
import secrets
import uuid
from decimal import Decimal
from typing import Any
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
WHERE table_schema = current_schema() AND table_name = %s
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


def _completed(statement: str, table: str, known: list[str]) -> str:
    """`statement` with the table's NOT NULL columns it does not name given their type's empty value."""
    with connection.cursor() as cursor:
        cursor.execute(UNKNOWN_COLUMNS_SQL, [table, known])
        extra = cursor.fetchall()
    unsupported = [f"{name} ({kind})" for name, kind in extra if kind not in EMPTY_VALUES]
    if unsupported:
        raise RuntimeError(f"the ceiling does not know what to put in {', '.join(unsupported)}")
    return statement.format(
        extra_columns="".join(f', "{name}"' for name, _ in extra),
        extra_values="".join(f", {EMPTY_VALUES[kind]}" for _, kind in extra),
    )


def _booking_statement() -> str:
    global _book_sql
    if _book_sql is None:
        _book_sql = _completed(BOOK_SQL, "scheduling_appointment", KNOWN_COLUMNS)
    return _book_sql


# One statement, as for booking: the patient, the problem (which must be the patient's) and the prescriber
# looked up by public ID and the prescription written, in one round trip; the pharmacy is the patient's
# nominated one, as the application's default. The application also runs the safety checks, the access
# check, the audit row and the full validation; this is the row alone.
PRESCRIBE_SQL = """
INSERT INTO prescribing_prescription
    (public_id, source_id, prescribed_on, medication_name, dose_value, dose_unit, frequency, duration_days,
     quantity_value, quantity_unit, instructions, pharmacy_name, status, issue_date, collection_date,
     cancellation_reason, appointment_id, patient_id, prescriber_id, condition_id, consultation_id, course,
     issue_number, issues_allowed, medicine_key, previous_id, review_date
     {extra_columns})
SELECT %(id)s, NULL, %(today)s, %(medicine)s, %(dose_value)s, %(dose_unit)s, %(frequency)s, %(duration_days)s,
       %(quantity_value)s, %(quantity_unit)s, %(instructions)s, p.nominated_pharmacy, 'issued', %(today)s, NULL,
       '', NULL, p.id, r.id, c.id, NULL, 'acute', 1, 1, %(medicine)s, NULL, NULL
       {extra_values}
FROM patients_patient p
JOIN clinical_condition c ON c.patient_id = p.id
CROSS JOIN organisations_clinician r
WHERE p.public_id = %(patient)s AND c.public_id = %(condition)s AND r.public_id = %(prescriber)s
"""
PRESCRIPTION_COLUMNS = [
    "id",
    "public_id",
    "source_id",
    "prescribed_on",
    "medication_name",
    "dose_value",
    "dose_unit",
    "frequency",
    "duration_days",
    "quantity_value",
    "quantity_unit",
    "instructions",
    "pharmacy_name",
    "status",
    "issue_date",
    "collection_date",
    "cancellation_reason",
    "appointment_id",
    "patient_id",
    "prescriber_id",
    "condition_id",
    "consultation_id",
    "course",
    "issue_number",
    "issues_allowed",
    "medicine_key",
    "previous_id",
    "review_date",
]
_prescribe_sql: str | None = None


def _prescribing_statement() -> str:
    global _prescribe_sql
    if _prescribe_sql is None:
        _prescribe_sql = _completed(PRESCRIBE_SQL, "prescribing_prescription", PRESCRIPTION_COLUMNS)
    return _prescribe_sql


# One statement again: the patient, the referring clinician (whose workplace is the referring surgery) and the
# receiving hospital looked up by public ID and the referral written, new and awaiting triage, in one round
# trip. The application also checks the speciality against the hospital's services, makes the letter PDF,
# queues the emails, writes the history step, the care relationships and the audit row; this is the row alone.
REFER_SQL = """
INSERT INTO referrals_referral
    (public_id, source_id, patient_id, referring_clinician_id, referrer_name, referrer_code, receiving_clinician_id,
     referring_facility_id, receiving_facility_id, speciality, ubrn, referral_date, priority, reason,
     clinical_summary, requested_investigations, status, status_reason, triage_comment, triaged_by_id, triaged_at,
     outcome, completed_at, appointment_id, notes, received_from_system, version, task_version, appointment_at,
     created_at, updated_at
     {extra_columns})
SELECT %(id)s, NULL, p.id, r.id, '', '', NULL,
       r.workplace_id, f.id, %(speciality)s, %(ubrn)s, %(today)s, %(priority)s, %(reason)s,
       %(summary)s, %(investigations)s::jsonb, 'new', '', '', NULL, NULL,
       '', NULL, NULL, '', false, 1, 0, NULL,
       now(), now()
       {extra_values}
FROM patients_patient p
CROSS JOIN organisations_clinician r
CROSS JOIN organisations_facility f
WHERE p.public_id = %(patient)s AND r.public_id = %(referrer)s AND f.public_id = %(facility)s
"""
REFERRAL_COLUMNS = [
    "id",
    "public_id",
    "source_id",
    "patient_id",
    "referring_clinician_id",
    "referrer_name",
    "referrer_code",
    "receiving_clinician_id",
    "referring_facility_id",
    "receiving_facility_id",
    "speciality",
    "ubrn",
    "referral_date",
    "priority",
    "reason",
    "clinical_summary",
    "requested_investigations",
    "status",
    "status_reason",
    "triage_comment",
    "triaged_by_id",
    "triaged_at",
    "outcome",
    "completed_at",
    "appointment_id",
    "notes",
    "received_from_system",
    "version",
    "task_version",
    "appointment_at",
    "created_at",
    "updated_at",
]
_refer_sql: str | None = None


def _referring_statement() -> str:
    global _refer_sql
    if _refer_sql is None:
        _refer_sql = _completed(REFER_SQL, "referrals_referral", REFERRAL_COLUMNS)
    return _refer_sql


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


@csrf_exempt
def prescribe(request: HttpRequest) -> HttpResponse:
    """POST /prescribe: the API's POST /api/prescriptions body, plus `prescriber` (the clinician's public ID:
    the ceiling reads no token). 201, or 404 when the patient, their problem or the prescriber is not found."""
    if request.method != "POST":
        return _error(405, "POST only")
    try:
        body = json.loads(request.body)
        params = {
            "patient": uuid.UUID(body["patient"]),
            "condition": uuid.UUID(body["condition"]),
            "prescriber": uuid.UUID(body["prescriber"]),
            "medicine": str(body["medicine"])[:60],
            "dose_value": Decimal(str(body["dose_value"])),
            "dose_unit": str(body["dose_unit"])[:30],
            "frequency": str(body["frequency"])[:100],
            "duration_days": int(body["duration_days"]),
            "quantity_value": Decimal(str(body["quantity_value"])),
            "quantity_unit": str(body["quantity_unit"])[:50],
            "instructions": str(body.get("instructions", "")),
        }
    except (ValueError, KeyError, TypeError, ArithmeticError):
        return _error(
            422, "expected JSON with patient, condition, prescriber, medicine, dose, frequency, days and quantity"
        )
    params["id"] = uuid.uuid4()
    params["today"] = dt.datetime.now(LONDON).date()
    with connection.cursor() as cursor:
        cursor.execute(_prescribing_statement(), params)
        written = cursor.rowcount
    if not written:
        return _error(404, "no such patient, problem or prescriber")
    return JsonResponse({"id": str(params["id"]), "status": "issued"}, status=201)


@csrf_exempt
def refer(request: HttpRequest) -> HttpResponse:
    """POST /refer: the API's POST /api/referrals body (no attachments), plus `referrer` (the clinician's
    public ID: the ceiling reads no token). 201, or 404 when the patient, the referrer or the hospital is not
    found. The UBRN is 12 random digits; a clash with another (one in 10^11 a pair) would answer 500."""
    if request.method != "POST":
        return _error(405, "POST only")
    try:
        body = json.loads(request.body)
        investigations = [str(item)[:200] for item in body.get("investigations", [])]
        params: dict[str, Any] = {
            "patient": uuid.UUID(body["patient"]),
            "referrer": uuid.UUID(body["referrer"]),
            "facility": uuid.UUID(body["receiving_facility"]),
            "speciality": str(body["speciality"])[:100],
            "priority": str(body["priority"])[:20],
            "reason": str(body["reason"])[:300],
            "summary": str(body.get("clinical_summary", "")),
            "investigations": json.dumps(investigations),
        }
    except (ValueError, KeyError, TypeError):
        return _error(422, "expected JSON with patient, referrer, receiving_facility, speciality, priority and reason")
    params["id"] = uuid.uuid4()
    params["ubrn"] = str(secrets.randbelow(9 * 10**11) + 10**11)
    params["today"] = dt.datetime.now(LONDON).date()
    with connection.cursor() as cursor:
        cursor.execute(_referring_statement(), params)
        written = cursor.rowcount
    if not written:
        return _error(404, "no such patient, referrer or hospital")
    return JsonResponse({"id": str(params["id"]), "ubrn": params["ubrn"], "status": "new"}, status=201)


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
