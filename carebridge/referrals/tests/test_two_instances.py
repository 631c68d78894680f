"""Two Carebridges, a GP surgery's and a hospital's, exchanging referrals over real HTTP (issue 8, "how it
is shown to work"): each with its own database, web server and task worker (carebridge/testing/instances.py),
connected as deployments connect them (`carebridge api-token --system` on one, `carebridge
facility-endpoint` on the other), mail going to one real SMTP server.

Every step is driven as its user drives it, through the REST API with their own token; what each side
holds is read inside that instance (`run_python`). Each test ends with every message delivered exactly
once: one referral on each side, one email per message at the mail server, and each outbox row sent
after the attempts its faults explain.

Real processes and real time: waits are generous and nothing is timed. The FHIR and email retries after a
failure are the production ones (the first 30 s later); the "receiving system down" and "mail server
down" tests wait for them to happen by themselves.
"""

import base64
import email.message
import json
import os
import signal
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from fpdf import FPDF

from carebridge.referrals.letter import formatted_ubrn
from carebridge.testing.days import BASE_DAY
from carebridge.testing.instances import (
    CONSULTANT,
    GP,
    HOSPITAL_EMAIL,
    HOSPITAL_ODS,
    HOSPITAL_RECEPTION,
    PATIENT_EMAIL,
    PATIENT_ID,
    SPECIALITY,
    SURGERY_EMAIL,
    SURGERY_ODS,
    CarebridgeInstance,
    InstanceMailServer,
    patient_nhs_number,
    running_instances,
    until,
)

pytestmark = pytest.mark.instances

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
REASON = "Exertional chest tightness radiating to the left arm"
SUMMARY = "Three weeks of chest tightness on climbing stairs, eased by rest. Ex-smoker."
INVESTIGATIONS = ["Echocardiogram", "Exercise tolerance test"]
# What the surgery's record holds, and the letter carries; and what the hospital's own record holds.
SURGERY_MEDICINE = "Simvastatin"
HOSPITAL_MEDICINE = "Bisoprolol"
OUTCOME = "Stable angina; started on a GTN spray; no further tests needed."
CLINIC_LETTER = "Dear Dr Patel, I saw your patient in the chest pain clinic today. Stable angina."
# Words that say what a patient is referred for: none may be in the patient's own email.
CLINICAL_WORDS = ("chest", "tightness", "angina", SPECIALITY, SURGERY_MEDICINE, "echocardiogram", "urgent", "routine")


# --- Reading inside an instance ----------------------------------------------------------------------


def query(instance: CarebridgeInstance, code: str) -> Any:
    """Run `code` inside the instance; it sets `result`, which comes back through JSON."""
    printed = instance.run_python(
        "import json\n" + textwrap.dedent(code) + "\nprint('@@result ' + json.dumps(result, default=str))"
    )
    line = [line for line in printed.splitlines() if line.startswith("@@result ")][-1]
    return json.loads(line.removeprefix("@@result "))


_STATE = """
from carebridge.delivery.models import OutboundEmail, OutboundFhir
from carebridge.patients.models import Patient
from carebridge.referrals.models import Referral
found = list(Referral.objects.filter(ubrn={ubrn!r}).select_related('patient'))
result = {{'count': len(found), 'patients': Patient.objects.filter(nhs_number={nhs!r}).count()}}
if found:
    r = found[0]
    result.update(
        id=str(r.public_id), status=r.status, version=r.version, task_version=r.task_version,
        appointment_at=r.appointment_at.isoformat() if r.appointment_at else None,
        received=r.received_from_system, patient=r.patient.source_id, outcome=r.outcome,
        status_reason=r.status_reason, reason=r.reason,
        documents=sorted([d.kind, d.filename, d.sha256] for d in r.documents.all()),
        fhir=[dict(kind=m.kind, key=m.idempotency_key, status=m.status, attempts=m.attempts,
                   last_error=m.last_error, next_attempt_at=m.next_attempt_at, attempt_by=m.attempt_by,
                   response_status=m.response_status, created_at=m.created_at)
              for m in OutboundFhir.objects.filter(object_id=str(r.public_id)).order_by('pk')],
        emails=[dict(key=e.idempotency_key, recipient=e.recipient, subject=e.subject, status=e.status,
                     attempts=e.attempts, last_error=e.last_error, next_attempt_at=e.next_attempt_at)
                for e in OutboundEmail.objects.filter(idempotency_key__startswith=f'referral:{{r.public_id}}:')
                .order_by('pk')],
    )
"""


