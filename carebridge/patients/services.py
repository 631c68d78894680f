"""Writes to patient demographics. One transaction each, with its audit row."""

import datetime as dt
import re

from django.db import IntegrityError, transaction

from carebridge.accounts.invitations import invitation_link
from carebridge.accounts.models import AccountKind, User
from carebridge.accounts.services import user_create
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.refusals import refusals_audited
from carebridge.audit.services import audit_record
from carebridge.core import clock, nhs_number
from carebridge.core.actor import Actor
from carebridge.core.errors import Conflict, Invalid, NotFound, full_clean_or_refuse
from carebridge.core.roles import REGISTRATION_ROLES, role_of
from carebridge.delivery.models import OutboundEmail
from carebridge.delivery.services import email_enqueue, email_is_valid_address
from carebridge.organisations.models import Facility
from carebridge.patients.models import Gender, Patient
from carebridge.patients.selectors import same_person_by_name


def _registration_surgery(user: User | None) -> Facility | None:
    """The GP surgery this person registers patients at, or None if they may not register anyone.

    Registration is with a GP surgery: a patient's record in Carebridge hangs from their registered
    surgery, and a hospital does not register patients. Hospital staff find the patients referred or
    booked to them with the patient search (their care relationships), never by registering them anew.
    """
    staff = getattr(user, "staff_member", None) if user is not None else None
    if role_of(user) not in REGISTRATION_ROLES or staff is None or not staff.facility.is_gp_surgery:
        return None
    return staff.facility


def may_register_patients(user: User | None) -> bool:
    """Whether to offer this person "Register a patient": the same rule the registration itself keeps."""
    return _registration_surgery(user) is not None


def registering_facility(actor: Actor) -> Facility:
    """The GP surgery a receptionist registers patients at: their own, and only if it is a surgery."""
    surgery = _registration_surgery(actor.user)
    if surgery is None:
        # A page for a role that may not use it: not there (the view audits the refusal).
        raise NotFound("Only reception and records staff at a GP surgery register patients.")
    return surgery


# --- Possible duplicates --------------------------------------------------------------------------------


def possible_duplicates(*, first_name: str, last_name: str, date_of_birth: dt.date) -> list[Patient]:
    """Patients already in Carebridge with the same first name, last name and date of birth.

    Compared in Python rather than by the database, so accents fold the same way on SQLite and
    PostgreSQL; the date of birth (indexed) narrows the candidates to a handful first.
    """
    # Records retired by a merge are not candidates: their person is the record that was kept.
    candidates = Patient.objects.filter(date_of_birth=date_of_birth, merged_into__isnull=True).select_related(
        "registered_surgery"
    )
    return [
        patient for patient in candidates if same_person_by_name(patient, first_name=first_name, last_name=last_name)
    ]


class PossibleDuplicate(Conflict):
    """Registering would create a second record for someone who may already have one.

    `shown` are the matches registered at the registering person's own surgery, whose details they may
    see. Matches at other surgeries are only counted (`elsewhere`): a receptionist may not see who is
    registered at another practice, only that such a person exists and they should check first.
    """

    code = "possible-duplicate"

    def __init__(self, *, shown: list[Patient], elsewhere: int):
        parts = []
        if shown:
            parts.append(
                "A patient at this surgery has the same name and date of birth."
                if len(shown) == 1
                else f"{len(shown)} patients at this surgery have the same name and date of birth."
            )
        if elsewhere:
            parts.append("A patient with the same name and date of birth is registered at another surgery.")
        parts.append("Check this is a different person before registering them.")
        super().__init__(" ".join(parts))
        self.shown = shown
        self.elsewhere = elsewhere


