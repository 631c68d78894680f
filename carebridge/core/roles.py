"""What kind of account a login is, and the role its user works in, derived from what it is linked to.

A clinician's role follows their job title, a staff member's their job and access level, so that a
change of job in the staff record changes what the login may do without a second place to update.
"""

from enum import StrEnum
from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist
from django.db import models

if TYPE_CHECKING:
    from carebridge.accounts.models import User


class AccountKind(models.TextChoices):
    """What a login stands for. Patients, clinicians and staff are linked from their own records."""

    PATIENT = "patient", "Patient"
    CLINICIAN = "clinician", "Clinician"
    STAFF = "staff", "Staff member"
    SYSTEM_ADMIN = "system_admin", "System administrator"
    PRIVACY_OFFICER = "privacy_officer", "Privacy officer"
    # Another organisation's system (another Carebridge), linked to that organisation's facility here
    # (organisations.SystemAccount): it delivers referrals and their updates, and sees no record.
    SYSTEM = "system", "Connected system"


class Role(StrEnum):
    PATIENT = "patient"
    GP = "gp"
    SPECIALIST = "specialist"
    NURSE = "nurse"
    FRONT_DESK = "front_desk"  # receptionists, appointments coordinators, ward clerks
    RECORDS = "records"  # medical secretaries, records clerks
    FACILITY_MANAGER = "facility_manager"  # practice managers, hospital administrators
    SUPPORT = "support"  # porters and others whose work does not need patient records
    SYSTEM_ADMIN = "system_admin"
    PRIVACY_OFFICER = "privacy_officer"
    CONNECTED_SYSTEM = "connected_system"  # another organisation's system: delivers referrals only
    NONE = "none"  # a login not (or no longer) linked to anyone: may do nothing


ROLE_LABELS = {
    Role.PATIENT: "Patient",
    Role.GP: "GP",
    Role.SPECIALIST: "Specialist",
    Role.NURSE: "Nurse",
    Role.FRONT_DESK: "Reception and appointments",
    Role.RECORDS: "Records and secretarial",
    Role.FACILITY_MANAGER: "Facility manager",
    Role.SUPPORT: "Support staff",
    Role.SYSTEM_ADMIN: "System administrator",
    Role.PRIVACY_OFFICER: "Privacy officer",
    Role.CONNECTED_SYSTEM: "Connected system",
    Role.NONE: "No role",
}

CLINICAL_ROLES = frozenset({Role.GP, Role.SPECIALIST, Role.NURSE})
ADMINISTRATIVE_ROLES = frozenset({Role.FRONT_DESK, Role.RECORDS, Role.FACILITY_MANAGER})

# Staff job titles (staff.csv `role`) and the kind of work they do in Carebridge.
_STAFF_JOBS = {
    "receptionist": Role.FRONT_DESK,
    "appointments coordinator": Role.FRONT_DESK,
    "ward clerk": Role.FRONT_DESK,
    "healthcare assistant": Role.FRONT_DESK,
    "medical secretary": Role.RECORDS,
    "medical records clerk": Role.RECORDS,
    "practice manager": Role.FACILITY_MANAGER,
    "hospital administrator": Role.FACILITY_MANAGER,
}


def staff_role(job_title: str, access_level: str) -> Role:
    """The role for a staff member's job. Unknown jobs get no record access unless they manage."""
    role = _STAFF_JOBS.get(job_title.strip().lower())
    if role is not None:
        return role
    if access_level == "manager":
        return Role.FACILITY_MANAGER
    return Role.SUPPORT


def clinician_role(job_title: str, facility_is_hospital: bool) -> Role:
    title = job_title.lower()
    if "nurse" in title:
        return Role.NURSE
    if title == "gp":
        return Role.GP
    if facility_is_hospital or title == "consultant":
        return Role.SPECIALIST
    return Role.GP


def role_of(user: "User | None") -> Role:
    if user is None or not user.is_authenticated or not user.is_active:
        return Role.NONE
    cached = getattr(user, "_carebridge_role", None)
    if cached is not None:
        return cached
    role = _derive_role(user)
    user._carebridge_role = role
    return role


def _derive_role(user: "User") -> Role:
    # The linked records point at the user (one-to-one), so the reverse accessors are used here
    # rather than importing the apps above accounts.
    if user.kind == AccountKind.PATIENT:
        return Role.PATIENT if _linked(user, "patient") else Role.NONE
    if user.kind == AccountKind.CLINICIAN:
        clinician = _linked(user, "clinician")
        return clinician.role if clinician else Role.NONE
    if user.kind == AccountKind.STAFF:
        staff = _linked(user, "staff_member")
        return staff.role if staff else Role.NONE
    if user.kind == AccountKind.SYSTEM_ADMIN:
        return Role.SYSTEM_ADMIN
    if user.kind == AccountKind.PRIVACY_OFFICER:
        return Role.PRIVACY_OFFICER
    if user.kind == AccountKind.SYSTEM:
        return Role.CONNECTED_SYSTEM if _linked(user, "system_account") else Role.NONE
    return Role.NONE


def _linked(user: "User", accessor: str):
    try:
        return getattr(user, accessor)
    except ObjectDoesNotExist:
        return None


# Who may look patients up at all (what they then see is decided per patient by patients.access).
PATIENT_FINDER_ROLES = CLINICAL_ROLES | ADMINISTRATIVE_ROLES
# Who may register a patient at their own facility.
REGISTRATION_ROLES = frozenset({Role.FRONT_DESK, Role.RECORDS, Role.FACILITY_MANAGER})
