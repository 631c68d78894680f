"""FHIR search parameters (dates with prefixes, references, tokens, strings) and searchset Bundles.

Parameters the server does not know are ignored, as FHIR allows (lenient handling), and left out of the
Bundle's self link; with `Prefer: handling=strict` they answer 400 (views.used_parameters). A known
parameter with a value that cannot be read answers 400.
"""

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db.models import Q, QuerySet
from django.http import HttpRequest, QueryDict
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

from carebridge.core import clock
from carebridge.fhir.outcomes import bad_request, unprocessable

DEFAULT_COUNT = 50
MAX_COUNT = 200
# Far beyond any search's results, and small enough that the database's 64-bit OFFSET never overflows.
MAX_OFFSET = 1_000_000_000

_DATE_VALUE = re.compile(r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb)?(?P<value>\d{4}(?:-\d{2}(?:-\d{2}(?:T.+)?)?)?)$")

Row = TypeVar("Row")


# --- Values ---------------------------------------------------------------------------------------


def reference_id(value: str, resource_type: str, *, base_url: str | None = None) -> uuid.UUID | None:
    """The id in `Type/id`, `id` or `https://.../Type/id`; None when it names another type or no UUID, or
    (given this server's `base_url`) a resource on another server, which no search here can find."""
    if base_url is not None and _ABSOLUTE.match(value.strip()) and not value.strip().startswith(base_url):
        return None
    parts = value.strip().rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] != resource_type:
        return None
    try:
        return uuid.UUID(parts[-1])
    except ValueError:
        return None


_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def refuse_foreign_references(resource: Resource, base_url: str) -> None:
    """422 when the resource references anything by an absolute URL outside this server's base.

    reference_id() reads only the type and id of a reference, so `http://elsewhere/fhir/Slot/<id>` would
    otherwise be taken as this server's Slot with that id: a record booked or linked on a guess."""
    foreign: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "reference" and isinstance(item, str):
                    target = item.strip()
                    if _ABSOLUTE.match(target) and not target.startswith(base_url):
                        foreign.append(target)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(resource.model_dump_json()))
    if foreign:
        raise unprocessable(
            f"{foreign[0]} is not on this server: reference Carebridge's own resources, as Type/<id> "
            f"or {base_url}Type/<id>.",
            code="not-found",
        )


def token(value: str) -> tuple[str | None, str]:
    """`system|code` → (system, code); `|code` → ("", code) (no system); `code` → (None, code) (any system)."""
    if "|" in value:
        system, _, code = value.partition("|")
        return system, code
    return None, value


def _date_range(raw: str) -> tuple[dt.datetime, dt.datetime, dt.date, dt.date]:
    """The span a FHIR date/dateTime value stands for, as [lower, upper) instants and dates."""
    # Each day is checked against the supported ones (clock.supported_day) before any arithmetic on it,
    # which would overflow near year 1 or 9999.
    if len(raw) == 4:
        first = clock.supported_day(dt.date(int(raw), 1, 1))
        after = dt.date(first.year + 1, 1, 1)
    elif len(raw) == 7:
        first = clock.supported_day(dt.date(int(raw[:4]), int(raw[5:7]), 1))
        after = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    elif len(raw) == 10:
        first = clock.supported_day(dt.date.fromisoformat(raw))
        after = first + dt.timedelta(days=1)
    else:
        moment = dt.datetime.fromisoformat(raw)
        clock.supported_day(moment.date())
        if moment.tzinfo is None:
            # FHIR wants a zone with a time; a bare one is read as the facilities' (UK) wall clock.
            moment = moment.replace(tzinfo=clock.LONDON)
        local = moment.astimezone(clock.LONDON).date()
        return moment, moment + dt.timedelta(seconds=1), local, local + dt.timedelta(days=1)
    return (clock.london_datetime(first, dt.time.min), clock.london_datetime(after, dt.time.min), first, after)


