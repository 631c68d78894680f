"""Scheduling's own refusal: the slot has just gone. Every other refusal is from carebridge.core.errors."""

from carebridge.core.errors import Conflict


class SlotUnavailable(Conflict):
    """Someone else holds the slot, or it is no longer offered (409 in the APIs, DUPLICATE_REJECTED in FHIR)."""

    code = "slot-taken"

    def __init__(self, message: str = "That time has just been taken. Please choose another."):
        super().__init__(message)
