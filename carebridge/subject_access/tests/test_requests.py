"""Subject access requests: the patient asks, records staff at their surgery produce and release the copy,
the patient downloads it; every step audited, and everyone else refused (audited)."""

import datetime as dt

import pytest
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core.actor import Actor
from carebridge.core.errors import Conflict, Invalid, NotFound, NotPermitted
from carebridge.delivery.models import OutboundEmail
from carebridge.patients.models import Patient
from carebridge.scheduling.models import Appointment
from carebridge.subject_access import services
from carebridge.subject_access.models import RequestStatus, SubjectAccessRequest, one_month_after
from carebridge.subject_access.tests.conftest import pdf_text
from carebridge.testing.days import BASE_DAY, long_day, when

SAR = AuditObject.SUBJECT_ACCESS_REQUEST


def _steps(request: SubjectAccessRequest) -> list[tuple[str, str, str]]:
    return [
        (event.action, event.detail.get("step", ""), event.actor_label)
        for event in AuditEvent.objects.filter(object_type=SAR, object_id=str(request.public_id)).order_by("pk")
        if event.action != AuditAction.DENY
    ]


def _denied(user, **fields) -> bool:
    return AuditEvent.objects.filter(action=AuditAction.DENY, actor=user, **fields).exists()


def _asked(world) -> SubjectAccessRequest:
    return services.subject_access_request(actor=Actor.command_line(world.alice_user), patient=world.alice)


# --- Asking -----------------------------------------------------------------------------------------------


def test_one_month_after_is_the_same_day_next_month_or_that_month_s_last_day():
    assert one_month_after(dt.date(2026, 11, 30)) == dt.date(2026, 12, 30)
    assert one_month_after(dt.date(2026, 1, 31)) == dt.date(2026, 2, 28)
    assert one_month_after(dt.date(2028, 1, 31)) == dt.date(2028, 2, 29)
    assert one_month_after(dt.date(2026, 12, 15)) == dt.date(2027, 1, 15)


def test_the_patient_asks_in_the_portal_and_the_request_waits_at_their_surgery(world, client_for):
    patient = client_for(world.alice_user)
    page = patient.get(reverse("subject_access:mine"))
    assert page.status_code == 200
    assert "Request a copy of my record" in page.content.decode()

    response = patient.post(reverse("subject_access:mine"), follow=True)

    assert response.status_code == 200
    request = SubjectAccessRequest.objects.get(patient=world.alice)
    assert (request.status, request.surgery, request.on_behalf, request.requested_by) == (
        RequestStatus.REQUESTED,
        world.surgery,
        False,
        world.alice_user,
    )
    assert request.due_by == one_month_after(BASE_DAY)  # its own rule: the table test above
    text = response.content.decode()
    assert f"Being prepared: due by {long_day(request.due_by)}" in text
    assert "Request a copy of my record</button>" not in text  # one open request at a time
    assert _steps(request) == [(AuditAction.CREATE, "requested", "alice")]


def test_a_second_request_while_one_is_open_is_refused_and_changes_nothing(world, client_for):
    _asked(world)
    with pytest.raises(Conflict):
        _asked(world)
    response = client_for(world.alice_user).post(reverse("subject_access:mine"))
    assert response.status_code == 409
    assert "already being worked on" in response.content.decode()
    assert SubjectAccessRequest.objects.filter(patient=world.alice).count() == 1