def state(instance: CarebridgeInstance, ubrn: str) -> dict[str, Any]:
    """The referral with this UBRN on `instance`, and every message it queued there."""
    return query(instance, _STATE.format(ubrn=ubrn, nhs=patient_nhs_number()))


def wait_for_state(
    instance: CarebridgeInstance,
    ubrn: str,
    condition: Callable[[dict[str, Any]], bool],
    what: str,
    ready: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Wait until the referral's state on `instance` meets `condition`. `ready`, polled first, is the same
    question asked over HTTP, as a user would ask it: much quicker to answer than a command run inside
    the instance, which then confirms it."""
    seen: dict[str, Any] = {}

    def reached() -> bool:
        seen.update(state(instance, ubrn))
        return condition(seen)

    try:
        if ready is not None:
            until(ready, f"{instance.name}: {what} (as the API shows it)")
        until(reached, f"{instance.name}: {what}")
    except BaseException:
        print(f"{instance.name} last state: {json.dumps(seen, indent=1, default=str)}")
        for log in ("server.log", f"worker-{instance._workers_started}.log"):
            print(f"--- {instance.name} {log}:\n{instance.log(log)}")
        raise
    return seen


def all_sent(rows: list[dict[str, Any]]) -> bool:
    return bool(rows) and all(row["status"] == "sent" for row in rows)


# --- The mail server's side ----------------------------------------------------------------------------


def content_of(part: email.message.Message) -> bytes:
    content = part.get_payload(decode=True)
    assert isinstance(content, bytes)
    return content


def text_of(message: email.message.Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "\n".join(
        content_of(part).decode(part.get_content_charset() or "utf-8", "replace")
        for part in parts
        if part.get_content_type() == "text/plain" and not part.get_filename()
    )


def files_of(message: email.message.Message) -> dict[str, tuple[str, bytes]]:
    return {
        str(part.get_filename()): (part.get_content_type(), content_of(part))
        for part in message.walk()
        if part.get_filename()
    }


def mail_about(mail: InstanceMailServer, ubrn: str) -> list[email.message.Message]:
    """Every message the mail server took that names this referral (in its subject or its words)."""
    shown = formatted_ubrn(ubrn)
    return [message for message in mail.messages if shown in (message["Subject"] or "") or shown in text_of(message)]


def to(messages: list[email.message.Message], address: str) -> list[email.message.Message]:
    return [message for message in messages if message["To"] == address]


# --- The two instances, connected ------------------------------------------------------------------------


@dataclass
class Connected:
    surgery: CarebridgeInstance
    hospital: CarebridgeInstance
    mail: InstanceMailServer
    gp: str  # tokens on the surgery
    specialist: str  # tokens on the hospital
    reception: str
    surgery_system: str  # the token the hospital issued for the surgery's system
    hospital_system: str  # the token the surgery issued for the hospital's system
    patient: str  # alice's public ID on the surgery
    hospital_id: str  # the hospital's public ID on the surgery


def pdf_file(words: str) -> bytes:
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text=words)
    return bytes(document.output())


def commands(*runs: list[str]) -> str:
    """Code that runs `carebridge` commands inside an instance, their output (stripped) in `result`."""
    return (
        "import io\nfrom django.core.management import call_command\nresult = []\n"
        f"for arguments in {list(runs)!r}:\n"
        "    out = io.StringIO()\n"
        "    call_command(*arguments, stdout=out)\n"
        "    result.append(out.getvalue().strip())\n"
    )


def record_with(medicine: str) -> str:
    """Code that gives the patient's record a current medicine, as an import would: the surgery's travels
    in the referral letter; the hospital's own record is what the arrival pack shows beside the referral."""
    return (
        "from decimal import Decimal\n"
        "from carebridge.core import clock\n"
        "from carebridge.organisations.models import Clinician\n"
        "from carebridge.patients.models import Patient\n"
        "from carebridge.prescribing.models import Prescription\n"
        f"Prescription.objects.create(patient=Patient.objects.get(source_id={PATIENT_ID!r}),"
        " prescriber=Clinician.objects.get(user__username='gp'), prescribed_on=clock.today(),"
        f" medication_name={medicine!r}, dose_value=Decimal('20'), dose_unit='mg', frequency='Once daily',"
        " duration_days=28, quantity_value=Decimal('28'), quantity_unit='tablets')\n"
    )


# A clinic on the base day's afternoon: a patient is checked in only on their appointment's day.
AFTERNOON_CLINIC = (
    "import datetime as dt\n"
    "from carebridge.core.actor import Actor\n"
    "from carebridge.scheduling.services import session_add\n"
    f"session_add(actor=Actor.command_line(), clinician=Clinician.objects.get(user__username={CONSULTANT!r}),"
    f" weekday={BASE_DAY.weekday()}, start_time=dt.time(13, 0), end_time=dt.time(15, 0), slot_minutes=30,"
    " appointment_types=['Specialist Consultation'])\n"
)


@pytest.fixture(scope="module")
def connected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connected]:
    mail = InstanceMailServer()
    mail.start()
    try:
        with running_instances(tmp_path_factory.mktemp("two-instances"), mail.port) as (surgery, hospital):
            # Each instance's share in one process (a command run inside an instance costs seconds): the
            # commands as a deployment runs them, then the patient's record as that system holds it.
            surgery_system, specialist, reception = query(
                hospital,
                commands(
                    ["api_token", "--system", SURGERY_ODS], ["api_token", CONSULTANT], ["api_token", HOSPITAL_RECEPTION]
                )
                + record_with(HOSPITAL_MEDICINE)
                + AFTERNOON_CLINIC,
            )
            fhir_base = ["--fhir-base"]
            _, hospital_system, gp = query(
                surgery,
                commands(
                    ["facility_endpoint", HOSPITAL_ODS, *fhir_base, f"{hospital.url}/fhir", "--token", surgery_system],
                    ["api_token", "--system", HOSPITAL_ODS],
                    ["api_token", GP],
                )
                + record_with(SURGERY_MEDICINE),
            )
            hospital.run(
                "facility_endpoint", SURGERY_ODS, *fhir_base, f"{surgery.url}/fhir", "--token", hospital_system
            )
            found = surgery.http("GET", f"/api/patients?nhs_number={patient_nhs_number()}", token=gp).json()
            facilities = surgery.http("GET", "/api/facilities", token=gp).json()
            yield Connected(
                surgery=surgery,
                hospital=hospital,
                mail=mail,
                gp=gp,
                specialist=specialist,
                reception=reception,
                surgery_system=surgery_system,
                hospital_system=hospital_system,
                patient=found[0]["id"],
                hospital_id=next(f["id"] for f in facilities if f["ods_code"] == HOSPITAL_ODS),
            )
    finally:
        if mail.running:
            mail.stop()


