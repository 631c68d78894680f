"""Why a scheduling change was refused, in words for the person who asked."""


class SchedulingRefused(Exception):
    """A rule refused the change. Nothing was changed; the refusal was audited."""

    code = "refused"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SlotUnavailable(SchedulingRefused):
    """Someone else holds the slot (HTTP 409 in the APIs)."""

    code = "slot-taken"

    def __init__(self, message: str = "That time has just been taken. Please choose another."):
        super().__init__(message)


class NotPermitted(SchedulingRefused):
    """The actor's role or workplace does not allow this change."""

    code = "not-permitted"
