"""Reads of patients by the identifiers people search with. Callers narrow the queryset by access."""

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from carebridge.patients.models import Patient, PatientMerge


def patients_matching(
    queryset: QuerySet[Patient],
    *,
    nhs_number: str = "",
    last_name: str = "",
    first_name: str = "",
    date_of_birth: dt.date | None = None,
) -> QuerySet[Patient]:
    if nhs_number:
        return queryset.filter(nhs_number=nhs_number)
    if date_of_birth is None:  # a surname alone is too wide a search; callers ask for both
        return queryset.none()
    matches = queryset.filter(last_name__iexact=last_name.strip(), date_of_birth=date_of_birth)
    if first_name.strip():
        matches = matches.filter(first_name__istartswith=first_name.strip())
    return matches


# --- Possible duplicates ---------------------------------------------------------------------------------
# One matching rule, used both when a patient is registered (patients.services.possible_duplicates) and
# on the records staff's list of possible duplicates below.


def _folded(text: str) -> str:
    """Without accents or case: "Zoë" ~ "ZOE"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(character for character in decomposed if not unicodedata.combining(character)).casefold()


def name_key(name: str) -> str:
    """A name as compared for duplicates: without accents, case or spaces ("Zoë  O Brien" ~ "zoe obrien")."""
    return "".join(_folded(name).split())


def same_person_by_name(patient: Patient, *, first_name: str, last_name: str) -> bool:
    return name_key(patient.first_name) == name_key(first_name) and name_key(patient.last_name) == name_key(last_name)


def postcode_key(postcode: str) -> str:
    """A postcode as compared: "b15 2tt" ~ "B152TT"."""
    return "".join(postcode.upper().split())


_NOT_LETTERS_OR_DIGITS = re.compile(r"[^0-9a-z]+")


def address_key(address: str) -> str:
    """An address as compared: accents, case, punctuation and spacing set aside ("12, High St." ~ "12 high st")."""
    return _NOT_LETTERS_OR_DIGITS.sub(" ", _folded(address)).strip()


@dataclass(frozen=True)
class DuplicatePair:
    """Two records that may be one person, and why they were put together."""

    first: Patient
    second: Patient
    reasons: tuple[str, ...]


def duplicate_pairs(patients: Iterable[Patient]) -> list[DuplicatePair]:
    """Pairs among `patients` that may be the same person: the same name and date of birth (the rule
    registration uses), the same postcode and date of birth, or the same address and surname.

    The same NHS number cannot happen: the database allows each number once. Patients are grouped by
    each key in Python (names fold accents alike on both databases), so this is linear in the patients
    given; the caller passes one surgery's registered patients.
    """
    reasons: dict[tuple[int, int], list[str]] = defaultdict(list)
    by_pk: dict[int, Patient] = {}
    groups: dict[str, dict[tuple, list[int]]] = {
        "Same name and date of birth": defaultdict(list),
        "Same postcode and date of birth": defaultdict(list),
        "Same address and surname": defaultdict(list),
    }
    for patient in patients:
        by_pk[patient.pk] = patient
        name = (name_key(patient.first_name), name_key(patient.last_name), patient.date_of_birth)
        groups["Same name and date of birth"][name].append(patient.pk)
        if postcode := postcode_key(patient.postcode):
            groups["Same postcode and date of birth"][(postcode, patient.date_of_birth)].append(patient.pk)
        if address := address_key(patient.address):
            groups["Same address and surname"][(address, name_key(patient.last_name))].append(patient.pk)
    for reason, grouped in groups.items():
        for members in grouped.values():
            ordered = sorted(members)
            for index, first in enumerate(ordered):
                for second in ordered[index + 1 :]:
                    reasons[(first, second)].append(reason)
    pairs = [DuplicatePair(first=by_pk[a], second=by_pk[b], reasons=tuple(why)) for (a, b), why in reasons.items()]
    # The strongest matches first (most reasons), then by name, so the list reads the same each time.
    pairs.sort(key=lambda pair: (-len(pair.reasons), pair.first.last_name, pair.first.first_name, pair.first.pk))
    return pairs


# --- Merged records ---------------------------------------------------------------------------------------


def merged_record_ids(patient: Patient) -> list[int]:
    """The record's own id and those of the records merged into it (and into those), while the merges
    stand: the audit trail is never rewritten, so a kept record's history is read under all of them."""
    ids = [patient.pk]
    frontier = [patient.pk]
    while frontier:
        retired = list(
            PatientMerge.objects.filter(survivor_id__in=frontier, unmerged_at__isnull=True).values_list(
                "retired_id", flat=True
            )
        )
        frontier = [pk for pk in retired if pk not in ids]
        ids += frontier
    return ids