def make_referral(world: Connected, *, priority: str = "urgent") -> dict[str, Any]:
    """The GP refers alice to the hospital's cardiology service, with an ECG attached; the referral as
    the API answered."""
    answer = world.surgery.http(
        "POST",
        "/api/referrals",
        token=world.gp,
        json={
            "patient": world.patient,
            "receiving_facility": world.hospital_id,
            "speciality": SPECIALITY,
            "priority": priority,
            "reason": REASON,
            "clinical_summary": SUMMARY,
            "investigations": INVESTIGATIONS,
            "attachments": [
                {
                    "filename": "ecg.pdf",
                    "content_base64": base64.b64encode(pdf_file("ECG: sinus rhythm, 72/min")).decode(),
                }
            ],
        },
    )
    assert answer.status == 201, answer.body
    made = answer.json()
    assert len(made["ubrn"]) == 12
    return made


def on_worklist(world: Connected, ubrn: str) -> bool:
    listed = world.hospital.http("GET", "/api/referrals/worklist", token=world.specialist)
    return listed.status == 200 and any(row["ubrn"] == ubrn for row in listed.json()["referrals"])


def as_gp_sees_it(world: Connected, made: dict[str, Any]) -> dict[str, Any]:
    """The referral's page in the API, for the GP at the surgery: its status, and each channel's delivery."""
    return world.surgery.http("GET", f"/api/referrals/{made['id']}", token=world.gp).json()


def gp_sees_status(world: Connected, made: dict[str, Any], status: str) -> Callable[[], bool]:
    return lambda: as_gp_sees_it(world, made)["referral"]["status"] == status


def emails_seen_by_gp(world: Connected, made: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for row in as_gp_sees_it(world, made)["deliveries"] if row["channel"] == "Email"]


def records_seen_by_gp(world: Connected, made: dict[str, Any]) -> list[dict[str, Any]]:
    """The deliveries to the hospital's own system (the electronic record channel)."""
    return [row for row in as_gp_sees_it(world, made)["deliveries"] if row["channel"] != "Email"]


