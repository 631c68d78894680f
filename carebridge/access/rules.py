"""Who may see a patient, how much of the record, and which actions they may take. Deny by default.

The one place these rules live (DESIGN section 3). Care services ask `require()` themselves, so a rule
holds whoever calls them; pages, APIs and commands never decide access.

  access_for(user, patient)  -> PatientAccess (why, and how much) or None (may not see the patient)
  visible_patients(qs, user) -> the queryset narrowed to the patients `user` may see
  require(actor, action, patient, ...) -> PatientAccess, or raises NotFound / NotPermitted
"""

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet

from carebridge.access.models import BreakGlassAccess, CareRelationship, RelationshipKind
from carebridge.access.relationships import live
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import NotFound, NotPermitted
from carebridge.core.prepared import PreparedQuery
from carebridge.core.roles import ADMINISTRATIVE_ROLES, CLINICAL_ROLES, Role, role_of
from carebridge.organisations.models import AccessLevel
from carebridge.patients.models import Patient

if TYPE_CHECKING:
    from carebridge.accounts.models import User


class Disclosure(enum.IntEnum):
    """How much of a record a viewer is handed. Demographics are part of both."""

    # Demographics, appointments (their reason only at the viewer's own facility), and a referral's
    # administrative fields: priority, dates, status, receiving clinic.
    ADMINISTRATIVE = 1
    # Everything: consultations, prescriptions, allergies, a referral's reason and clinical summary.
    CLINICAL = 2


class Action(enum.StrEnum):
    READ = "read"
    BOOK = "book"
    MOVE = "move"
    CANCEL = "cancel"
    CHECK_IN = "check_in"
    MARK_NO_SHOW = "mark_no_show"
    COMPLETE = "complete"
    RECORD_CONSULTATION = "record_consultation"
    PRESCRIBE = "prescribe"
    RECORD_SUPPLY = "record_supply"  # a prescription dispensed or collected, or cancelled
    REQUEST_REPEAT = "request_repeat"
    NOMINATE_PHARMACY = "nominate_pharmacy"
    REFER = "refer"
    TRIAGE = "triage"  # and every later clinical step at the hospital: the outcome and clinic letter
    # A subject access request (UK GDPR article 15): asked for by the patient, or recorded by records
    # staff for a patient who asked in writing; produced and released by those staff only.
    REQUEST_RECORD_COPY = "request_record_copy"
    RELEASE_RECORD_COPY = "release_record_copy"
    EXPORT_RECORD = "export_record"  # the whole record in one answer (FHIR Patient/$everything)
    # Records management at the patient's surgery (docs/records.md): merging two records of one person,
    # undoing a merge, and ending a registration when the patient leaves.
    MERGE_RECORDS = "merge_records"
    UNMERGE_RECORDS = "unmerge_records"
    DEREGISTER = "deregister"


class Why(enum.StrEnum):
    OWN_RECORD = "own_record"
    REGISTERED = "registered"
    APPOINTMENT = RelationshipKind.APPOINTMENT.value
    REFERRAL_RECEIVED = RelationshipKind.REFERRAL_RECEIVED.value
    REFERRAL_SENT = RelationshipKind.REFERRAL_SENT.value
    EMERGENCY = "emergency"


@dataclass(frozen=True)
class Relationship:
    """One reason a person may see a patient, in words for both of them."""

    why: Why
    summary: str  # "Registered at Oak Tree Surgery", "Appointment on 14 December 2026"
    who: str  # whose relationship it is: "Dr Sam Okafor and Heartlands Hospital"
    since: dt.datetime | dt.date | None
    until: dt.datetime | None  # None: open-ended (registration, an open referral)
    source_id: uuid.UUID | None = None
    reason: str = ""  # an emergency access's stated reason