def patient_register(
    *,
    actor: Actor,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    nhs_number_text: str,
    gender: str,
    phone_number: str = "",
    email: str = "",
    address: str = "",
    postcode: str = "",
    emergency_contact_name: str = "",
    emergency_contact_phone: str = "",
    confirm_possible_duplicate: bool = False,
) -> Patient:
    """Register a new patient at the actor's own surgery.

    A new registration must carry a valid NHS number, or none at all while the number is traced;
    unlike imported records, an invalid number is refused here, and so is a number already in
    Carebridge (Invalid, whatever is confirmed).

    The same first name, last name and date of birth as a patient already in Carebridge (compared
    without case, accents or spaces) is refused with PossibleDuplicate unless
    `confirm_possible_duplicate`: the receptionist must look, and say this is someone else. Telling
    them a match exists discloses that patient, so each match gets an audit row, written before the
    refusal and outside the registration's transaction so that it stays. A confirmed registration's
    own audit row names the patients it was confirmed against.
    """
    surgery = registering_facility(actor)
    number = nhs_number.normalise(nhs_number_text) or None
    errors: dict[str, str] = {}
    if number is not None and (problem := nhs_number.problem(number)):
        errors["nhs_number"] = problem
    if date_of_birth > clock.today():
        errors["date_of_birth"] = "Date of birth must be today or in the past."
    if gender not in Gender.values:
        errors["gender"] = "Choose the patient's gender."
    if number is not None and "nhs_number" not in errors and Patient.objects.filter(nhs_number=number).exists():
        # Saying so tells the receptionist the number is already known to Carebridge; NHS numbers are
        # not secret (PDS answers the same question), and a duplicate registration is a clinical risk.
        errors["nhs_number"] = (
            "A patient with this NHS number is already registered in Carebridge. "
            "Ask the records team to transfer their registration."
        )
    if errors:
        raise Invalid(" ".join(errors.values()), fields=errors)
    matches = possible_duplicates(first_name=first_name, last_name=last_name, date_of_birth=date_of_birth)
    if matches and not confirm_possible_duplicate:
        shown = [patient for patient in matches if patient.registered_surgery_id == surgery.pk]
        for patient in matches:
            audit_record(
                actor=actor,
                action=AuditAction.SEARCH,
                object_type=AuditObject.PATIENT_REGISTRATION,
                object_id=str(patient.public_id),
                patient_id=patient.pk,
                detail={"possible_duplicate": "shown" if patient in shown else "said to exist at another surgery"},
            )
        raise PossibleDuplicate(shown=shown, elsewhere=len(matches) - len(shown))
    with transaction.atomic():
        return _patient_create(
            actor=actor,
            surgery=surgery,
            number=number,
            confirmed_against=matches,
            first_name=first_name,
            last_name=last_name,
            date_of_birth=date_of_birth,
            gender=gender,
            phone_number=phone_number,
            email=email,
            address=address,
            postcode=postcode,
            emergency_contact_name=emergency_contact_name,
            emergency_contact_phone=emergency_contact_phone,
        )


def _patient_create(
    *,
    actor: Actor,
    surgery: Facility,
    number: str | None,
    confirmed_against: list[Patient],
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    gender: str,
    phone_number: str,
    email: str,
    address: str,
    postcode: str,
    emergency_contact_name: str,
    emergency_contact_phone: str,
) -> Patient:
    now = clock.now()
    patient = Patient(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        nhs_number=number,
        nhs_number_verified=number is not None,
        gender=gender,
        phone_number=phone_number.strip(),
        email=email.strip(),
        address=address.strip(),
        postcode=postcode.strip().upper(),
        emergency_contact_name=emergency_contact_name.strip(),
        emergency_contact_phone=emergency_contact_phone.strip(),
        registration_date=clock.today(),
        registered_surgery=surgery,
        created_at=now,
        updated_at=now,
    )
    full_clean_or_refuse(patient)
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError:
        # Two receptionists registering the same number at once: the database's unique constraint
        # decides, and the loser gets the same message as above.
        taken = "A patient with this NHS number is already registered in Carebridge."
        raise Invalid(taken, fields={"nhs_number": taken}) from None
    detail: dict[str, object] = {"registered_surgery": surgery.source_id or str(surgery.public_id)}
    if confirmed_against:
        # The receptionist said this is a different person from these patients: who they were, for
        # whoever later merges or untangles the records.
        detail["possible_duplicate_confirmed"] = sorted(str(match.public_id) for match in confirmed_against)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.PATIENT,
        object_id=str(patient.public_id),
        patient_id=patient.pk,
        detail=detail,
    )
    return patient


# --- Portal invitation ---------------------------------------------------------------------------------


