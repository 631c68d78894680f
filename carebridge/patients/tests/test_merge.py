"""Merging two records of one person, and undoing it (docs/records.md).

World: alice is registered at `surgery` with an NHS number and a portal login; `duplicate` is a second
record of her made at the same surgery without a number, holding a row of every kind a patient has.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps

from carebridge.access.models import BreakGlassAccess, CareRelationship, RelationshipKind
from carebridge.access.rules import access_for, visible_patients
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.audit.services import audit_record
from carebridge.clinical.models import Allergy, Condition, Consultation
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound, NotPermitted
from carebridge.patients.models import Gender, Patient, PatientMerge
from carebridge.patients.selectors import merged_record_ids
from carebridge.prescribing.models import Prescription, RepeatRequest
from carebridge.records.management_services import patient_foreign_keys, patient_merge, patient_unmerge
from carebridge.referrals.models import Referral, ReferralPriority
from carebridge.scheduling.models import Appointment
from carebridge.scheduling.relationships import appointment_relationships_refresh
from carebridge.subject_access.models import SubjectAccessRequest


def _act(user) -> Actor:
    return Actor(user=user, channel="web")


def _second_record(world, **changes) -> Patient:
    now = clock.now()
    values = {
        "source_id": "P-alice-again",
        "first_name": "alice",
        "last_name": "ARCHER ",
        "date_of_birth": dt.date(1980, 5, 17),
        "nhs_number": None,
        "gender": Gender.FEMALE,
        "registration_date": dt.date(2024, 3, 1),
        "registered_surgery": world.surgery,
        "created_at": now,
        "updated_at": now,
    } | changes
    return Patient.objects.create(**values)


@pytest.fixture
def duplicate(world) -> Patient:
    """Alice's second record, with one or more rows of everything a record holds."""
    patient = _second_record(world)
    now = clock.now()
    gp = world.gp.clinician
    appointment = Appointment.objects.create(
        patient=patient,
        clinician=gp,
        facility=world.surgery,
        starts_at=clock.london_datetime(clock.today() + dt.timedelta(days=3), dt.time(9, 0)),
        duration_minutes=10,
        appointment_type="GP Consultation",
        reason_for_visit="Cough",
        created_at=now,
        updated_at=now,
    )
    appointment_relationships_refresh([appointment])
    prescription = Prescription.objects.create(
        patient=patient,
        prescriber=gp,
        prescribed_on=clock.today(),
        medication_name="Amoxicillin",
        dose_value=Decimal("500"),
        dose_unit="mg",
        frequency="Three times daily",
        duration_days=7,
        quantity_value=Decimal("21"),
        quantity_unit="capsules",
    )
    RepeatRequest.objects.create(prescription=prescription, patient=patient, surgery=world.surgery, requested_at=now)
    condition = Condition.objects.create(patient=patient, display="Asthma", recorded_by=gp, recorded_at=now)
    Allergy.objects.create(
        patient=patient, substance="penicillins", display="Penicillins", recorded_by=gp, recorded_at=now
    )
    Consultation.objects.create(
        patient=patient,
        clinician=gp,
        facility=world.surgery,
        appointment=appointment,
        started_at=now,
        symptoms="Cough for a week",
        condition=condition,
    )
    Referral.objects.create(
        patient=patient,
        referring_clinician=gp,
        referring_facility=world.surgery,
        receiving_facility=world.hospital,
        referral_date=clock.today(),
        priority=ReferralPriority.ROUTINE,
        reason="Wheeze",
        clinical_summary="Persistent wheeze.",
        speciality="Cardiology",
        created_at=now,
        updated_at=now,
    )
    BreakGlassAccess.objects.create(
        clinician_user=world.other_gp,
        patient=patient,
        reason="Unconscious in clinic",
        opened_at=now,
        expires_at=now + dt.timedelta(hours=4),
    )
    SubjectAccessRequest.objects.create(
        patient=patient, surgery=world.surgery, requested_at=now, due_by=clock.today() + dt.timedelta(days=30)
    )
    audit_record(
        actor=_act(world.reception),
        action=AuditAction.VIEW,
        object_type=AuditObject.PATIENT,
        object_id=str(patient.public_id),
        patient_id=patient.pk,
    )
    return patient


