"""The parity suite: who may do what to which appointment or referral, stated once and asked of every channel.

Each row of the table names an action (read alice's record, book, move, cancel, check in, mark a
no-show, mark done), a person from the test world, and the outcome in the one vocabulary: ok,
not-found (missing or not visible: 404), not-permitted (visible, but not theirs to do: 403), invalid
(breaks a rule: 422) or conflict (slot just taken: 409). Each row is sent through the web pages, the
REST API and FHIR from the same starting state (carebridge/testing/parity.py); the three must give
the expected outcome and write the same audit rows (action, object type, object id, patient).

The targets: A is alice's GP appointment at her surgery, tomorrow; B is bob's at another surgery;
H is alice's hospital appointment, made from her referral (from her surgery to the hospital's
Cardiology), which is a target of its own. An action not yet said through every channel (the
referral's page) is asked of the channels that say it (Action.channels).
"""

import dataclasses
from collections import Counter

import pytest

from carebridge.accounts.models import User
from carebridge.testing import parity
from carebridge.testing.parity import (
    AFTER_A,
    BEFORE_A,
    CONFLICT,
    INVALID,
    NOT_FOUND,
    NOT_PERMITTED,
    OK,
    OUTCOMES,
    Action,
)
from carebridge.testing.world import World

# --- Who is who in the test world ------------------------------------------------------------------------
# Named once here so each action below says where every one of them stands; a role added to the world
# and to none of these fails test_every_action_says_what_every_person_in_the_world_gets.

PATIENT = ("alice_user",)
SURGERY_DESK = ("reception", "manager")  # alice's surgery, where A is
SURGERY_CLINICIANS = ("gp", "nurse")
HOSPITAL_CLINICIANS = ("specialist", "hospital_nurse")  # where alice is referred to and H is
HOSPITAL_DESK = ("hospital_reception",)
# Nobody who may see alice's record: another surgery and hospital, the hospital porter, the system
# administrator and the privacy officer (who review the trail, not records), and another patient.
STRANGERS = ("other_gp", "other_specialist", "other_reception", "porter", "admin", "privacy", "bob_user")


def expect(**by_outcome: tuple[str, ...]) -> dict[str, str]:
    """expect(ok=(...), not_permitted=(...)): each person's outcome, named once."""
    expected: dict[str, str] = {}
    for outcome, names in by_outcome.items():
        for name in names:
            assert name not in expected, f"{name} is given two outcomes"
            expected[name] = outcome.replace("_", "-")
    return expected


# Booking, moving and cancelling at the surgery: the patient, and the surgery's front desk.
AT_THE_SURGERY = expect(
    ok=PATIENT + SURGERY_DESK,
    not_permitted=SURGERY_CLINICIANS + HOSPITAL_CLINICIANS + HOSPITAL_DESK,
    not_found=STRANGERS,
)
# H belongs to the hospital: only its front desk changes it. A patient changes only appointments at
# their own surgery.
AT_THE_HOSPITAL = expect(
    ok=HOSPITAL_DESK,
    not_permitted=PATIENT + SURGERY_DESK + SURGERY_CLINICIANS + HOSPITAL_CLINICIANS,
    not_found=STRANGERS,
)
FRONT_DESK = expect(
    ok=SURGERY_DESK,
    not_permitted=PATIENT + SURGERY_CLINICIANS + HOSPITAL_CLINICIANS + HOSPITAL_DESK,
    not_found=STRANGERS,
)

# (action, who gets what), each for every person in the world.
TABLE: list[tuple[Action, dict[str, str]]] = [
    (
        parity.READ,
        expect(
            ok=PATIENT + SURGERY_CLINICIANS + HOSPITAL_CLINICIANS + SURGERY_DESK + HOSPITAL_DESK, not_found=STRANGERS
        ),
    ),
    (parity.book(), AT_THE_SURGERY),
    # Alice's referral: everyone who may see her record (the hospital she is referred to included) sees
    # it; reception sees its administrative facts only (carebridge/api/tests/test_referrals_api.py).
    (
        parity.READ_REFERRAL,
        expect(
            ok=PATIENT + SURGERY_CLINICIANS + HOSPITAL_CLINICIANS + SURGERY_DESK + HOSPITAL_DESK, not_found=STRANGERS
        ),
    ),
    (parity.move("move-A", "a", "gp_slot_for_a"), AT_THE_SURGERY),
    # A move stays within the appointment's own facility. Nobody may take H to the surgery: the
    # hospital's desk, who may move H, is told the rule; for everyone else H is not theirs to move.
    (
        parity.move("move-H-to-the-surgery", "h", "gp_slot_for_h"),
        expect(
            invalid=HOSPITAL_DESK,
            not_permitted=PATIENT + SURGERY_DESK + SURGERY_CLINICIANS + HOSPITAL_CLINICIANS,
            not_found=STRANGERS,
        ),
    ),
    (parity.move("move-H-within-the-hospital", "h", "hospital_slot"), AT_THE_HOSPITAL),
    (parity.cancel("cancel-A", "a"), AT_THE_SURGERY),
    (parity.cancel("cancel-H", "h"), AT_THE_HOSPITAL),
    (
        parity.status_change(
            "check-in-A", web_url="scheduling:check_in", rest_path="check-in", fhir_status="arrived", at=BEFORE_A
        ),
        FRONT_DESK,
    ),
    (
        parity.status_change(
            "no-show-A", web_url="scheduling:no_show", rest_path="no-show", fhir_status="noshow", at=AFTER_A
        ),
        FRONT_DESK,
    ),
    (
        parity.status_change(
            "complete-A",
            web_url="scheduling:complete",
            rest_path="complete",
            fhir_status="fulfilled",
            at=AFTER_A,
            # A was never checked in: done needs a reason, given on every channel.
            reason="Seen by telephone",
        ),
        expect(
            ok=("gp",),
            not_permitted=PATIENT + ("nurse",) + SURGERY_DESK + HOSPITAL_CLINICIANS + HOSPITAL_DESK,
            not_found=STRANGERS,
        ),
    ),
]