def arrived(world: Connected, ubrn: str, what: str = "the referral arrives") -> dict[str, Any]:
    return wait_for_state(world.hospital, ubrn, lambda seen: seen["count"] >= 1, what, lambda: on_worklist(world, ubrn))


def surgery_sent(world: Connected, made: dict[str, Any]) -> dict[str, Any]:
    """The surgery's state once every message it queued for this referral is sent."""
    return wait_for_state(
        world.surgery,
        made["ubrn"],
        lambda seen: all_sent(seen["fhir"]) and all_sent(seen["emails"]),
        "every message of the referral sent",
        lambda: all_sent(as_gp_sees_it(world, made)["deliveries"]),
    )


# --- 1. The whole journey ---------------------------------------------------------------------------------


def test_a_referral_travels_from_the_surgery_to_the_hospital_and_its_outcome_comes_back(connected: Connected) -> None:
    world = connected
    surgery, hospital = world.surgery, world.hospital
    made = make_referral(world)
    ubrn = made["ubrn"]

    # It appears on the hospital's worklist, the patient matched to the hospital's own record of her.
    received = arrived(world, ubrn)
    assert received["received"] is True
    assert received["patient"] == PATIENT_ID
    assert received["patients"] == 1
    assert received["status"] == "new"
    assert received["reason"] == REASON
    assert {kind for kind, _, _ in received["documents"]} == {"letter", "attachment"}
    worklist = hospital.http("GET", "/api/referrals/worklist", token=world.specialist)
    assert worklist.status == 200
    listed = [row for row in worklist.json()["referrals"] if row["ubrn"] == ubrn]
    assert len(listed) == 1
    referral_id = listed[0]["id"]
    assert listed[0]["reason"] == REASON
    assert listed[0]["investigations"] == INVESTIGATIONS
    assert listed[0]["priority"] == "urgent"
    # The letter is the surgery's: it carries the medicines of the surgery's record.
    letter_text = query(
        hospital,
        "import io\nfrom pypdf import PdfReader\nfrom carebridge.referrals.models import ReferralDocument\n"
        f"letter = ReferralDocument.objects.get(referral__ubrn={ubrn!r}, kind='letter')\n"
        "result = ' '.join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(letter.content))).pages)",
    )
    assert SURGERY_MEDICINE in letter_text
    assert formatted_ubrn(ubrn) in letter_text

    # The specialist accepts it: the surgery sees it accepted, as a Task on its own FHIR server.
    accepted = hospital.http(
        "POST", f"/api/referrals/{referral_id}/triage", token=world.specialist, json={"decision": "accept"}
    )
    assert accepted.status == 200, accepted.body
    assert accepted.json()["status"] == "pending"
    at_surgery = wait_for_state(
        surgery, ubrn, lambda seen: seen["status"] == "pending", "accepted", gp_sees_status(world, made, "pending")
    )
    tasks = surgery.http("GET", f"/fhir/Task?focus={quote('ServiceRequest/' + made['id'])}", token=world.gp).json()
    assert [entry["resource"]["status"] for entry in tasks["entry"]] == ["accepted"]
    assert at_surgery["id"] == made["id"]

    # Hospital reception books the consultant's first free slot this afternoon: the surgery sees the time.
    clinicians = hospital.http("GET", "/api/clinicians", token=world.reception).json()
    consultant = next(c for c in clinicians if c["speciality"] == SPECIALITY)
    slots = hospital.http(
        "GET", f"/api/slots?clinician={consultant['id']}&date={BASE_DAY}", token=world.reception
    ).json()
    slot = slots[0]
    booked = hospital.http(
        "POST",
        f"/api/referrals/{referral_id}/book",
        token=world.reception,
        json={"slot": slot["id"], "appointment_type": "Specialist Consultation"},
    )
    assert booked.status == 200, booked.body
    booked_referral = booked.json()
    assert booked_referral["status"] == "in_progress"
    assert booked_referral["reason"] == ""  # reception books, and is not told why
    at_surgery = wait_for_state(
        surgery,
        ubrn,
        lambda seen: seen["status"] == "in_progress",
        "booked",
        gp_sees_status(world, made, "in_progress"),
    )
    assert at_surgery["appointment_at"] is not None
    assert _same_moment(at_surgery["appointment_at"], slot["starts_at"])

    # The patient arrives; the consultant's pack has the referral and the hospital's record of her.
    checked_in = hospital.http(
        "POST", f"/api/appointments/{booked_referral['appointment']}/check-in", token=world.reception
    )
    assert checked_in.status == 200, checked_in.body
    pack = hospital.http("GET", f"/api/referrals/{referral_id}/pack", token=world.specialist)
    assert pack.status == 200, pack.body
    pack_body = pack.json()
    assert pack_body["referral"]["reason"] == REASON
    assert pack_body["referral"]["clinical_summary"] == SUMMARY
    assert pack_body["referral"]["investigations"] == INVESTIGATIONS
    assert [medicine["medicine"] for medicine in pack_body["medicines"]] == [HOSPITAL_MEDICINE]
    assert {document["kind"] for document in pack_body["documents"]} == {"letter", "attachment"}
    assert hospital.http("GET", f"/api/referrals/{referral_id}/pack", token=world.reception).status == 404

    # The outcome and clinic letter: the surgery's referral is completed, with the letter.
    recorded = hospital.http(
        "POST",
        f"/api/referrals/{referral_id}/outcome",
        token=world.specialist,
        json={"outcome": OUTCOME, "clinic_letter": CLINIC_LETTER},
    )
    assert recorded.status == 200, recorded.body
    done = wait_for_state(
        surgery,
        ubrn,
        lambda seen: seen["status"] == "completed" and all_sent(seen["emails"]),
        "the outcome",
        gp_sees_status(world, made, "completed"),
    )
    assert done["outcome"] == OUTCOME
    assert [kind for kind, _, _ in done["documents"]].count("clinic_letter") == 1
    tasks = surgery.http("GET", f"/fhir/Task?focus={quote('ServiceRequest/' + made['id'])}", token=world.gp).json()
    assert [entry["resource"]["status"] for entry in tasks["entry"]] == ["completed"]

    # Every message, once: one ServiceRequest there, one Task back per change, each sent first time.
    at_hospital = wait_for_state(
        hospital,
        ubrn,
        lambda seen: all_sent(seen["fhir"]) and all_sent(seen["emails"]),
        "the hospital's messages sent",
        lambda: all_sent(
            hospital.http("GET", f"/api/referrals/{referral_id}", token=world.specialist).json()["deliveries"]
        ),
    )
    done = surgery_sent(world, made)
    assert done["count"] == at_hospital["count"] == 1
    assert [(row["kind"], row["status"], row["attempts"]) for row in done["fhir"]] == [
        ("referral-service-request", "sent", 1)
    ]
    assert at_hospital["fhir"] and all(row["attempts"] == 1 for row in at_hospital["fhir"])
    assert len(at_hospital["fhir"]) == at_hospital["task_version"]
    assert done["task_version"] == at_hospital["task_version"]
    assert all(row["attempts"] == 1 for row in done["emails"] + at_hospital["emails"])
    assert sorted(row["recipient"] for row in done["emails"]) == sorted([HOSPITAL_EMAIL, PATIENT_EMAIL])
    assert [row["recipient"] for row in at_hospital["emails"]] == [SURGERY_EMAIL]

    # The mail: the referral to the hospital's inbox, the clinic letter to the surgery's, once each.
    about = mail_about(world.mail, ubrn)
    to_hospital = to(about, HOSPITAL_EMAIL)
    assert len(to_hospital) == 1
    assert formatted_ubrn(ubrn) in to_hospital[0]["Subject"]
    files = files_of(to_hospital[0])
    assert files[f"referral-{ubrn}.pdf"][0] == "application/pdf"
    assert files[f"referral-{ubrn}.pdf"][1].startswith(b"%PDF")
    assert "ecg.pdf" in files
    to_surgery = to(about, SURGERY_EMAIL)
    assert len(to_surgery) == 1
    assert files_of(to_surgery[0])[f"clinic-letter-{ubrn}.pdf"][1].startswith(b"%PDF")
    # The patient's email says a referral was made, and nothing of what for.
    to_patient = to(about, PATIENT_EMAIL)
    assert len(to_patient) == 1
    words = (to_patient[0]["Subject"] + "\n" + text_of(to_patient[0])).lower()
    assert formatted_ubrn(ubrn) in words
    assert [word for word in CLINICAL_WORDS if word.lower() in words] == []
    assert not files_of(to_patient[0])