def _rows_by_key(patient: Patient) -> dict[str, set[int]]:
    """Every row pointing at `patient`, by model and field: what a merge must move, found from Django's
    own list of models, so a model added later with a key to Patient is counted here without an edit."""
    return {
        f"{field.model._meta.label_lower}.{field.name}": set(
            field.model._base_manager.filter(**{field.attname: patient.pk}).values_list("pk", flat=True)
        )
        for field in patient_foreign_keys()
    }


def test_every_foreign_key_to_patient_is_one_the_merge_moves():
    # Found independently of the merge's own list: every key to Patient in every model, less the merge's
    # bookkeeping. If this fails, a model was added whose key the merge would not move.
    everywhere = {
        f"{model._meta.label_lower}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if getattr(field, "many_to_one", False) or getattr(field, "one_to_one", False)
        if field.concrete and field.remote_field.model is Patient
    }
    bookkeeping = {"patients.patientmerge.survivor", "patients.patientmerge.retired", "patients.patient.merged_into"}
    assert {f"{field.model._meta.label_lower}.{field.name}" for field in patient_foreign_keys()} == (
        everywhere - bookkeeping
    )


def test_the_fixture_holds_a_row_of_every_kind_so_the_merge_test_covers_every_model(duplicate):
    # A new model with a key to Patient fails here until the duplicate is given a row of it, so the
    # merge and unmerge tests below prove that it follows.
    empty = [key for key, rows in _rows_by_key(duplicate).items() if not rows]
    assert empty == [], f"give the duplicate record a row of: {empty}"


def test_a_clerk_merges_and_everything_follows_to_the_kept_record(world, clerk, duplicate):
    alice = world.alice
    before_kept, before_retired = _rows_by_key(alice), _rows_by_key(duplicate)
    totals = {model: model.objects.count() for model in apps.get_models()}

    merge = patient_merge(actor=_act(clerk), patient=alice, retired=duplicate, reason="Same person: registered twice")

    after_kept, after_retired = _rows_by_key(alice), _rows_by_key(duplicate)
    for key, rows in before_retired.items():
        assert after_retired[key] == set(), key
        assert after_kept[key] == before_kept[key] | rows, key
    assert merge.moved == {key: sorted(rows) for key, rows in before_retired.items() if rows}
    # Nothing lost and nothing deleted: only the merge row (and the audit rows) are new.
    grown = {
        model._meta.label_lower: model.objects.count() - count
        for model, count in totals.items()
        if model.objects.count() != count
    }
    assert grown == {"patients.patientmerge": 1, "audit.auditevent": 2}
    duplicate.refresh_from_db()
    assert duplicate.merged_into == alice
    assert (merge.merged_by, merge.reason, merge.merged_at) == (clerk, "Same person: registered twice", clock.now())
    # The kept record's details are the ones the clerk chose: unchanged.
    alice_after = Patient.objects.get(pk=alice.pk)
    assert (alice_after.first_name, alice_after.nhs_number, alice_after.user_id) == (
        "Alice",
        alice.nhs_number,
        alice.user_id,
    )


def test_the_retired_record_is_hidden_from_everyone_and_its_history_is_read_with_the_kept_record(
    world, clerk, duplicate
):
    earlier_view = AuditEvent.objects.get(patient_id=duplicate.pk, action=AuditAction.VIEW)
    patient_merge(actor=_act(clerk), patient=world.alice, retired=duplicate, reason="Registered twice")
    duplicate.refresh_from_db()
    for user in (clerk, world.gp, world.reception, world.manager):
        assert duplicate not in visible_patients(Patient.objects.all(), user)
        assert access_for(user, duplicate) is None
        assert world.alice in visible_patients(Patient.objects.all(), user)
    # The audit trail is not rewritten: the old row still names the retired record, and the kept
    # record's history is read under both ids.
    earlier_view.refresh_from_db()
    assert earlier_view.patient_id == duplicate.pk
    assert merged_record_ids(world.alice) == [world.alice.pk, duplicate.pk]
    history = AuditEvent.objects.filter(patient_id__in=merged_record_ids(world.alice))
    assert earlier_view in history
    merges = history.filter(detail__operation="merge")
    assert {event.patient_id for event in merges} == {world.alice.pk, duplicate.pk}


