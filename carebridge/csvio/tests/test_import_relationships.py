"""Imported appointments and referrals open patients' records as those made in Carebridge do: the
importer writes their care relationships, and a later import that changes them brings them in step."""

import shutil

import pytest

from carebridge.access.models import CareRelationship, RelationshipKind
from carebridge.core.actor import Actor
from carebridge.csvio.services import dataset_import
from carebridge.csvio.tests.conftest import GOOD
from carebridge.referrals.models import Referral
from carebridge.scheduling.models import Appointment

pytestmark = pytest.mark.django_db


def _relationships() -> set[tuple[str, str, str, str | None]]:
    return {
        (row.kind, str(row.source_id), row.facility.source_id, row.clinician.source_id if row.clinician else None)
        for row in CareRelationship.objects.select_related("facility", "clinician")
    }


def test_every_imported_appointment_and_referral_gives_its_relationships():
    dataset_import(directory=GOOD, actor=Actor.command_line())
    expected = {
        (RelationshipKind.APPOINTMENT, str(a.public_id), a.facility.source_id, a.clinician.source_id)
        for a in Appointment.objects.select_related("facility", "clinician")
    }
    for referral in Referral.objects.select_related(
        "receiving_facility", "receiving_clinician", "referring_facility", "referring_clinician"
    ):
        expected.add(
            (
                RelationshipKind.REFERRAL_RECEIVED,
                str(referral.public_id),
                referral.receiving_facility.source_id,
                referral.receiving_clinician.source_id if referral.receiving_clinician else None,
            )
        )
        expected.add(
            (
                RelationshipKind.REFERRAL_SENT,
                str(referral.public_id),
                referral.referring_facility.source_id,
                referral.referring_clinician.source_id,
            )
        )
    assert _relationships() == expected
    # A103 (Scheduled) lasts 90 days after its time; A102 was cancelled, so its relationship has ended.
    a102 = Appointment.objects.get(source_id="A102")
    assert CareRelationship.objects.get(source_id=a102.public_id).ends_at == a102.updated_at


def test_importing_again_keeps_one_relationship_per_appointment_and_follows_a_cancellation(tmp_path):
    dataset_import(directory=GOOD, actor=Actor.command_line())
    before = _relationships()
    dataset_import(directory=GOOD, actor=Actor.command_line())
    assert _relationships() == before

    folder = tmp_path / "cancelled"
    shutil.copytree(GOOD, folder)
    path = folder / "appointments.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "A101,P101,C101,S101,2025-10-06,09:00,15,Routine Consultation,Scheduled",
            "A101,P101,C101,S101,2025-10-06,09:00,15,Routine Consultation,Cancelled",
        ),
        encoding="utf-8",
    )
    dataset_import(directory=folder, actor=Actor.command_line())
    a101 = Appointment.objects.get(source_id="A101")
    assert a101.status == "cancelled"
    [row] = CareRelationship.objects.filter(source_id=a101.public_id)
    assert row.ends_at == a101.updated_at
    assert _relationships() == before