def _same_moment(one: str, other: str) -> bool:
    import datetime as dt

    return dt.datetime.fromisoformat(one) == dt.datetime.fromisoformat(other.replace("Z", "+00:00"))


# --- 2. The mail server down when the referral is sent ---------------------------------------------------


def test_mail_waits_for_the_mail_server_while_the_record_update_goes_through(connected: Connected) -> None:
    world = connected
    world.mail.stop()
    try:
        made = make_referral(world, priority="routine")
        ubrn = made["ubrn"]
        # The FHIR channel does not wait for the mail: the hospital has the referral.
        arrived(world, ubrn)
        failed = wait_for_state(
            world.surgery,
            ubrn,
            lambda seen: (
                len(seen["emails"]) == 2 and all(row["attempts"] >= 1 and row["last_error"] for row in seen["emails"])
            ),
            "both emails failed once",
            lambda: [bool(row["last_error"]) for row in emails_seen_by_gp(world, made)] == [True, True],
        )
        assert all_sent(failed["fhir"])
        for row in failed["emails"]:
            assert row["status"] == "pending"
            assert "refused" in row["last_error"].lower() or "connect" in row["last_error"].lower(), row
            assert row["next_attempt_at"] is not None
    finally:
        world.mail.start()
    # The first retry (30 s after the failure) comes by itself.
    done = surgery_sent(world, made)
    # Failed at least once while the server was down (more than once on a machine slow enough for the
    # first retry to come before the server is back), then sent.
    assert all(row["attempts"] >= 2 for row in done["emails"])
    about = mail_about(world.mail, ubrn)
    assert len(to(about, HOSPITAL_EMAIL)) == 1
    assert len(to(about, PATIENT_EMAIL)) == 1
    assert [(row["status"], row["attempts"]) for row in done["fhir"]] == [("sent", 1)]
    assert state(world.hospital, ubrn)["count"] == 1