def test_unmerge_gives_back_both_records_exactly_and_leaves_new_rows_on_the_kept_record(
    world, clerk, records_manager, duplicate
):
    before_kept, before_retired = _rows_by_key(world.alice), _rows_by_key(duplicate)
    merge = patient_merge(actor=_act(clerk), patient=world.alice, retired=duplicate, reason="Registered twice")
    # Made on the kept record after the merge: it stays there when the merge is undone.
    later = Condition.objects.create(
        patient=world.alice, display="Hay fever", recorded_by=world.gp.clinician, recorded_at=clock.now()
    )

    patient_unmerge(actor=_act(records_manager), patient=world.alice, merge=merge, reason="Twins, not one person")

    after_kept, after_retired = _rows_by_key(world.alice), _rows_by_key(duplicate)
    assert after_retired == before_retired
    expected_kept = dict(before_kept)
    expected_kept["clinical.condition.patient"] = before_kept["clinical.condition.patient"] | {later.pk}
    assert after_kept == expected_kept
    duplicate.refresh_from_db()
    merge.refresh_from_db()
    assert duplicate.merged_into is None
    assert (merge.unmerged_by, merge.unmerge_reason) == (records_manager, "Twins, not one person")
    assert access_for(world.gp, duplicate) is not None
    assert merged_record_ids(world.alice) == [world.alice.pk]
    unmerges = AuditEvent.objects.filter(detail__operation="unmerge")
    assert {event.patient_id for event in unmerges} == {world.alice.pk, duplicate.pk}
    with pytest.raises(Invalid, match="already been undone"):
        patient_unmerge(actor=_act(records_manager), patient=world.alice, merge=merge, reason="Again")


def test_a_portal_login_on_the_retired_record_moves_to_the_kept_one_and_back(world, clerk, records_manager):
    carol_login = world.bob_user
    Patient.objects.filter(pk=world.bob.pk).update(user=None)
    second = _second_record(world, first_name="Carol", last_name="Clarke", source_id="P-carol-2", user=carol_login)
    merge = patient_merge(actor=_act(clerk), patient=world.carol, retired=second, reason="Registered twice")
    world.carol.refresh_from_db()
    assert world.carol.user == carol_login and merge.moved_portal_login
    assert access_for(carol_login, world.carol) is not None

    patient_unmerge(actor=_act(records_manager), patient=world.carol, merge=merge, reason="Different people")
    second.refresh_from_db()
    world.carol.refresh_from_db()
    assert second.user == carol_login and world.carol.user is None


def test_both_records_with_portal_logins_are_refused(world, clerk):
    Patient.objects.filter(pk=world.bob.pk).update(user=None)
    second = _second_record(world, source_id="P-alice-3", user=world.bob_user)
    with pytest.raises(Invalid, match="Both records have a portal login"):
        patient_merge(actor=_act(clerk), patient=world.alice, retired=second, reason="Registered twice")
    second.refresh_from_db()
    assert second.merged_into is None and not PatientMerge.objects.exists()


def test_different_nhs_numbers_are_refused_as_different_people(world, clerk):
    second = _second_record(world, nhs_number="4010232137", nhs_number_verified=True)
    with pytest.raises(Invalid) as refused:
        patient_merge(actor=_act(clerk), patient=world.alice, retired=second, reason="Same name")
    assert (
        "different NHS numbers (943 476 5919 and 401 023 2137), so they are different people"
        in (refused.value.fields["retired"])
    )
    assert not PatientMerge.objects.exists()


