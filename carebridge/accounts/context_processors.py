from carebridge.core.roles import PATIENT_FINDER_ROLES, ROLE_LABELS, Role, role_of


def navigation(request):
    """The signed-in user's role and what the menu may offer them.

    "Register a patient" is offered by carebridge.patients.context_processors, which asks the
    registration rule itself (a GP surgery's staff only).
    """
    role = role_of(getattr(request, "user", None))
    return {
        "current_role": role,
        "current_role_label": ROLE_LABELS[role],
        "nav_find_patient": role in PATIENT_FINDER_ROLES,
        "nav_audit": role == Role.PRIVACY_OFFICER,
    }