# --- 3. The receiving system down when the referral is sent ----------------------------------------------


def test_a_referral_waits_for_the_receiving_system_and_arrives_once_it_is_back(connected: Connected) -> None:
    world = connected
    world.hospital.stop_server()
    try:
        made = make_referral(world)
        ubrn = made["ubrn"]
        failed = wait_for_state(
            world.surgery,
            ubrn,
            lambda seen: bool(seen["fhir"]) and seen["fhir"][0]["last_error"] != "",
            "the first attempt failed",
            lambda: [bool(row["last_error"]) for row in records_seen_by_gp(world, made)] == [True],
        )
        row = failed["fhir"][0]
        assert row["status"] == "pending"
        assert row["attempts"] == 1
        assert "Could not reach" in row["last_error"] and "refused" in row["last_error"].lower(), row
        assert row["next_attempt_at"] is not None
        # The surgery's staff see the same on the referral: failed with what, and when it is tried next.
        shown = world.surgery.http("GET", f"/api/referrals/{made['id']}", token=world.gp).json()
        electronic = [d for d in shown["deliveries"] if d["channel"] != "Email"]
        assert len(electronic) == 1
        assert electronic[0]["last_error"] and electronic[0]["next_attempt_at"]
        assert state(world.hospital, ubrn)["count"] == 0
    finally:
        world.hospital.start_server()
    # The retry comes by itself, 30 s after the failure.
    arrived(world, ubrn, "the referral arrives after the retry")
    done = surgery_sent(world, made)
    # Refused at least once (more than once if the first retry came before the server was back), then
    # taken as new: the receiver saw it once.
    assert [(r["status"], r["response_status"]) for r in done["fhir"]] == [("sent", 201)]
    assert done["fhir"][0]["attempts"] >= 2
    assert state(world.hospital, ubrn)["count"] == 1
    assert all(row["attempts"] == 1 for row in done["emails"])
    assert len(to(mail_about(world.mail, ubrn), HOSPITAL_EMAIL)) == 1


# --- 4. The worker killed in the middle of a delivery ---------------------------------------------------