# Single cases beside the table: the rules every channel holds, and bob at another surgery.
SPOT_CASES: list[tuple[Action, str, str]] = [
    (parity.book("book-without-reason", reason=""), "alice_user", INVALID),
    (parity.cancel("cancel-A-without-reason", "a", reason=""), "alice_user", INVALID),
    (
        parity.status_change(
            "complete-A-never-checked-in-without-reason",
            web_url="scheduling:complete",
            rest_path="complete",
            fhir_status="fulfilled",
            at=AFTER_A,
        ),
        "gp",
        INVALID,
    ),
    (parity.book("book-a-taken-slot", slot="taken_gp_slot"), "reception", CONFLICT),
    (parity.book("book-a-taken-slot", slot="taken_gp_slot"), "alice_user", CONFLICT),
    (parity.cancel("cancel-a-missing-appointment", "missing"), "reception", NOT_FOUND),
    (parity.move("move-B", "b", "other_surgery_slot"), "reception", NOT_FOUND),
    (parity.move("move-B", "b", "other_surgery_slot"), "other_reception", OK),
]

CASES = [(action, actor, outcome) for action, expected in TABLE for actor, outcome in expected.items()]
CASES += SPOT_CASES


@pytest.fixture
def targets(schedule):
    return parity.build_targets(schedule)


def _report(action: Action, actor: str, expected: str, results: list[parity.Result], problems: list[str]) -> str:
    lines = [
        f"{action.name} by {actor}: expected {expected} on every channel, with the same audit rows",
        *problems,
        "what each channel answered:",
    ]
    lines += [result.line() for result in results]
    lines.append("audit rows written (action, object_type, object_id, patient_id):")
    for result in results:
        lines.append(f"  {result.channel}:")
        lines += [f"    {row}" for row in result.rows] or ["    (none)"]
    return "\n".join(lines)


@pytest.mark.parametrize(
    "action, actor, expected", CASES, ids=[f"{action.name}-{actor}-{expected}" for action, actor, expected in CASES]
)
def test_every_channel_gives_the_same_answer_and_audit(targets, action, actor, expected):
    results = [parity.run(action, channel, targets, actor) for channel in action.channels]
    problems = [
        f"{result.channel}: {result.outcome}, not {expected}" for result in results if result.outcome != expected
    ]
    first = results[0]
    problems += [
        f"{result.channel} wrote other audit rows than {first.channel}"
        for result in results[1:]
        if Counter(result.rows) != Counter(first.rows)
    ]
    for result in results:
        problems += parity.audit_problems(result, changes=action.changes)
    assert not problems, _report(action, actor, expected, results, problems)


# --- The table itself ---------------------------------------------------------------------------------

WORLD_PEOPLE = {field.name for field in dataclasses.fields(World) if field.type in (User, "User")}


def test_every_action_says_what_every_person_in_the_world_gets():
    for action, expected in TABLE:
        assert set(expected) == WORLD_PEOPLE, (
            f"{action.name}: nobody says what {sorted(WORLD_PEOPLE - set(expected))} get; "
            f"{sorted(set(expected) - WORLD_PEOPLE)} are not in the world"
        )
    for action, actor, _ in SPOT_CASES:
        assert actor in WORLD_PEOPLE, f"{action.name}: {actor} is not in the world"


def test_the_table_covers_each_kind_of_action_and_target_with_someone_allowed():
    names = [action.name for action, _ in TABLE]
    assert len(names) == len(set(names)), "an action appears twice in the table"
    for expected_name in (
        "read-record",
        "read-referral",
        "book",
        "move-A",
        "move-H-to-the-surgery",
        "move-H-within-the-hospital",
        "cancel-A",
        "cancel-H",
        "check-in-A",
        "no-show-A",
        "complete-A",
    ):
        assert expected_name in names
    for action, expected in TABLE:
        assert set(expected.values()) <= set(OUTCOMES), action.name
        # A table of refusals only would pass against an access layer that refuses everything.
        if action.name != "move-H-to-the-surgery":
            assert OK in expected.values(), f"{action.name}: nobody may do it, so the case cannot catch a refusal"
    assert all(outcome in OUTCOMES for _, _, outcome in SPOT_CASES)


def test_the_world_people_are_the_ones_the_world_builds(world):
    # The table is checked against World's fields without a database; this keeps the two the same.
    assert set(world.users_by_name()) == WORLD_PEOPLE
    assert {NOT_FOUND, NOT_PERMITTED} <= {outcome for _, expected in TABLE for outcome in expected.values()}