def test_records_staff_record_a_request_the_patient_made_in_writing(world, clerk, client_for):
    response = client_for(clerk).post(
        reverse("subject_access:written"),
        {"nhs_number": world.alice.nhs_number_display, "note": "Letter received 30 November 2026"},
    )
    request = SubjectAccessRequest.objects.get(patient=world.alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("subject_access:detail", args=[request.public_id])
    assert (request.on_behalf, request.note, request.requested_by) == (True, "Letter received 30 November 2026", clerk)
    assert _steps(request) == [(AuditAction.CREATE, "requested", "clerk")]


def test_a_written_request_names_what_is_missing_and_finds_only_patients_registered_here(world, clerk, client_for):
    staff = client_for(clerk)
    empty = staff.post(reverse("subject_access:written"), {"nhs_number": "", "note": ""})
    assert empty.status_code == 422
    assert "Enter the patient&#x27;s NHS number" in empty.content.decode()
    assert "Say how the patient asked" in empty.content.decode()

    elsewhere = staff.post(
        reverse("subject_access:written"), {"nhs_number": world.bob.nhs_number, "note": "Letter from Bob"}
    )
    assert elsewhere.status_code == 422
    assert "No patient with this NHS number is registered at your surgery" in elsewhere.content.decode()
    assert not SubjectAccessRequest.objects.exists()
    with pytest.raises(Invalid) as refused:
        services.subject_access_request(actor=Actor.command_line(clerk), patient=world.alice, note="  ")
    assert "note" in refused.value.fields


# --- Producing, releasing, downloading ---------------------------------------------------------------------


def test_the_copy_is_produced_released_and_downloaded_each_step_audited(world, clerk, client_for, full_record):
    Patient.objects.filter(pk=world.alice.pk).update(email="alice@example.org")
    request = _asked(world)
    staff = client_for(clerk)
    patient = client_for(world.alice_user)

    not_yet = patient.get(reverse("subject_access:download", args=[request.public_id]))
    assert not_yet.status_code == 404
    early_release = staff.post(reverse("subject_access:release", args=[request.public_id]), follow=True)
    assert "Produce the copy, and read it, before releasing it." in early_release.content.decode()

    staff.post(reverse("subject_access:produce", args=[request.public_id]))
    request.refresh_from_db()
    assert request.status == RequestStatus.PRODUCED
    assert bytes(request.document).startswith(b"%PDF")
    staff_copy = staff.get(reverse("subject_access:download", args=[request.public_id]))
    assert staff_copy.status_code == 200
    assert patient.get(reverse("subject_access:download", args=[request.public_id])).status_code == 404

    staff.post(reverse("subject_access:release", args=[request.public_id]))
    request.refresh_from_db()
    assert (request.status, request.released_by) == (RequestStatus.RELEASED, clerk)
    mine = patient.get(reverse("subject_access:mine")).content.decode()
    assert f"Ready to download since {long_day(BASE_DAY)}" in mine
    download = patient.get(reverse("subject_access:download", args=[request.public_id]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == f'attachment; filename="health-record-{request.reference}.pdf"'
    assert download.content == bytes(request.document)

    assert _steps(request) == [
        (AuditAction.CREATE, "requested", "alice"),
        (AuditAction.EXPORT, "produced", "clerk"),
        (AuditAction.EXPORT, "downloaded", "clerk"),
        (AuditAction.UPDATE, "released", "clerk"),
        (AuditAction.EXPORT, "downloaded", "alice"),
    ]
    # The download before release was refused, and that is on the trail too.
    assert _denied(world.alice_user, object_type=SAR, object_id=str(request.public_id))
    email = OutboundEmail.objects.get(idempotency_key=f"subject-access-released-{request.public_id}")
    assert request.reference in email.body


def test_the_copy_holds_the_whole_record_and_nobody_else_s(world, clerk, full_record):
    request = _asked(world)
    services.subject_access_produce(actor=Actor.command_line(clerk), subject_access=request)
    request.refresh_from_db()
    text = pdf_text(bytes(request.document))
    at_the_hospital = Appointment.objects.get(patient=world.alice, facility=world.hospital)

    for expected in (
        "Your health record",
        f"subject access request {request.reference}",
        "Alice Archer",
        "NHS number",
        "Oak Tree Surgery",
        "Registered since Wednesday 1 January 2020",
        # The appointment at the hospital, with its reason and notes.
        f"{when(at_the_hospital.starts_at)}: Specialist Consultation with Dr. Sam Okafor at Heartlands Hospital",
        "Murmur heard at routine check",
        # The consultation, problem and allergy.
        "Palpitations for three weeks",
        "Possible atrial fibrillation",
        "Palpitations (active)",
        "Penicillins: Rash (severe)",
        # Medicines and the repeat asked for.
        "Simvastatin 20mg",
        "Running low",
        # Both referrals, their history and documents.
        "Heart murmur",
        "Changing mole on the back",
        "mole-photo.pdf",
        f"(referral letter, {long_day(BASE_DAY)})",
        # Who has looked at the record.
        "Who has looked at or changed your record",
    ):
        assert expected in text, expected
    for secret in ("Bob", "bronchitis", "latex"):
        assert secret not in text
    assert f"Subject access request {request.reference}" in text  # the footer on every page


def test_a_released_copy_is_not_produced_again_and_a_new_request_may_follow(world, clerk):
    request = _asked(world)
    actor = Actor.command_line(clerk)
    services.subject_access_produce(actor=actor, subject_access=request)
    services.subject_access_release(actor=actor, subject_access=request)
    with pytest.raises(Conflict):
        services.subject_access_produce(actor=actor, subject_access=request)
    with pytest.raises(Conflict):
        services.subject_access_release(actor=actor, subject_access=request)
    assert _asked(world).status == RequestStatus.REQUESTED


# --- The queue ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["clerk", "manager"])
def test_the_queue_shows_the_surgery_s_requests_and_audits_each_patient_shown(world, clerk, client_for, who):
    request = _asked(world)
    user = clerk if who == "clerk" else world.manager
    response = client_for(user).get(reverse("subject_access:queue"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Alice Archer" in text and long_day(request.due_by) in text
    assert reverse("subject_access:detail", args=[request.public_id]) in text
    assert AuditEvent.objects.filter(
        actor=user, action=AuditAction.SEARCH, object_type=SAR, patient_id=world.alice.pk
    ).exists()
    home = client_for(user).get(reverse("accounts:home")).content.decode()
    assert reverse("subject_access:queue") in home


# --- Everyone else is refused, and the refusal audited -------------------------------------------------------


@pytest.mark.parametrize("who", ["reception", "basic_clerk", "gp", "other_clerk", "porter", "alice_user", "privacy"])
def test_the_queue_is_not_there_for_anyone_else(world, client_for, who, request):
    user = request.getfixturevalue(who) if who in ("basic_clerk", "other_clerk") else getattr(world, who)
    if who == "other_clerk":
        # Records staff elsewhere see their own surgery's queue, never Alice's request in it.
        _asked(world)
        response = client_for(user).get(reverse("subject_access:queue"))
        assert response.status_code == 200
        assert "Alice Archer" not in response.content.decode()
        return
    response = client_for(user).get(reverse("subject_access:queue"))
    assert response.status_code == 404
    assert _denied(user, object_type=SAR)


@pytest.mark.parametrize("who", ["reception", "basic_clerk", "gp"])
def test_staff_who_see_the_patient_but_do_not_handle_requests_are_refused_403(world, client_for, who, request):
    user = request.getfixturevalue(who) if who == "basic_clerk" else getattr(world, who)
    sar = _asked(world)
    for name in ("produce", "release"):
        response = client_for(user).post(reverse(f"subject_access:{name}", args=[sar.public_id]))
        assert response.status_code == 403
    assert client_for(user).get(reverse("subject_access:detail", args=[sar.public_id])).status_code == 403
    assert client_for(user).get(reverse("subject_access:download", args=[sar.public_id])).status_code == 403
    with pytest.raises(NotPermitted):
        services.subject_access_produce(actor=Actor.command_line(user), subject_access=sar)
    with pytest.raises(NotPermitted):
        services.subject_access_request(actor=Actor.command_line(user), patient=world.carol, note="A letter")
    assert _denied(user, object_type=SAR, object_id=str(sar.public_id))
    sar.refresh_from_db()
    assert sar.status == RequestStatus.REQUESTED
    assert not SubjectAccessRequest.objects.filter(patient=world.carol).exists()


@pytest.mark.parametrize("who", ["other_clerk", "bob_user", "other_gp"])
def test_people_who_may_not_see_the_patient_are_answered_404(world, client_for, who, request):
    user = request.getfixturevalue(who) if who == "other_clerk" else getattr(world, who)
    sar = _asked(world)
    services.subject_access_produce(actor=Actor.command_line(world.manager), subject_access=sar)
    services.subject_access_release(actor=Actor.command_line(world.manager), subject_access=sar)
    assert client_for(user).get(reverse("subject_access:download", args=[sar.public_id])).status_code == 404
    assert client_for(user).get(reverse("subject_access:detail", args=[sar.public_id])).status_code == 404
    assert client_for(user).post(reverse("subject_access:produce", args=[sar.public_id])).status_code == 404
    with pytest.raises(NotFound):
        services.subject_access_request(actor=Actor.command_line(user), patient=world.alice, note="A letter")
    assert _denied(user)


def test_a_missing_request_is_answered_404_and_audited(world, clerk, client_for):
    missing = "5c1d1f8e-0000-4000-8000-000000000000"
    assert client_for(clerk).get(f"/subject-access/{missing}/").status_code == 404
    assert client_for(world.alice_user).get(f"/subject-access/{missing}/copy.pdf").status_code == 404
    assert _denied(clerk, object_type=SAR, object_id=missing)


def test_staff_cannot_use_the_patient_s_page(world, clerk, client_for):
    assert client_for(clerk).get(reverse("subject_access:mine")).status_code == 404
    assert _denied(clerk, object_type=SAR)
