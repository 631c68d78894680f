"""Messages to the patient about their appointments. TEMPORARY: replaced by the delivery work."""


def appointment_booked(appointment) -> None:
    pass


def appointment_moved(appointment, old_start) -> None:
    pass


def appointment_cancelled(appointment) -> None:
    pass
