from carebridge.patients.services import may_register_patients


def navigation(request):
    """Whether the menu and home page offer "Register a patient": asked of the registration rule itself."""
    return {"nav_register_patient": may_register_patients(getattr(request, "user", None))}
