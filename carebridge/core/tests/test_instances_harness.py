"""The harness for tests with two Carebridge instances talking over real HTTP (carebridge/testing/instances.py):
two instances start side by side, each with its own database, web server and worker, on the suite's base
day; what one holds the other does not; their processes stop and start as the fault tests need.

Real processes and real time: the instances' clocks start at the base moment and run on.
"""

import signal
import smtplib
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from carebridge.testing.days import BASE_DAY
from carebridge.testing.instances import (
    GP,
    HOSPITAL_ODS,
    SURGERY_ODS,
    CarebridgeInstance,
    InstanceError,
    InstanceMailServer,
    patient_nhs_number,
    running_instances,
)

pytestmark = pytest.mark.instances

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
Pair = list[CarebridgeInstance]


@pytest.fixture(scope="module")
def mail() -> Iterator[InstanceMailServer]:
    server = InstanceMailServer()
    server.start()
    yield server
    if server.running:
        server.stop()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, mail: InstanceMailServer) -> Iterator[list[CarebridgeInstance]]:
    # One pair for the module, started once: each test leaves both instances running as it found them.
    with running_instances(tmp_path_factory.mktemp("instances"), mail.port) as instances:
        yield instances


def queue_mail(instance: CarebridgeInstance, subject: str) -> None:
    instance.run_python(
        "from carebridge.delivery.services import email_enqueue\n"
        f"email_enqueue(recipient='someone@example.com', subject={subject!r}, body='Hello.\\n',"
        f" idempotency_key={'harness:' + subject!r})"
    )


def subjects(mail: InstanceMailServer) -> list[str]:
    return [message["Subject"] for message in mail.messages]


def patient_search(nhs_number: str) -> str:
    return "/fhir/Patient?identifier=" + quote(f"{NHS_NUMBER_SYSTEM}|{nhs_number}")


def test_two_instances_answer_on_ports_of_their_own_on_the_base_day(pair: Pair) -> None:
    surgery, hospital = pair
    assert surgery.url != hospital.url
    for instance in pair:
        answer = instance.http("GET", "/fhir/metadata")
        assert answer.status == 200
        assert answer.json()["resourceType"] == "CapabilityStatement"
        # Today is the suite's base day, with time moving on: both read the same clock.
        assert instance.run_python("from carebridge.core import clock; print(clock.today())").strip() == str(BASE_DAY)


def test_both_hold_the_same_directory_under_their_own_public_ids(pair: Pair) -> None:
    code = (
        "from carebridge.core import clock\n"
        "from carebridge.organisations.models import Facility\n"
        "from carebridge.scheduling.models import Slot\n"
        "for f in Facility.objects.order_by('ods_code'):\n"
        "    print(f.ods_code, f.email, f.specialities_offered, f.public_id)\n"
        "print(Slot.objects.filter(starts_at__date__gt=clock.today()).count())"
    )
    (*surgery_rows, surgery_slots), (*hospital_rows, hospital_slots) = (
        [line.rsplit(" ", 1) for line in instance.run_python(code).splitlines()] for instance in pair
    )
    assert [row[0] for row in surgery_rows] == [row[0] for row in hospital_rows]
    assert [row[0].split(" ")[0] for row in surgery_rows] == sorted([SURGERY_ODS, HOSPITAL_ODS])
    assert {row[1] for row in surgery_rows}.isdisjoint(row[1] for row in hospital_rows)
    assert int(surgery_slots[0]) == int(hospital_slots[0]) > 0


def test_data_made_on_one_instance_is_not_on_the_other(pair: Pair) -> None:
    surgery, hospital = pair
    surgery.run_python(
        "from carebridge.testing.world import _patient\n"
        "from carebridge.organisations.models import Facility\n"
        "_patient('P-harness', 'Hattie', 'Harness', '4010232137', Facility.objects.get(source_id='S1'))"
    )
    count = (
        "from carebridge.patients.models import Patient\nprint(Patient.objects.filter(source_id='P-harness').count())"
    )
    assert surgery.run_python(count).strip() == "1"
    assert hospital.run_python(count).strip() == "0"


def test_a_token_made_on_one_instance_works_there_and_not_on_the_other(pair: Pair) -> None:
    surgery, hospital = pair
    token = surgery.api_token(GP)

    found = surgery.http("GET", patient_search(patient_nhs_number()), token=token)
    assert found.status == 200
    assert found.json()["total"] == 1

    refused = hospital.http("GET", patient_search(patient_nhs_number()), token=token)
    assert refused.status == 401
    assert refused.json()["resourceType"] == "OperationOutcome"


def test_both_instances_send_mail_to_the_one_server(pair: Pair, mail: InstanceMailServer) -> None:
    surgery, hospital = pair
    queue_mail(surgery, "From the surgery")
    queue_mail(hospital, "From the hospital")
    mail.wait_for(2)
    assert sorted(subjects(mail)[-2:]) == ["From the hospital", "From the surgery"]


def test_a_killed_worker_is_gone_and_a_new_one_delivers(pair: Pair, mail: InstanceMailServer) -> None:
    hospital = pair[1]
    killed = hospital.worker
    assert killed is not None
    hospital.kill_worker()
    assert killed.returncode == -signal.SIGKILL

    queue_mail(hospital, "After the kill")
    hospital.start_worker()
    assert hospital.worker is not None and hospital.worker is not killed and hospital.worker.poll() is None
    mail.wait_for(len(subjects(mail)) + 1)
    assert subjects(mail)[-1] == "After the kill"


def test_the_web_server_stops_and_starts_again_on_the_same_port(pair: Pair) -> None:
    hospital = pair[1]
    url = hospital.url
    hospital.stop_server()
    with pytest.raises(urllib.error.URLError) as refused:
        hospital.http("GET", "/fhir/metadata")
    assert isinstance(refused.value.reason, ConnectionRefusedError)

    hospital.start_server()
    assert hospital.url == url
    assert hospital.http("GET", "/fhir/metadata").status == 200


def test_the_mail_server_stops_and_starts_again_on_the_same_port(pair: Pair, mail: InstanceMailServer) -> None:
    surgery = pair[0]
    received = len(mail.messages)
    mail.stop()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP("127.0.0.1", mail.port, timeout=10)

    mail.start()
    queue_mail(surgery, "After the restart")
    mail.wait_for(received + 1)
    assert subjects(mail)[received:] == ["After the restart"]


def test_an_instance_that_fails_to_start_says_why_and_is_cleaned_up(tmp_path: Path, mail: InstanceMailServer) -> None:
    broken = CarebridgeInstance("broken", tmp_path, mail.port, setup="raise RuntimeError('set up to fail')")
    try:
        with pytest.raises(InstanceError, match="set up to fail"):
            broken.start()
        assert broken.database_exists()
    finally:
        broken.stop()
    assert broken.server is None and broken.worker is None
    if broken.database_url.startswith("postgres"):
        assert not broken.database_exists()