def test_a_worker_killed_mid_delivery_is_replaced_and_the_referral_arrives_once(connected: Connected) -> None:
    world = connected
    surgery, hospital = world.surgery, world.hospital
    assert hospital.server is not None
    # The hospital's web server frozen: connections are taken by the kernel and never answered, so the
    # surgery's worker is held inside its attempt (its timeout is 20 s).
    os.killpg(hospital.server.pid, signal.SIGSTOP)
    try:
        made = make_referral(world, priority="two_week_wait")
        ubrn = made["ubrn"]
        in_hand = wait_for_state(
            surgery,
            ubrn,
            lambda seen: bool(seen["fhir"]) and seen["fhir"][0]["attempt_by"] != "",
            "the worker's attempt in hand",
            lambda: [(row["attempts"], row["last_error"]) for row in records_seen_by_gp(world, made)] == [(1, "")],
        )
        surgery.kill_worker()
        after_kill = state(surgery, ubrn)["fhir"][0]
        # The kill came while the attempt was in hand: nothing recorded its end.
        assert after_kill["attempt_by"] == in_hand["fhir"][0]["attempt_by"]
        assert after_kill["status"] == "pending" and after_kill["attempts"] == 1 and after_kill["last_error"] == ""
        surgery.start_worker()
    finally:
        os.killpg(hospital.server.pid, signal.SIGCONT)
    # The new worker finds the dead one's attempt and sends again; the hospital may have taken the first
    # send from its queue too: its UBRN makes that one referral.
    done = wait_for_state(
        surgery,
        ubrn,
        lambda seen: all_sent(seen["fhir"]) and all_sent(seen["emails"]),
        "delivered after the kill",
        lambda: all_sent(as_gp_sees_it(world, made)["deliveries"]),
    )
    row = done["fhir"][0]
    assert len(done["fhir"]) == 1
    assert row["status"] == "sent" and row["attempts"] >= 2 and row["response_status"] in (200, 201)
    at_hospital = arrived(world, ubrn)
    assert at_hospital["count"] == 1
    assert at_hospital["version"] == 1
    about = mail_about(world.mail, ubrn)
    assert len(to(about, HOSPITAL_EMAIL)) == 1
    assert len(to(about, PATIENT_EMAIL)) == 1


# --- 5. The same referral sent twice, and a second version ---------------------------------------------


def test_the_same_referral_sent_again_arrives_once_and_a_new_version_updates_it(connected: Connected) -> None:
    world = connected
    surgery, hospital = world.surgery, world.hospital
    made = make_referral(world)
    ubrn = made["ubrn"]
    first = arrived(world, ubrn)
    surgery_sent(world, made)
    payload_code = (
        "from carebridge.fhir.referrals import service_request_for_delivery\n"
        f"result = service_request_for_delivery({made['id']!r}).body"
    )
    version_1 = query(surgery, payload_code)

    # The same message again, twice, as a sender that never heard the answer would send it.
    for _ in range(2):
        again = hospital.http("POST", "/fhir/ServiceRequest", token=world.surgery_system, json=version_1)
        assert again.status == 200, again.body
        assert again.json()["identifier"][0]["value"] == ubrn
    # And queued again on the surgery at the same version: the outbox keeps the one row.
    rows = query(
        surgery,
        "from carebridge.delivery.remote import fhir_enqueue, endpoint_named\n"
        "from carebridge.delivery.models import OutboundFhir\n"
        "from carebridge.referrals.services import SERVICE_REQUEST_PAYLOAD\n"
        f"row = OutboundFhir.objects.get(object_id={made['id']!r})\n"
        f"again = fhir_enqueue(endpoint=row.endpoint, kind=SERVICE_REQUEST_PAYLOAD, object_id={made['id']!r},"
        " version=1, description='again', patient_id=row.patient_id)\n"
        f"result = [again.pk == row.pk, OutboundFhir.objects.filter(object_id={made['id']!r}).count()]",
    )
    assert rows == [True, 1]
    unchanged = state(hospital, ubrn)
    assert unchanged["count"] == 1
    assert unchanged["version"] == 1
    assert unchanged["documents"] == first["documents"]

    # The specialist asks for more; the GP adds it: version 2 travels and updates the one referral.
    asked = hospital.http(
        "POST",
        f"/api/referrals/{unchanged['id']}/triage",
        token=world.specialist,
        json={"decision": "request_information", "text": "Please send the lipid profile."},
    )
    assert asked.status == 200, asked.body
    wait_for_state(
        surgery,
        ubrn,
        lambda seen: seen["status"] == "info_requested",
        "more information requested",
        gp_sees_status(world, made, "info_requested"),
    )
    added = surgery.http(
        "POST",
        f"/api/referrals/{made['id']}/information",
        token=world.gp,
        json={
            "information": "Total cholesterol 6.8 mmol/L.",
            "attachments": [
                {"filename": "lipids.pdf", "content_base64": base64.b64encode(pdf_file("Lipids")).decode()}
            ],
        },
    )
    assert added.status == 200, added.body
    assert added.json()["version"] == 2
    updated = wait_for_state(
        hospital,
        ubrn,
        lambda seen: seen["version"] == 2,
        "version 2 received",
        lambda: (
            hospital.http("GET", f"/api/referrals/{unchanged['id']}", token=world.specialist).json()["referral"][
                "version"
            ]
            == 2
        ),
    )
    assert updated["count"] == 1
    assert updated["status"] == "new"
    # Each document once: what version 1 brought is not stored again when version 2 brings it too.
    hashes = [sha for _, _, sha in updated["documents"]]
    assert len(hashes) == len(set(hashes)), updated["documents"]
    assert "lipids.pdf" in [name for _, name, _ in updated["documents"]]

    # Version 1 again, late: it changes nothing.
    late = hospital.http("POST", "/fhir/ServiceRequest", token=world.surgery_system, json=version_1)
    assert late.status == 200, late.body
    final = state(hospital, ubrn)
    assert (final["count"], final["version"], final["status"]) == (1, 2, "new")
    assert final["documents"] == updated["documents"]

    done = surgery_sent(world, made)
    assert [(row["key"].rsplit(":", 1)[-1], row["status"], row["attempts"]) for row in done["fhir"]] == [
        ("v1", "sent", 1),
        ("v2", "sent", 1),
    ]
    about = mail_about(world.mail, ubrn)
    to_hospital = sorted(message["Subject"] for message in to(about, HOSPITAL_EMAIL))
    assert len(to_hospital) == 2
    assert to_hospital[0].startswith("Further information") and to_hospital[1].startswith("Referral")
    assert len(to(about, PATIENT_EMAIL)) == 1