def date_filter(field: str, raw: str, *, parameter: str, date_only: bool = False) -> Q:
    """One FHIR date search value (`ge2026-12-01`, `2026-12-01T09:00:00Z`, ...) as a filter on `field`."""
    # A "+" in a zone offset arrives as a space when the client did not percent-encode it.
    match = _DATE_VALUE.match(raw.strip().replace(" ", "+"))
    if not match:
        raise bad_request(
            f"{parameter}={raw}: give a date (2026-12-01) or date and time, "
            "optionally after eq, ne, gt, ge, lt, le, sa or eb.",
            expression=[parameter],
        )
    prefix = match["prefix"] or "eq"
    try:
        lower, upper, first_day, day_after = _date_range(match["value"])
    except clock.DateOutOfRange as error:
        raise bad_request(f"{parameter}={raw}: {error}", expression=[parameter]) from None
    except ValueError:
        raise bad_request(f"{parameter}={raw}: that is not a date.", expression=[parameter]) from None
    if date_only:
        lower, upper = first_day, day_after
    within = Q(**{f"{field}__gte": lower, f"{field}__lt": upper})
    return {
        "eq": within,
        "ne": ~within,
        "gt": Q(**{f"{field}__gte": upper}),
        "sa": Q(**{f"{field}__gte": upper}),
        "ge": Q(**{f"{field}__gte": lower}),
        "lt": Q(**{f"{field}__lt": lower}),
        "eb": Q(**{f"{field}__lt": lower}),
        "le": Q(**{f"{field}__lt": upper}),
    }[prefix]


def string_filter(field: str, params: QueryDict, name: str) -> Q | None:
    """A FHIR string parameter: starts-with by default; `:exact` and `:contains` as FHIR defines them."""
    for key, lookup in ((name, "istartswith"), (f"{name}:exact", "exact"), (f"{name}:contains", "icontains")):
        value = params.get(key)
        if value:
            return Q(**{f"{field}__{lookup}": value.strip()})
    return None


# --- Paging and Bundles -------------------------------------------------------------------------------


def page(params: QueryDict) -> tuple[int, int]:
    """(_count, _offset): how many entries per page, and where this page starts."""
    try:
        count = int(params.get("_count", DEFAULT_COUNT))
        offset = int(params.get("_offset", 0))
    except ValueError:
        raise bad_request("_count and _offset must be whole numbers.") from None
    if count < 0 or offset < 0:
        raise bad_request("_count and _offset cannot be negative.")
    if offset > MAX_OFFSET:
        raise bad_request(f"_offset can be at most {MAX_OFFSET:,}.", expression=["_offset"])
    return min(count, MAX_COUNT), offset


def searchset(
    request: HttpRequest, base_url: str, queryset: QuerySet[Row] | Sequence[Row], build: Callable[[Row], Resource]
) -> tuple[Bundle, list[Row]]:
    """A searchset Bundle of one page of `queryset`, with its total and self (and next) links."""
    count, offset = page(request.GET)
    total = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
    rows = list(queryset[offset : offset + count])
    resources = [build(row) for row in rows]
    # Built from request.GET, which holds only the parameters the search used (views.used_parameters):
    # a parameter the server ignored is left out, so the client can tell it was ignored (R4 search, "Handling Errors").
    self_url = request.build_absolute_uri(f"{request.path}?{request.GET.urlencode()}" if request.GET else request.path)
    links = [{"relation": "self", "url": self_url}]
    if offset + count < total and count:
        following = request.GET.copy()
        following["_count"] = str(count)
        following["_offset"] = str(offset + count)
        links.append({"relation": "next", "url": request.build_absolute_uri(f"{request.path}?{following.urlencode()}")})
    bundle = Bundle(
        id=str(uuid.uuid4()),
        meta={"lastUpdated": clock.now()},
        type="searchset",
        total=total,
        link=links,
        entry=[
            {
                "fullUrl": f"{base_url}{resource.get_resource_type()}/{resource.id}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ]
        or None,
    )
    return bundle, rows