def test_the_record_with_the_nhs_number_is_the_one_kept(world, clerk, duplicate):
    with pytest.raises(Invalid) as refused:
        patient_merge(actor=_act(clerk), patient=duplicate, retired=world.alice, reason="Registered twice")
    assert refused.value.fields == {"survivor": "Keep the record with the NHS number: choose it as the record to keep."}


def test_a_row_a_patient_may_hold_once_on_both_records_refuses_the_merge_with_nothing_moved(world, clerk, duplicate):
    SubjectAccessRequest.objects.create(
        patient=world.alice, surgery=world.surgery, requested_at=clock.now(), due_by=clock.today()
    )
    before = _rows_by_key(duplicate)
    with pytest.raises(Invalid, match="Settle one first"):
        patient_merge(actor=_act(clerk), patient=world.alice, retired=duplicate, reason="Registered twice")
    assert _rows_by_key(duplicate) == before


def test_a_reason_is_required(world, clerk, duplicate):
    with pytest.raises(Invalid) as refused:
        patient_merge(actor=_act(clerk), patient=world.alice, retired=duplicate, reason="  ")
    assert "reason" in refused.value.fields


def _denials(user) -> int:
    return AuditEvent.objects.filter(actor=user, action=AuditAction.DENY).count()


@pytest.mark.parametrize("who", ["reception", "junior_clerk", "gp"])
def test_merge_is_refused_to_staff_at_the_surgery_who_do_not_keep_records_and_audited(world, duplicate, who, request):
    user = getattr(world, who, None) or request.getfixturevalue(who)
    with pytest.raises(NotPermitted):
        patient_merge(actor=_act(user), patient=world.alice, retired=duplicate, reason="Registered twice")
    assert _denials(user) == 1
    assert not PatientMerge.objects.exists()
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None


def test_merge_is_refused_to_another_surgerys_clerk_as_not_found_and_audited(world, other_clerk, duplicate):
    with pytest.raises(NotFound):
        patient_merge(actor=_act(other_clerk), patient=world.alice, retired=duplicate, reason="Registered twice")
    assert _denials(other_clerk) == 1
    assert not PatientMerge.objects.exists()


def test_unmerge_is_refused_to_a_clerk_who_is_not_a_records_manager_and_audited(world, clerk, duplicate):
    merge = patient_merge(actor=_act(clerk), patient=world.alice, retired=duplicate, reason="Registered twice")
    with pytest.raises(NotPermitted):
        patient_unmerge(actor=_act(clerk), patient=world.alice, merge=merge, reason="Mistake")
    assert _denials(clerk) == 1
    merge.refresh_from_db()
    assert merge.unmerged_at is None


def test_a_practice_manager_may_undo_a_merge(world, clerk, duplicate):
    merge = patient_merge(actor=_act(clerk), patient=world.alice, retired=duplicate, reason="Registered twice")
    patient_unmerge(actor=_act(world.manager), patient=world.alice, merge=merge, reason="Mistake")
    merge.refresh_from_db()
    assert merge.unmerged_at == clock.now()


def test_care_relationships_follow_so_the_kept_record_is_seen_through_them(world, clerk, duplicate):
    moved = CareRelationship.objects.filter(patient=duplicate, kind=RelationshipKind.APPOINTMENT).get()
    patient_merge(actor=_act(clerk), patient=world.alice, retired=duplicate, reason="Registered twice")
    moved.refresh_from_db()
    assert moved.patient_id == world.alice.pk


def test_the_privacy_officers_search_and_the_patients_own_log_include_the_retired_records_history(
    world, clerk, duplicate
):
    from carebridge.privacy.selectors import audit_events_matching
    from carebridge.records.selectors import record_access_log

    earlier_view = AuditEvent.objects.get(patient_id=duplicate.pk, action=AuditAction.VIEW)
    patient_merge(actor=_act(clerk), patient=world.alice, retired=duplicate, reason="Registered twice")
    assert earlier_view in audit_events_matching(nhs_number=world.alice.nhs_number)
    own = access_for(world.alice_user, Patient.objects.get(pk=world.alice.pk))
    assert any(
        entry.at == earlier_view.at and "looked at your record" in entry.what for entry in record_access_log(own)
    )