# --- 6. A system token delivers, and reads nothing ------------------------------------------------------


def test_a_system_token_reads_nothing_and_delivers_only_its_own_organisations_referrals(connected: Connected) -> None:
    world = connected
    surgery, hospital = world.surgery, world.hospital
    made = make_referral(world, priority="routine")
    ubrn = made["ubrn"]
    at_hospital = arrived(world, ubrn)
    denials_before = _denials(hospital)

    search = hospital.http(
        "GET",
        "/fhir/Patient?identifier=" + quote(f"{NHS_NUMBER_SYSTEM}|{patient_nhs_number()}"),
        token=world.surgery_system,
    )
    assert search.status == 200
    assert search.json()["total"] == 0 and not search.json().get("entry")
    read = hospital.http("GET", f"/fhir/ServiceRequest/{at_hospital['id']}", token=world.surgery_system)
    assert read.status == 404
    listed = hospital.http("GET", "/api/referrals", token=world.surgery_system)
    assert listed.status == 404 or (listed.status == 200 and listed.json() == []), listed.body
    assert _denials(hospital) >= denials_before + 2

    # A token the hospital issued for another organisation (its own system, here) cannot deliver the
    # surgery's referral.
    payload, other_system = (
        query(
            surgery,
            "from carebridge.fhir.referrals import service_request_for_delivery\n"
            f"result = service_request_for_delivery({made['id']!r}).body",
        ),
        hospital.run("api_token", "--system", HOSPITAL_ODS).stdout.strip(),
    )
    refused = hospital.http("POST", "/fhir/ServiceRequest", token=other_system, json=payload)
    assert refused.status == 403, refused.body
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert _denials(hospital) >= denials_before + 3

    # Nor can a token the surgery issued for anyone but the hospital report the hospital's progress.
    accepted = hospital.http(
        "POST", f"/api/referrals/{at_hospital['id']}/triage", token=world.specialist, json={"decision": "accept"}
    )
    assert accepted.status == 200, accepted.body
    reported = wait_for_state(
        surgery, ubrn, lambda seen: seen["status"] == "pending", "accepted", gp_sees_status(world, made, "pending")
    )
    task = query(
        hospital,
        "from carebridge.fhir.referrals import task_for_delivery\n"
        f"result = task_for_delivery({at_hospital['id']!r}).body",
    )
    task["status"], task["meta"]["versionId"] = "rejected", str(reported["task_version"] + 1)
    surgery_denials = _denials(surgery)
    own_system = surgery.run("api_token", "--system", SURGERY_ODS).stdout.strip()
    refused_task = surgery.http("POST", "/fhir/Task", token=own_system, json=task)
    assert refused_task.status == 403, refused_task.body
    assert _denials(surgery) == surgery_denials + 1
    after = state(surgery, ubrn)
    assert (after["status"], after["task_version"]) == ("pending", reported["task_version"])
    assert state(hospital, ubrn)["count"] == 1


def _denials(instance: CarebridgeInstance) -> int:
    return query(
        instance,
        "from carebridge.audit.models import AuditEvent\nresult = AuditEvent.objects.filter(action='deny').count()",
    )