@refusals_audited(AuditObject.PORTAL_INVITATION)
@transaction.atomic
def patient_portal_invite(*, actor: Actor, patient: Patient) -> User:
    """Invite the patient to the portal: email them a one-time link to set their password (72 hours).

    Reception, records staff and managers at the patient's registered surgery only; anyone else is
    refused with NotFound, and the refusal is audited after the work is rolled back. The patient needs
    an email address on their record, and no portal account already in use (Invalid otherwise, with a
    message for the receptionist). Creates the patient's login
    (username: their email address) when they have none; a login never used is reused, and a new
    invitation makes the links of earlier ones stop working. Returns the login.
    """
    staff = getattr(actor.user, "staff_member", None) if actor.user else None
    if (
        role_of(actor.user) not in REGISTRATION_ROLES
        or staff is None
        or staff.facility_id != patient.registered_surgery_id
    ):
        raise NotFound("Only reception and records staff at the patient's own surgery invite them to the portal.")
    # Locked, so two receptionists pressing the button at once send one invitation after the other.
    patient = Patient.objects.select_for_update().select_related("registered_surgery").get(pk=patient.pk)
    address = patient.email.strip()
    if not address or not email_is_valid_address(address):
        raise Invalid("There is no email address on this patient's record to send the invitation to. Add one first.")
    if patient.user_id is None:
        user = _portal_user_create(actor=actor, patient=patient, address=address)
    else:
        # Locked and read afresh: a password set through an earlier link a moment ago must be seen
        # here, not overwritten with an unusable one.
        user = User.objects.select_for_update().get(pk=patient.user_id)
        if not user.is_active:
            raise Invalid("This patient's portal account has been closed. Ask the system administrator to reopen it.")
        if user.has_usable_password():
            raise Invalid("This patient already uses the portal: they sign in with their own password.")
        # A fresh unusable password: links in earlier invitations stop working, only the newest one works.
        user.set_unusable_password()
        user.email = address
        user.save(update_fields=["password", "email"])
    link, expires_at = invitation_link(user)
    surgery = patient.registered_surgery
    earlier = OutboundEmail.objects.filter(idempotency_key__startswith=f"portal-invite:{patient.public_id}:").count()
    email = email_enqueue(
        recipient=address,
        subject=f"{surgery.name} invites you to Carebridge",
        patient_id=patient.pk,
        idempotency_key=f"portal-invite:{patient.public_id}:{earlier + 1}",
        body="\n".join(
            [
                f"Dear {patient.full_name},",
                "",
                f"{surgery.name} has invited you to Carebridge, where you can see your record and book, move "
                "or cancel your appointments online.",
                "",
                "To start, set your password here:",
                "",
                link,
                "",
                f"The link works once, until {_spoken(expires_at)}. Your username is:",
                "",
                f"    {user.username}",
                "",
                f"If you did not expect this email, you can ignore it, or phone {surgery.name}"
                + (f" on {surgery.phone_number}." if surgery.phone_number else "."),
                "",
                f"{surgery.name}, through Carebridge",
                "This mailbox is not read, so please do not reply to this email.",
                "",
            ]
        ),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.PORTAL_INVITATION,
        object_id=str(patient.public_id),
        patient_id=patient.pk,
        detail={"user": user.pk, "email": str(email.public_id), "expires_at": expires_at.isoformat()},
    )
    return user


# What Django's username validator accepts (most addresses; not those with ! # $ % & ' * / = ? ^ ` { | } ~).
_USERNAME_SAFE = re.compile(r"^[\w.@+-]+\Z")


def _portal_user_create(*, actor: Actor, patient: Patient, address: str) -> User:
    """The patient's login, named by their email address, as people expect to sign in.

    Family members often share an address, so when the name is taken the next of address-2,
    address-3, ... is used; the invitation tells the patient exactly what theirs is.
    """
    base = address.lower()
    if len(base) > 140 or not _USERNAME_SAFE.match(base):
        # Longer than a username may be, or holding characters one may not: the opaque ID instead,
        # which the invitation spells out.
        base = f"patient-{patient.public_id.hex[:12]}"
    for number in range(1, 100):
        username = base if number == 1 else f"{base}-{number}"
        if User.objects.filter(username__iexact=username).exists():
            continue
        try:
            with transaction.atomic():
                return user_create(
                    actor=actor,
                    username=username,
                    kind=AccountKind.PATIENT,
                    password=None,
                    first_name=patient.first_name[:150],
                    last_name=patient.last_name[:150],
                    email=address,
                    linked_record=patient,
                )
        except IntegrityError:
            # Taken between the look and the insert, by another invitation: try the next name.
            continue
    raise Invalid("Could not choose a username for this patient. Ask the system administrator.")


def _spoken(moment: dt.datetime) -> str:
    local = moment.astimezone(clock.LONDON)
    return f"{local:%H:%M} on {local:%A} {local.day} {local:%B %Y}"
