"""Which slots an API user may see. Shared by the REST and FHIR APIs.

Slots are not patient data, but a patient has no use for another surgery's diary and reception none
for another facility's, so each sees the slots of the one facility they book at:
  - a patient: their registered surgery (the only place they may book, DESIGN section 3);
  - a clinician: their workplace;
  - reception, records and managers: their facility;
  - everyone else (support staff, system administrators, privacy officers): none.
"""

from carebridge.accounts.models import User
from carebridge.core.roles import ADMINISTRATIVE_ROLES, CLINICAL_ROLES, Role, role_of


def slots_facility_id(user: User) -> int | None:
    """The facility whose slots `user` may see, or None for none. Reads only what auth loaded."""
    role = role_of(user)
    if role == Role.PATIENT:
        return user.patient.registered_surgery_id
    if role in CLINICAL_ROLES:
        return user.clinician.workplace_id
    if role in ADMINISTRATIVE_ROLES:
        return user.staff_member.facility_id
    return None
