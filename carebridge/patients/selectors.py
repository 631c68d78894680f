"""Reads of patients by the identifiers people search with. Callers narrow the queryset by access."""

import datetime as dt

from django.db.models import QuerySet

from carebridge.patients.models import Patient


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