@dataclass(frozen=True)
class PatientAccess:
    """One viewer's access to one patient: how much, and why."""

    patient: Patient
    role: Role
    disclosure: Disclosure
    relationships: tuple[Relationship, ...]
    # The viewer's own facility (their workplace), if they have one: an appointment's reason is shown
    # to non-clinical staff only for appointments there.
    facility_id: int | None

    @property
    def sees_clinical(self) -> bool:
        return self.disclosure == Disclosure.CLINICAL

    @property
    def is_own_record(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def via_break_glass(self) -> bool:
        """Only emergency access opens this record to the viewer (shown as a banner)."""
        return all(relationship.why == Why.EMERGENCY for relationship in self.relationships)

    def sees_appointment_reason(self, appointment_facility_id: int) -> bool:
        return self.sees_clinical or appointment_facility_id == self.facility_id


@dataclass(frozen=True)
class Viewer:
    """How much a person sees of the records they may open, whichever patient it is (for lists)."""

    disclosure: Disclosure
    facility_id: int | None

    @property
    def sees_clinical(self) -> bool:
        return self.disclosure == Disclosure.CLINICAL

    def sees_appointment_reason(self, appointment_facility_id: int) -> bool:
        return self.sees_clinical or appointment_facility_id == self.facility_id


def viewer_of(user: "User | None") -> Viewer:
    role = role_of(user)
    if user is None or role not in CLINICAL_ROLES | ADMINISTRATIVE_ROLES | {Role.PATIENT}:
        return Viewer(disclosure=Disclosure.ADMINISTRATIVE, facility_id=None)
    disclosure = Disclosure.ADMINISTRATIVE if role in ADMINISTRATIVE_ROLES else Disclosure.CLINICAL
    return Viewer(disclosure=disclosure, facility_id=_viewer_facility_id(user, role))


# --- Who sees whom ----------------------------------------------------------------------------------------


def _viewer_facility_id(user: "User", role: Role) -> int | None:
    if role in CLINICAL_ROLES:
        return user.clinician.workplace_id
    if role in ADMINISTRATIVE_ROLES:
        return user.staff_member.facility_id
    return None


def _rows_opened_to(*, facility_id: int, clinician_id: int | None = None) -> Q:
    """Relationships open a record to everyone working at their facility, and to their named clinician."""
    rows = Q(facility_id=facility_id)
    if clinician_id is not None:
        rows |= Q(clinician_id=clinician_id)
    return rows


def _registered_here(user: "User", role: Role) -> int | None:
    """The surgery whose registered patients `user` may see: GPs, practice nurses and staff there."""
    if role in CLINICAL_ROLES:
        workplace = user.clinician.workplace
        return workplace.pk if workplace.is_gp_surgery else None
    if role in ADMINISTRATIVE_ROLES:
        return user.staff_member.facility_id
    return None


def visible_patients(queryset: QuerySet[Patient], user: "User | None") -> QuerySet[Patient]:
    """Narrow `queryset` to the patients `user` may see. Emergency access counts while it lasts."""
    seen_by = _seen_by(user)
    if seen_by is None:
        return queryset.none()
    return queryset.filter(_visible(**seen_by, now=clock.now()))


def visible_patients_with_nhs_number(user: "User | None", nhs_number: str) -> list[Patient]:
    """The patient with `nhs_number` (normalised) if `user` may see them, with their registered surgery:
    visible_patients for the lookup every front desk makes all day, its SQL compiled once per kind of
    viewer (carebridge/core/prepared.py)."""
    seen_by = _seen_by(user)
    if seen_by is None:
        return []
    # A patient's own lookup has no relationships, so no moment to hold them at.
    at = {"now": clock.now()} if "facility_id" in seen_by else {}
    shape = tuple(sorted(seen_by))
    prepared = _NHS_NUMBER_LOOKUPS.get(shape)
    if prepared is None:

        def build(nhs_number: str, now: dt.datetime | None = None, **ids: int) -> QuerySet[Patient]:
            visible = Patient.objects.filter(_visible(**ids, now=now), nhs_number=nhs_number)
            return visible.select_related("registered_surgery")[:2]

        parameters = {"nhs_number": str, **dict.fromkeys(at, dt.datetime), **dict.fromkeys(seen_by, int)}
        prepared = _NHS_NUMBER_LOOKUPS.setdefault(shape, PreparedQuery(build, **parameters))
    return prepared.all(nhs_number=nhs_number, **at, **seen_by)


# One compiled lookup per kind of viewer: which of _seen_by's ids they have.
_NHS_NUMBER_LOOKUPS: dict[tuple[str, ...], PreparedQuery[Patient]] = {}


def _seen_by(user: "User | None") -> dict[str, int] | None:
    """What decides which patients `user` sees, as ids: their own login (a patient); the relationships
    opened to their facility and to them as a clinician; the surgery whose registered patients they see;
    their emergency access. None: they see nobody."""
    role = role_of(user)
    if user is None or role == Role.NONE:
        return None
    if role == Role.PATIENT:
        return {"patient_user_id": user.pk}
    if role in CLINICAL_ROLES:
        ids = {
            "facility_id": user.clinician.workplace_id,
            "clinician_id": user.clinician.pk,
            "emergency_user_id": user.pk,
        }
    elif role in ADMINISTRATIVE_ROLES:
        ids = {"facility_id": user.staff_member.facility_id}
    else:
        return None
    surgery_id = _registered_here(user, role)
    if surgery_id is not None:
        ids["surgery_id"] = surgery_id
    return ids


def _visible(
    *,
    now: dt.datetime | None,
    patient_user_id: int | None = None,
    facility_id: int | None = None,
    clinician_id: int | None = None,
    surgery_id: int | None = None,
    emergency_user_id: int | None = None,
) -> Q:
    # A record retired by a merge is hidden everywhere: its rows now live on the record that was kept.
    kept = Q(merged_into__isnull=True)
    if patient_user_id is not None:
        return kept & Q(user_id=patient_user_id)
    assert facility_id is not None and now is not None
    rows = _rows_opened_to(facility_id=facility_id, clinician_id=clinician_id)
    visible = Q(Exists(CareRelationship.objects.filter(rows, live(now), patient=OuterRef("pk"))))
    if surgery_id is not None:
        visible |= Q(registered_surgery_id=surgery_id, deregistered_on__isnull=True)
    if emergency_user_id is not None:
        visible |= Q(
            Exists(
                BreakGlassAccess.objects.filter(
                    patient=OuterRef("pk"), clinician_user_id=emergency_user_id, expires_at__gt=now
                )
            )
        )
    return kept & visible


# The queries access_for runs for every record anyone opens, compiled once per process
# (carebridge/core/prepared.py): a clinician's rows and a member of staff's, for one patient.
def _live_relationships(patient_id: int, now: dt.datetime, rows: Q) -> QuerySet[CareRelationship]:
    return (
        CareRelationship.objects.filter(rows, live(now), patient_id=patient_id)
        .select_related("clinician", "facility")
        .order_by("starts_at")
    )


_CLINICIANS_RELATIONSHIPS = PreparedQuery(
    lambda patient_id, clinician_id, facility_id, now: _live_relationships(
        patient_id, now, _rows_opened_to(facility_id=facility_id, clinician_id=clinician_id)
    ),
    patient_id=int,
    clinician_id=int,
    facility_id=int,
    now=dt.datetime,
)
_STAFF_RELATIONSHIPS = PreparedQuery(
    lambda patient_id, facility_id, now: _live_relationships(patient_id, now, _rows_opened_to(facility_id=facility_id)),
    patient_id=int,
    facility_id=int,
    now=dt.datetime,
)
_EMERGENCY_ACCESS = PreparedQuery(
    lambda patient_id, user_id, now: BreakGlassAccess.objects.filter(
        patient_id=patient_id, clinician_user_id=user_id, expires_at__gt=now
    ),
    patient_id=int,
    user_id=int,
    now=dt.datetime,
)


def access_for(user: "User | None", patient: Patient) -> PatientAccess | None:
    """`user`'s access to `patient`, with every reason it is granted; None when there is none."""
    role = role_of(user)
    if user is None or role == Role.NONE or patient.merged_into_id is not None:
        return None
    if role == Role.PATIENT:
        if patient.user_id != user.pk:
            return None
        own = Relationship(why=Why.OWN_RECORD, summary="Your own record", who="You", since=None, until=None)
        return PatientAccess(
            patient=patient, role=role, disclosure=Disclosure.CLINICAL, relationships=(own,), facility_id=None
        )
    if role not in CLINICAL_ROLES and role not in ADMINISTRATIVE_ROLES:
        return None  # relationships open records to clinicians and staff only
    now = clock.now()
    found: list[Relationship] = []
    surgery_id = _registered_here(user, role)
    if surgery_id is not None and patient.registered_surgery_id == surgery_id and patient.deregistered_on is None:
        found.append(
            Relationship(
                why=Why.REGISTERED,
                summary=f"Registered at {patient.registered_surgery.name}",
                who=f"Staff and clinicians at {patient.registered_surgery.name}",
                since=patient.registration_date,
                until=None,
            )
        )
    if role in CLINICAL_ROLES:
        live_rows = _CLINICIANS_RELATIONSHIPS.all(
            patient_id=patient.pk, clinician_id=user.clinician.pk, facility_id=user.clinician.workplace_id, now=now
        )
    else:
        live_rows = _STAFF_RELATIONSHIPS.all(patient_id=patient.pk, facility_id=user.staff_member.facility_id, now=now)
    for row in live_rows:
        found.append(_explained(row))
    if role in CLINICAL_ROLES:
        for grant in _EMERGENCY_ACCESS.all(patient_id=patient.pk, user_id=user.pk, now=now):
            found.append(
                Relationship(
                    why=Why.EMERGENCY,
                    summary="Emergency access",
                    who=user.get_full_name(),
                    since=grant.opened_at,
                    until=grant.expires_at,
                    reason=grant.reason,
                )
            )
    if not found:
        return None
    disclosure = Disclosure.CLINICAL if role in CLINICAL_ROLES else Disclosure.ADMINISTRATIVE
    return PatientAccess(
        patient=patient,
        role=role,
        disclosure=disclosure,
        relationships=tuple(found),
        facility_id=_viewer_facility_id(user, role),
    )


def _explained(row: CareRelationship) -> Relationship:
    who = row.facility.name
    if row.clinician is not None:
        who = f"{row.clinician.display_name} and {row.facility.name}"
    return Relationship(
        why=Why(row.kind), summary=row.summary, who=who, since=row.starts_at, until=row.ends_at, source_id=row.source_id
    )


def who_can_see(patient: Patient) -> list[Relationship]:
    """For the patient: everyone who may see their record now, and why (own access aside)."""
    now = clock.now()
    everyone = []
    if patient.deregistered_on is None:
        everyone.append(
            Relationship(
                why=Why.REGISTERED,
                summary=f"You are registered at {patient.registered_surgery.name}",
                who=f"Staff and clinicians at {patient.registered_surgery.name}",
                since=patient.registration_date,
                until=None,
            )
        )
    everyone += [
        _explained(row)
        for row in CareRelationship.objects.filter(live(now), patient=patient)
        .select_related("clinician", "facility")
        .order_by("starts_at")
    ]
    everyone += [
        Relationship(
            why=Why.EMERGENCY,
            summary="Emergency access",
            who=grant.clinician_user.get_full_name(),
            since=grant.opened_at,
            until=grant.expires_at,
            reason=grant.reason,
        )
        for grant in BreakGlassAccess.objects.filter(patient=patient, expires_at__gt=now).select_related(
            "clinician_user"
        )
    ]
    return everyone


# --- What they may do ------------------------------------------------------------------------------------


def refusal(
    access: PatientAccess,
    user: "User",
    action: Action,
    *,
    facility_id: int | None = None,
    clinician_id: int | None = None,
) -> str | None:
    """Why `user` (who may see the patient, as `access` says) may not take `action`; None if they may.

    `facility_id` is where the action happens (the slot's facility for a booking, the appointment's for
    a change, the receiving facility for triage); `clinician_id` the appointment's clinician.
    """
    role = access.role
    patient = access.patient
    if action == Action.READ:
        return None
    if action in (Action.BOOK, Action.MOVE, Action.CANCEL):
        if role == Role.PATIENT:
            if facility_id != patient.registered_surgery_id or patient.deregistered_on is not None:
                if action == Action.BOOK:
                    return "You can book only with clinicians at the surgery you are registered with."
                return "This appointment was made by another clinic: contact them to change it."
            return None
        if role in ADMINISTRATIVE_ROLES and facility_id == access.facility_id:
            return None
        return "Only the patient, or reception at the clinic, can book or change this appointment."
    if action in (Action.CHECK_IN, Action.MARK_NO_SHOW):
        if role in ADMINISTRATIVE_ROLES and facility_id == access.facility_id:
            return None
        return "Only reception at the clinic checks patients in or records a missed appointment."
    if action == Action.COMPLETE:
        if role in CLINICAL_ROLES and clinician_id == user.clinician.pk:
            return None
        return "Only the clinician seeing the patient marks the appointment done."
    if action == Action.RECORD_CONSULTATION:
        return None if role in CLINICAL_ROLES else "Only clinicians record consultations."
    if action == Action.PRESCRIBE:
        # `facility_id`, when given, is where the prescription is issued from (a repeat request waits at
        # the patient's surgery, for its prescribers).
        if role in CLINICAL_ROLES and user.clinician.may_prescribe:
            if facility_id is not None and facility_id != access.facility_id:
                return "Repeat requests are approved by prescribers at the patient's surgery."
            return None
        return "Only doctors, and nurses registered as prescribers, may prescribe."
    if action == Action.RECORD_SUPPLY:
        # The practice hears from the pharmacy; clinicians at the prescribing facility record it.
        if role in CLINICAL_ROLES and facility_id == access.facility_id:
            return None
        return "Only clinicians at the prescribing surgery record what happened to a prescription."
    if action == Action.REQUEST_REPEAT:
        return None if role == Role.PATIENT else "Repeats are requested by the patient; prescribers issue them."
    if action == Action.NOMINATE_PHARMACY:
        # `facility_id`: the patient's registered surgery, whose reception may record it for them.
        if role == Role.PATIENT or (role in ADMINISTRATIVE_ROLES and facility_id == access.facility_id):
            return None
        return "The patient, or reception at their surgery, names their pharmacy."
    if action == Action.REFER:
        # `facility_id`, when given, is the surgery an existing referral came from: only its clinicians
        # add to it.
        if role in CLINICAL_ROLES and user.clinician.workplace.is_gp_surgery:
            if facility_id is not None and facility_id != access.facility_id:
                return "Only clinicians at the referring surgery add to a referral."
            return None
        return "Referrals are made by clinicians at GP surgeries."
    if action == Action.TRIAGE:
        if role in CLINICAL_ROLES and facility_id == access.facility_id and not user.clinician.is_nurse:
            return None
        return "Only doctors at the receiving hospital triage its referrals and record their outcome."
    if action in (Action.REQUEST_RECORD_COPY, Action.RELEASE_RECORD_COPY):
        # `facility_id`: the surgery handling the request (the patient's registered surgery).
        if action == Action.REQUEST_RECORD_COPY and role == Role.PATIENT:
            return None
        if facility_id is not None and handles_subject_access(user) == facility_id:
            return None
        return "Copies of a record are handled by medical records staff and managers at the patient's surgery."
    if action == Action.EXPORT_RECORD:
        # Clinicians with access, and the patient, see the clinical record; reception and records staff
        # do not, so the whole record is not theirs to take (records staff produce a subject access copy).
        if access.sees_clinical:
            return None
        return "The whole record is exported only for clinicians caring for the patient and the patient themself."
    if action in (Action.MERGE_RECORDS, Action.DEREGISTER):
        # `facility_id`: the patient's registered surgery, whose records staff keep the record.
        if facility_id is not None and manages_records(user) == facility_id:
            return None
        return "Only medical records staff and managers at the patient's surgery merge records or deregister patients."
    if action == Action.UNMERGE_RECORDS:
        if facility_id is not None and is_records_manager(user) == facility_id:
            return None
        return "Only a records manager at the patient's surgery undoes a merge."
    return f"Nobody may {action.value} here."  # deny by default: an action without a rule


def reads_nothing(user: "User | None") -> bool:
    """A connected system (another organisation's Carebridge) only delivers referrals and their progress:
    it reads nothing through the APIs, the directory included; its reads answer as to someone without
    access. Patient records it could not read anyway (it has no relationships)."""
    return role_of(user) == Role.CONNECTED_SYSTEM


def may_deliver_referrals(user: "User | None", *, from_facility_id: int) -> str | None:
    """Why `user` may not deliver a referral from `from_facility_id`; None if they may: only that
    organisation's own system (a connected system's login standing for it) delivers its referrals."""
    if role_of(user) != Role.CONNECTED_SYSTEM or user is None:
        return "Only a connected system delivers referrals."
    if user.system_account.facility_id != from_facility_id:
        return "A system delivers only its own organisation's referrals."
    return None


def may_deliver_referral_updates(user: "User | None", *, receiving_facility_id: int) -> str | None:
    """Why `user` may not report the progress of a referral sent to `receiving_facility_id`; None if
    they may: only the receiving organisation's own system."""
    if role_of(user) != Role.CONNECTED_SYSTEM or user is None:
        return "Only a connected system reports on referrals."
    if user.system_account.facility_id != receiving_facility_id:
        return "A system reports only on referrals sent to its own organisation."
    return None


def works_referral_worklist(user: "User | None") -> int | None:
    """The hospital whose incoming referrals `user` works on (its clinicians and administrative staff);
    None for anyone else."""
    role = role_of(user)
    if user is None or role not in CLINICAL_ROLES | ADMINISTRATIVE_ROLES:
        return None
    facility_id = _viewer_facility_id(user, role)
    workplace = user.clinician.workplace if role in CLINICAL_ROLES else user.staff_member.facility
    return facility_id if workplace.is_hospital else None


def handles_subject_access(user: "User | None") -> int | None:
    """The GP surgery whose subject access requests `user` handles: its records staff at Standard access or
    above, and its managers; None for anyone else (reception, Basic-level records staff, hospitals)."""
    role = role_of(user)
    if user is None or role not in (Role.RECORDS, Role.FACILITY_MANAGER):
        return None
    staff = user.staff_member
    if role == Role.RECORDS and staff.access_level not in (AccessLevel.STANDARD, AccessLevel.MANAGER):
        return None
    return staff.facility_id if staff.facility.is_gp_surgery else None


def may_view_reports(user: "User | None", *, facility_id: int | None) -> str | None:
    """Why `user` may not see the managers' reports of `facility_id`; None if they may: that facility's
    own managers only. The reports count and name no patient, so no patient access is asked for."""
    if user is None or role_of(user) != Role.FACILITY_MANAGER:
        return "Reports are for the facility's managers."
    if facility_id is None or user.staff_member.facility_id != facility_id:
        return "A manager sees the reports of their own facility only."
    return None


def manages_records(user: "User | None") -> int | None:
    """The GP surgery whose patients' records `user` manages (possible duplicates, merges, deregistration
    and re-registration): the same people who handle its subject access requests."""
    return handles_subject_access(user)


def is_records_manager(user: "User | None") -> int | None:
    """The GP surgery where `user` may undo a merge: records staff at Manager access level, and its
    facility managers. Undoing splits a record again, so it is kept to fewer people than merging."""
    surgery_id = manages_records(user)
    if surgery_id is None or user is None:
        return None
    if role_of(user) == Role.RECORDS and user.staff_member.access_level != AccessLevel.MANAGER:
        return None
    return surgery_id


def works_repeat_queue(user: "User | None") -> bool:
    """Patients' repeat requests wait at their surgery for its prescribers: doctors and nurse prescribers
    working at a GP surgery see that queue."""
    if user is None or role_of(user) not in CLINICAL_ROLES:
        return False
    clinician = user.clinician
    return clinician.may_prescribe and clinician.workplace.is_gp_surgery


def permits(
    access: PatientAccess,
    user: "User",
    action: Action,
    *,
    facility_id: int | None = None,
    clinician_id: int | None = None,
) -> bool:
    """Whether to offer a link or a button for `action`: the rule's answer, never a page's own."""
    return refusal(access, user, action, facility_id=facility_id, clinician_id=clinician_id) is None


def require(
    *, actor: Actor, action: Action, patient: Patient, facility_id: int | None = None, clinician_id: int | None = None
) -> PatientAccess:
    """Care services call this before acting. Raises NotFound when `actor` may not see the patient (the
    same answer as a missing record) and NotPermitted when they may see but not do; the service's
    `refusals_audited` wrapper writes the audit row once its transaction has rolled back."""
    user = actor.user
    access = access_for(user, patient)
    if access is None or user is None:
        raise NotFound("No patient record found.")
    problem = refusal(access, user, action, facility_id=facility_id, clinician_id=clinician_id)
    if problem is not None:
        raise NotPermitted(problem)
    return access
