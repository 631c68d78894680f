"""The demo data set: a small area of the West Midlands, in the coursework's seven-file CSV shape.

`DemoDataset(patients=N, seed=S, today=D)` describes everything; `rows_by_file()` hands the rows out
as the CSV importer takes them: per file, an iterator of (line number, row) where the row is a dict
keyed by the coursework's headers with string values. Nothing is written here; the importer does that,
and so validates the demo exactly as it validates anyone's data.

How it stays consistent and small:
- Facilities, clinicians and staff are few (they scale with the patient count, about one GP per 1,800
  patients) and are built up front.
- Patients are made one at a time, each with their own appointments, prescriptions and referrals, so
  that those agree with each other (a prescription at a visit is dated that visit and signed by that
  GP; a referral's appointment comes after the referral, with a consultant of the right speciality).
  The rows of the files the importer has not reached yet wait in a `Spool`, which moves to disk when
  it grows: memory stays flat however many patients there are.
- No clinician is ever double-booked: every clinician has a fixed grid of slots per working day and a
  counter per day of how many are taken, and each booking takes the next free one (in an order
  shuffled per clinician and day, so a diary does not fill from 08:30 down). Slots are as long as the
  longest appointment booked into them, so no two appointments of one clinician overlap. A patient is
  never booked twice on one day.
- Appointments are on weekdays that are not bank holidays in England, inside the clinician's sessions,
  which lie inside the facility's opening hours. Nurses never prescribe or refer; GPs refer only their
  own surgery's patients, to consultants; a completed referral never points at an appointment.
- Every random choice comes from one random generator seeded with `seed` and drawn from in a fixed
  order (nothing depends on set or hash order), and dates are counted from `today`: the same seed on
  the same day gives the same data set, in any process.
"""

import bisect
import datetime as dt
import itertools
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TypeVar

from carebridge.core import nhs_number
from carebridge.demo import clinical, names, places
from carebridge.demo.spool import Row, Spool

DEFAULT_SEED = 20260
DEFAULT_PATIENTS = 1200

# The coursework's headers, in its column order.
HEADERS: dict[str, tuple[str, ...]] = {
    "facilities.csv": (
        "facility_id",
        "facility_name",
        "facility_type",
        "address",
        "postcode",
        "phone_number",
        "email",
        "opening_hours",
        "manager_name",
        "capacity",
        "specialities_offered",
    ),
    "clinicians.csv": (
        "clinician_id",
        "first_name",
        "last_name",
        "title",
        "speciality",
        "gmc_number",
        "phone_number",
        "email",
        "workplace_id",
        "workplace_type",
        "employment_status",
        "start_date",
    ),
    "staff.csv": (
        "staff_id",
        "first_name",
        "last_name",
        "role",
        "department",
        "facility_id",
        "phone_number",
        "email",
        "employment_status",
        "start_date",
        "line_manager",
        "access_level",
    ),
    "patients.csv": (
        "patient_id",
        "first_name",
        "last_name",
        "date_of_birth",
        "nhs_number",
        "gender",
        "phone_number",
        "email",
        "address",
        "postcode",
        "emergency_contact_name",
        "emergency_contact_phone",
        "registration_date",
        "gp_surgery_id",
    ),
    "appointments.csv": (
        "appointment_id",
        "patient_id",
        "clinician_id",
        "facility_id",
        "appointment_date",
        "appointment_time",
        "duration_minutes",
        "appointment_type",
        "status",
        "reason_for_visit",
        "notes",
        "created_date",
        "last_modified",
    ),
    "prescriptions.csv": (
        "prescription_id",
        "patient_id",
        "clinician_id",
        "appointment_id",
        "prescription_date",
        "medication_name",
        "dosage",
        "frequency",
        "duration_days",
        "quantity",
        "instructions",
        "pharmacy_name",
        "status",
        "issue_date",
        "collection_date",
    ),
    "referrals.csv": (
        "referral_id",
        "patient_id",
        "referring_clinician_id",
        "referred_to_clinician_id",
        "referring_facility_id",
        "referred_to_facility_id",
        "referral_date",
        "urgency_level",
        "referral_reason",
        "clinical_summary",
        "requested_investigations",
        "status",
        "appointment_id",
        "notes",
        "created_date",
        "last_updated",
    ),
}
FILE_NAMES: tuple[str, ...] = tuple(HEADERS)
_PATIENT_FILES = ("patients.csv", "appointments.csv", "prescriptions.csv", "referrals.csv")

# ID widths: room for a million patients and the several million appointments they would bring.
ID_FORMATS = {
    "surgery": "S{:03d}",
    "hospital": "H{:03d}",
    "clinician": "C{:04d}",
    "staff": "ST{:04d}",
    "patient": "P{:07d}",
    "appointment": "A{:07d}",
    "prescription": "RX{:07d}",
    "referral": "R{:07d}",
}

# How far back the history goes, and how far ahead appointments are booked.
HISTORY_DAYS = 365
UPCOMING_DAYS = 42
# Patients per GP surgery once the area grows past the default four surgeries (a typical list size).
PATIENTS_PER_SURGERY = 8000
# Patients made per step; their rows are handed on together.
BATCH_PATIENTS = 500

# Consultants in these specialities are surgeons.
SURGICAL_SPECIALITIES = frozenset({"Orthopaedics", "ENT", "Urology", "Gynaecology", "General Surgery"})

GP_SLOT_MINUTES = 15
NURSE_SLOT_MINUTES = 20
CONSULTANT_SLOT_MINUTES = 30

# NHS numbers: the nine digits before the check digit start 99. NHS England keeps 999 xxx xxxx for test
# data and numbers from 900 are not issued, so no demo patient shares a number with a real person.
_NHS_BASE = 990_000_000
_NHS_SPAN = 10_000_000
_NHS_STEP = 3_761_609  # odd and not a multiple of 5, so stepping through the span visits every number once

_DRAMA_MOBILE = "07700900{:03d}"  # Ofcom's drama range: 07700 900000 to 900999
_DRAMA_LANDLINE = "0121-496-{:04d}"  # Ofcom's drama range for Birmingham: 0121 496 0000 to 0999
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

T = TypeVar("T")


@dataclass(frozen=True)
class DemoCast:
    """Source IDs of the people the demo logins stand for."""

    patient: str
    gp: str
    nurse: str
    specialist: str
    reception: str
    hospital_reception: str
    manager: str


@dataclass(eq=False)
class _Facility:
    source_id: str
    name: str
    is_hospital: bool
    address: str
    postcode: str
    phone: str
    domain: str
    opening_hours: str
    open_minute: int  # weekday opening and closing, minutes after midnight
    close_minute: int
    manager_name: str
    capacity: int
    specialities: tuple[str, ...]
    area: places.Area | None = None
    hospital: places.Hospital | None = None
    list_size: int = 0
    pharmacies: tuple[str, ...] = ()
    gps: list["_Clinician"] = field(default_factory=list)
    gp_weights: list[float] = field(default_factory=list)  # running total, for choosing a patient's usual GP
    nurses: list["_Clinician"] = field(default_factory=list)
    consultants: dict[str, list["_Clinician"]] = field(default_factory=dict)
    # Surgeries only: where their referrals go for each speciality (the nearest hospital offering it).
    referral_hospital: dict[str, "_Facility"] = field(default_factory=dict)


@dataclass(eq=False)
class _Clinician:
    source_id: str
    honorific: str
    first_name: str
    last_name: str
    title: str
    speciality: str
    registration: str
    phone: str
    email: str
    facility: _Facility
    employment: str
    start_date: dt.date
    workdays: frozenset[int]  # 0 = Monday
    slot_minutes: int
    slots: tuple[int, ...]  # session start times (minutes after midnight), in booking order
    # The weekly sessions the slots come from: (start, end) minutes after midnight on each workday.
    sessions: tuple[tuple[int, int], ...] = ()
    booked: dict[int, int] = field(default_factory=dict)  # day ordinal -> slots taken

    @property
    def display_name(self) -> str:
        return f"{self.honorific} {self.first_name} {self.last_name}"


@dataclass(eq=False)
class _Staff:
    source_id: str
    first_name: str
    last_name: str
    role: str
    department: str
    facility: _Facility
    phone: str
    email: str
    employment: str
    start_date: dt.date
    line_manager: str
    access_level: str

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@cache
def _iso(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def england_bank_holidays(year: int) -> set[dt.date]:
    """England's regular bank holidays (substitute days included; one-off extra holidays are not)."""
    easter = _easter_sunday(year)
    fixed = [
        dt.date(year, 1, 1),
        easter - dt.timedelta(days=2),  # Good Friday
        easter + dt.timedelta(days=1),  # Easter Monday
        _first_monday(year, 5),
        _last_monday(year, 5),
        _last_monday(year, 8),
    ]
    holidays: set[dt.date] = set()
    for day in fixed:
        while day.weekday() >= 5:  # New Year's Day at a weekend moves to the Monday
            day += dt.timedelta(days=1)
        holidays.add(day)
    # Christmas and Boxing Day: a day that falls at a weekend moves to the next weekday still free.
    christmas = [dt.date(year, 12, 25), dt.date(year, 12, 26)]
    taken = {day for day in christmas if day.weekday() < 5}
    for day in christmas:
        if day.weekday() >= 5:
            while day.weekday() >= 5 or day in taken:
                day += dt.timedelta(days=1)
            taken.add(day)
    return holidays | taken


def _easter_sunday(year: int) -> dt.date:
    # The anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _first_monday(year: int, month: int) -> dt.date:
    day = dt.date(year, month, 1)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def _last_monday(year: int, month: int) -> dt.date:
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = next_month - dt.timedelta(days=1)
    return last - dt.timedelta(days=last.weekday())


class _QuickRandom(random.Random):
    """random.Random with randint, randrange and choice taken straight from random().

    The standard versions draw whole random bits to be exactly uniform, and cost three times as much;
    they are most of the generator's time. Scaling a float is uniform to within one part in 2**50,
    which no demo can show. Seeded the same, it gives the same numbers on every platform.
    """

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        if stop is None:
            return int(self.random() * start)
        return start + step * int(self.random() * ((stop - start + step - 1) // step))

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]
        return seq[int(self.random() * len(seq))]

    def weighted(self, items: Sequence[T], cumulative: Sequence[float]) -> T:
        """One of `items`, each as likely as its share of the running total of weights `cumulative`."""
        return items[bisect.bisect(cumulative, self.random() * cumulative[-1], 0, len(items) - 1)]


class DemoDataset:
    """The demo area and its people. Cheap to build; patients are made only as their rows are read."""

    def __init__(
        self, *, patients: int = DEFAULT_PATIENTS, seed: int = DEFAULT_SEED, today: dt.date | None = None
    ) -> None:
        if patients < 1:
            raise ValueError("The demo needs at least one patient.")
        if patients > 9_999_999:
            raise ValueError("The demo's patient IDs have room for 9,999,999 patients.")
        if today is None:
            from carebridge.core import clock

            today = clock.today()
        self.patients = patients
        self.seed = seed
        self.today = today
        self._rng = _QuickRandom(seed)
        self._today = today.toordinal()
        self._closed = {
            day.toordinal() for year in range(today.year - 2, today.year + 2) for day in england_bank_holidays(year)
        }
        self.facilities: list[_Facility] = []
        self.clinicians: list[_Clinician] = []
        self.staff: list[_Staff] = []
        self._registrations: set[str] = set()
        self._emails: set[str] = set()
        self._build_area()
        self.cast = self._choose_cast()
        self._surgery_of_patient = self._deal_patients()
        # What the patient pass has got to.
        self._made = 0
        self._nhs_cursor = self._rng.randrange(_NHS_SPAN)
        self._next = {"appointment": 1, "prescription": 1, "referral": 1}
        self._spools = {name: Spool() for name in _PATIENT_FILES}
        self.row_counts = dict.fromkeys(FILE_NAMES, 0)
        self.generate_seconds = 0.0  # time spent making patients' rows (reported by seed-demo)

    # ---- What the importer reads ----------------------------------------------------------------

    def rows_by_file(self) -> dict[str, Iterator[tuple[int, dict[str, str]]]]:
        """Per file, its rows as (line number, row): line 1 is the header, as in a real file."""
        streams: dict[str, Iterator[tuple[int, dict[str, str]]]] = {
            "facilities.csv": self._fixed_rows("facilities.csv", [self._facility_row(f) for f in self.facilities]),
            "clinicians.csv": self._fixed_rows("clinicians.csv", [self._clinician_row(c) for c in self.clinicians]),
            "staff.csv": self._fixed_rows("staff.csv", [self._staff_row(s) for s in self.staff]),
        }
        for name in _PATIENT_FILES:
            streams[name] = self._patient_rows(name)
        return streams

    def close(self) -> None:
        for spool in self._spools.values():
            spool.close()

    def _fixed_rows(self, name: str, rows: list[Row]) -> Iterator[tuple[int, dict[str, str]]]:
        header = HEADERS[name]
        for line, values in enumerate(rows, start=2):
            self.row_counts[name] += 1
            yield line, dict(zip(header, values, strict=True))

    def _patient_rows(self, name: str) -> Iterator[tuple[int, dict[str, str]]]:
        header = HEADERS[name]
        spool = self._spools[name]
        line = 1
        while True:
            batch = spool.take()
            if batch is None:
                if self._made >= self.patients:
                    return
                # Whichever file is read first drives the making; the others' rows wait in their spools.
                self._make_batch()
                continue
            for values in batch:
                line += 1
                yield line, dict(zip(header, values, strict=True))
            self.row_counts[name] += len(batch)

    def _make_batch(self) -> None:
        started = time.perf_counter()
        out: dict[str, list[Row]] = {name: [] for name in _PATIENT_FILES}
        stop = min(self.patients, self._made + BATCH_PATIENTS)
        while self._made < stop:
            self._made += 1
            self._make_patient(self._made, out)
        for name, rows in out.items():
            self._spools[name].put(rows)
        self.generate_seconds += time.perf_counter() - started

    # ---- The area: facilities, clinicians, staff --------------------------------------------------

    def _build_area(self) -> None:
        rng = self._rng
        surgery_count = max(4, math.ceil(self.patients / PATIENTS_PER_SURGERY))
        # List sizes vary from practice to practice; the first surgery is the largest (the demo's own).
        weights = [rng.uniform(0.75, 1.3) for _ in range(surgery_count)]
        sizes = [int(self.patients * w / sum(weights)) for w in weights]
        sizes[0] += self.patients - sum(sizes)
        sizes.sort(reverse=True)

        # Landlines from the 1,000 drama numbers, shuffled; a demo with more facilities than that reuses them.
        landlines = rng.sample(range(1000), 1000)
        phones = (landlines[index % 1000] for index in itertools.count())
        hospitals: list[_Facility] = []
        for number, hospital in enumerate(places.HOSPITALS, start=1):
            hospitals.append(
                _Facility(
                    source_id=ID_FORMATS["hospital"].format(number),
                    name=hospital.name,
                    is_hospital=True,
                    address=hospital.address,
                    postcode=hospital.postcode,
                    phone=_DRAMA_LANDLINE.format(next(phones)),
                    domain=hospital.domain,
                    opening_hours=hospital.opening_hours,
                    open_minute=hospital.outpatients_open,
                    close_minute=hospital.outpatients_close,
                    manager_name=hospital.manager_name,
                    capacity=hospital.capacity,
                    specialities=hospital.specialities_offered,
                    hospital=hospital,
                )
            )

        names_used: set[str] = set()
        surgeries: list[_Facility] = []
        for index, size in enumerate(sizes):
            area, name = self._surgery_name(index, names_used)
            open_minute, close_minute, hours = (
                places.SURGERY_HOURS[index % len(places.SURGERY_HOURS)]
                if index < 4
                else rng.choice(places.SURGERY_HOURS)
            )
            extras = tuple(rng.sample(places.SURGERY_EXTRA_SERVICES, rng.randint(2, 3)))
            street = rng.choice(area.streets)
            slug = "".join(ch for ch in name.lower() if ch.isalnum())
            surgery = _Facility(
                source_id=ID_FORMATS["surgery"].format(index + 1),
                name=name,
                is_hospital=False,
                address=self._address(rng.randint(1, 220), street, area),
                postcode=self._postcode(area),
                phone=_DRAMA_LANDLINE.format(next(phones)),
                domain=f"{slug}.nhs.example",
                opening_hours=hours,
                open_minute=open_minute,
                close_minute=close_minute,
                manager_name="",
                # Room to grow: a list this size is 80% of what the practice can take.
                capacity=max(500, math.ceil(size * 1.25 / 100) * 100),
                specialities=("General Practice",) + extras,
                area=area,
                list_size=size,
                pharmacies=tuple(f"{chain} {area.name}" for chain in rng.sample(places.PHARMACY_CHAINS, 3)),
            )
            by_key = {h.hospital.key: h for h in hospitals if h.hospital}
            ordered = [by_key[area.nearest_hospital]] + [h for h in hospitals if h is not by_key[area.nearest_hospital]]
            for hospital in ordered:
                for speciality in hospital.hospital.clinics if hospital.hospital else ():
                    surgery.referral_hospital.setdefault(speciality, hospital)
            surgeries.append(surgery)

        # Facilities are listed surgeries first (S001 is the demo's own), then hospitals.
        self.facilities = surgeries + hospitals
        self._surgeries = surgeries
        for surgery in surgeries:
            self._staff_surgery(surgery)
        for hospital in hospitals:
            self._staff_hospital(hospital, surgeries)

    def _surgery_name(self, index: int, used: set[str]) -> tuple[places.Area, str]:
        rng = self._rng
        defaults = ("Medical Centre", "Family Practice", "Group Practice", "Health Centre")
        while True:
            if index < 4:
                area, kind = places.AREAS[index], defaults[index]
            else:
                area, kind = rng.choice(places.AREAS), rng.choice(places.SURGERY_KINDS)
            name = f"{area.name} {kind}"
            if name not in used:
                used.add(name)
                return area, name
            if len(used) >= len(places.AREAS) * len(places.SURGERY_KINDS):
                # A very large demo has more surgeries than area-and-kind names: name them by street.
                street = rng.choice(area.streets)
                name = f"{street} {rng.choice(places.SURGERY_KINDS)}, {area.name}"
                if name not in used:
                    used.add(name)
                    return area, name

    def _staff_surgery(self, surgery: _Facility) -> None:
        rng = self._rng
        size = surgery.list_size
        gp_count = max(3, math.ceil(size / 1800))
        nurse_count = max(2, math.ceil(size / 4000))
        for number in range(gp_count):
            # The senior partner works full time; the others are a mix, as in most practices.
            full_time = number == 0 or rng.random() < 0.6
            gp = self._add_clinician(
                "Dr.", None, "GP", "General Practice", surgery, full_time, GP_SLOT_MINUTES, self._gp_sessions(surgery)
            )
            surgery.gps.append(gp)
        surgery.manager_name = surgery.gps[0].display_name
        surgery.gp_weights = list(
            itertools.accumulate(2.0 if gp.employment == "Full-time" else 1.0 for gp in surgery.gps)
        )
        for number in range(nurse_count):
            full_time = number == 0 or rng.random() < 0.5
            sex = "F" if rng.random() < 0.85 else "M"
            nurse = self._add_clinician(
                "Nurse",
                sex,
                "Practice Nurse",
                "Practice Nursing",
                surgery,
                full_time,
                NURSE_SLOT_MINUTES,
                self._nurse_sessions(surgery),
            )
            surgery.nurses.append(nurse)
        manager = self._add_staff(
            surgery, "Practice Manager", "Administration", "Manager", surgery.manager_name, full_time=True
        )
        for _ in range(max(2, math.ceil(size / 2500))):
            self._add_staff(surgery, "Receptionist", "Front Desk", "Basic", manager.display_name)
        for _ in range(max(1, math.ceil(size / 8000))):
            self._add_staff(surgery, "Medical Secretary", "Administration", "Standard", manager.display_name)

    def _staff_hospital(self, hospital: _Facility, surgeries: list[_Facility]) -> None:
        rng = self._rng
        assert hospital.hospital is not None
        # Consultants per clinic follow the referrals the clinic can expect: about 9 in 100 patients are
        # referred in a year, spread over the reasons; a consultant sees some 400 new patients a year.
        reasons = clinical.REFERRAL_REASONS
        total_weight = sum(reason.weight for reason in reasons)
        for speciality in hospital.hospital.clinics:
            share = sum(reason.weight for reason in reasons if reason.speciality == speciality) / total_weight
            expected = sum(s.list_size for s in surgeries if s.referral_hospital.get(speciality) is hospital)
            count = max(1, math.ceil(expected * 0.09 * share / 400))
            hospital.consultants[speciality] = [
                self._add_clinician(
                    "Dr.",
                    None,
                    "Consultant",
                    speciality,
                    hospital,
                    rng.random() < 0.8,
                    CONSULTANT_SLOT_MINUTES,
                    self._clinic_sessions(hospital),
                    clinic_days=True,
                )
                for _ in range(count)
            ]
        for number in range(3 + len(hospital.hospital.clinics) // 2):
            senior = number == 0
            sex = "F" if rng.random() < 0.8 else "M"
            # A senior nurse is "Sister" if she is a woman, as on most wards; otherwise plain "Nurse".
            honorific = "Sister" if senior and sex == "F" else "Nurse"
            self._add_clinician(
                honorific,
                sex,
                "Senior Nurse" if senior else "Staff Nurse",
                "General Nursing",
                hospital,
                rng.random() < 0.75,
                NURSE_SLOT_MINUTES,
                self._nurse_sessions(hospital),
            )
        admin = self._add_staff(
            hospital, "Hospital Administrator", "Administration", "Manager", hospital.manager_name, full_time=True
        )
        boss = admin.display_name
        for _ in range(2):
            self._add_staff(hospital, "Appointments Coordinator", "Outpatients", "Standard", boss)
        for _ in range(2):
            self._add_staff(hospital, "Receptionist", "Outpatients", "Basic", boss)
        for speciality in hospital.hospital.clinics[:2]:
            self._add_staff(hospital, "Ward Clerk", f"{speciality} Ward", "Standard", boss)
        for _ in range(2):
            self._add_staff(hospital, "Medical Records Clerk", "Medical Records", "Standard", boss)
        for speciality in hospital.hospital.clinics:
            self._add_staff(hospital, "Medical Secretary", speciality, "Standard", boss)

    def _gp_sessions(self, surgery: _Facility) -> list[tuple[int, int]]:
        return [(max(surgery.open_minute, 8 * 60 + 30), 12 * 60 + 30), (14 * 60, min(surgery.close_minute, 18 * 60))]

    def _nurse_sessions(self, facility: _Facility) -> list[tuple[int, int]]:
        return [
            (max(facility.open_minute, 8 * 60 + 30), 12 * 60 + 30),
            (13 * 60 + 30, min(facility.close_minute, 17 * 60 + 30)),
        ]

    def _clinic_sessions(self, hospital: _Facility) -> list[tuple[int, int]]:
        return [(max(hospital.open_minute, 9 * 60), 12 * 60 + 30), (13 * 60 + 30, min(hospital.close_minute, 17 * 60))]

    def _add_clinician(
        self,
        honorific: str,
        sex: str | None,
        title: str,
        speciality: str,
        facility: _Facility,
        full_time: bool,
        slot_minutes: int,
        sessions: list[tuple[int, int]],
        clinic_days: bool = False,
    ) -> _Clinician:
        rng = self._rng
        sex = sex or ("F" if rng.random() < 0.5 else "M")
        first, last = self._person_name(sex, birth_year=self.today.year - rng.randint(28, 62))
        if title == "Consultant" and speciality in SURGICAL_SPECIALITIES:
            # British surgeons go by Mr or Ms, not Dr.
            honorific = "Ms." if sex == "F" else "Mr."
        is_nurse = "Nurse" in title
        registration = self._registration(nurse=is_nurse)
        if clinic_days:
            # Consultants hold outpatient clinics on some days and are in theatre or on the wards on others.
            days = sorted(rng.sample(range(5), 3 if full_time else 2))
        else:
            days = list(range(5)) if full_time else sorted(rng.sample(range(5), 3))
        slots = [start for begin, end in sessions for start in range(begin, end - slot_minutes + 1, slot_minutes)]
        rng.shuffle(slots)
        clinician = _Clinician(
            source_id=ID_FORMATS["clinician"].format(len(self.clinicians) + 1),
            honorific=honorific,
            first_name=first,
            last_name=last,
            title=title,
            speciality=speciality,
            registration=registration,
            phone=_DRAMA_MOBILE.format(rng.randrange(1000)),
            email=self._work_email(first, last, facility),
            facility=facility,
            employment="Full-time" if full_time else "Part-time",
            start_date=self._start_date(),
            workdays=frozenset(days),
            slot_minutes=slot_minutes,
            slots=tuple(slots),
            sessions=tuple(sessions),
        )
        self.clinicians.append(clinician)
        return clinician

    def _add_staff(
        self,
        facility: _Facility,
        role: str,
        department: str,
        access_level: str,
        line_manager: str,
        full_time: bool | None = None,
    ) -> _Staff:
        rng = self._rng
        sex = "F" if rng.random() < 0.7 else "M"
        first, last = self._person_name(sex, birth_year=self.today.year - rng.randint(20, 62))
        if full_time is None:
            full_time = rng.random() < 0.65
        member = _Staff(
            source_id=ID_FORMATS["staff"].format(len(self.staff) + 1),
            first_name=first,
            last_name=last,
            role=role,
            department=department,
            facility=facility,
            phone=_DRAMA_MOBILE.format(rng.randrange(1000)),
            email=self._work_email(first, last, facility),
            employment="Full-time" if full_time else "Part-time",
            start_date=self._start_date(),
            line_manager=line_manager,
            access_level=access_level,
        )
        self.staff.append(member)
        return member

    def _registration(self, *, nurse: bool) -> str:
        # GMC numbers are seven digits; nurses carry N and six digits (the coursework's NMC-style PIN).
        while True:
            number = f"N{self._rng.randint(100000, 999999)}" if nurse else str(self._rng.randint(2000000, 7999999))
            if number not in self._registrations:
                self._registrations.add(number)
                return number

    def _work_email(self, first: str, last: str, facility: _Facility) -> str:
        local = f"{_ascii(first)[:1]}.{_ascii(last)}"
        email, suffix = f"{local}@{facility.domain}", 1
        while email in self._emails:
            suffix += 1
            email = f"{local}{suffix}@{facility.domain}"
        self._emails.add(email)
        return email

    def _start_date(self) -> dt.date:
        # Everyone started well before the demo's history begins, so no one is booked before their first day.
        return self.today - dt.timedelta(days=self._rng.randint(HISTORY_DAYS + 60, 22 * 365))

    def _person_name(
        self, sex: str, *, birth_year: int, tradition: names.NamingTradition | None = None, surname: str | None = None
    ) -> tuple[str, str]:
        rng = self._rng
        if tradition is None:
            tradition = rng.weighted(names.TRADITIONS, _TRADITION_WEIGHTS)
        firsts = (tradition.female if sex == "F" else tradition.male)[names.generation(birth_year)]
        return rng.choice(firsts), surname or rng.choice(tradition.surnames)

    def _choose_cast(self) -> DemoCast:
        surgery = self.facilities[0]
        hospital = next(f for f in self.facilities if f.is_hospital)
        first_clinic = next(iter(hospital.consultants.values()))

        def staff(facility: _Facility, role: str) -> str:
            return next(s.source_id for s in self.staff if s.facility is facility and s.role == role)

        return DemoCast(
            patient=ID_FORMATS["patient"].format(1),
            gp=surgery.gps[0].source_id,
            nurse=surgery.nurses[0].source_id,
            specialist=first_clinic[0].source_id,
            reception=staff(surgery, "Receptionist"),
            hospital_reception=staff(hospital, "Appointments Coordinator"),
            manager=staff(surgery, "Practice Manager"),
        )

    def _deal_patients(self) -> bytearray | list[int]:
        """Which surgery each patient is registered at: exactly each list's size, in a shuffled order."""
        surgeries = [f for f in self.facilities if not f.is_hospital]
        order: list[int] = []
        for index, surgery in enumerate(surgeries):
            order.extend([index] * surgery.list_size)
        self._rng.shuffle(order)
        # Patient 1 is the demo patient, registered at the first surgery.
        first = order.index(0)
        order[0], order[first] = order[first], order[0]
        # A byte per patient while there are few surgeries; a list of ints (still small) beyond.
        return bytearray(order) if len(surgeries) < 256 else order

    # ---- Rows for the fixed files -------------------------------------------------------------------

    def _facility_row(self, facility: _Facility) -> Row:
        return (
            facility.source_id,
            facility.name,
            "Hospital" if facility.is_hospital else "GP Surgery",
            facility.address,
            facility.postcode,
            facility.phone,
            f"enquiries@{facility.domain}",
            facility.opening_hours,
            facility.manager_name,
            str(facility.capacity),
            "|".join(facility.specialities),
        )

    def _clinician_row(self, clinician: _Clinician) -> Row:
        facility = clinician.facility
        return (
            clinician.source_id,
            f"{clinician.honorific} {clinician.first_name}",
            clinician.last_name,
            clinician.title,
            clinician.speciality,
            clinician.registration,
            clinician.phone,
            clinician.email,
            facility.source_id,
            "Hospital" if facility.is_hospital else "GP Surgery",
            clinician.employment,
            clinician.start_date.isoformat(),
        )

    def _staff_row(self, member: _Staff) -> Row:
        return (
            member.source_id,
            member.first_name,
            member.last_name,
            member.role,
            member.department,
            member.facility.source_id,
            member.phone,
            member.email,
            member.employment,
            member.start_date.isoformat(),
            member.line_manager,
            member.access_level,
        )

    # ---- Places ---------------------------------------------------------------------------------------

    def _postcode(self, area: places.Area) -> str:
        rng = self._rng
        letters = places.POSTCODE_INWARD_LETTERS
        return f"{rng.choice(area.districts)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"

    @staticmethod
    def _address(number: int, street: str, area: places.Area) -> str:
        if area.name == area.town:
            return f"{number} {street}, {area.town}"
        return f"{number} {street}, {area.name}, {area.town}"

    # ---- Patients -------------------------------------------------------------------------------------

    def _next_nhs_number(self) -> str:
        while True:
            self._nhs_cursor = (self._nhs_cursor + _NHS_STEP) % _NHS_SPAN
            first_nine = str(_NHS_BASE + self._nhs_cursor)
            check = nhs_number.check_digit(first_nine)
            if check is not None:  # about one in eleven has no valid check digit and is skipped
                return first_nine + str(check)

    def _make_patient(self, number: int, out: dict[str, list[Row]]) -> None:
        rng = self._rng
        random_ = rng.random
        today = self._today
        demo = number == 1
        surgery = self._surgeries[self._surgery_of_patient[number - 1]]
        patient_id = ID_FORMATS["patient"].format(number)

        sex = "F" if random_() < 0.51 else "M"
        age = rng.randint(42, 68) if demo else _draw_age(random_)
        dob = today - age * 365 - age // 4 - rng.randrange(365)
        age = _age_on(dob, today)  # exact, so that age limits (screening from 25...) hold to the day
        birth_year = dt.date.fromordinal(dob).year
        tradition = rng.weighted(names.TRADITIONS, _TRADITION_WEIGHTS)
        first, last = self._person_name(sex, birth_year=birth_year, tradition=tradition)

        # Where they live: mostly near their surgery.
        area = surgery.area if random_() < 0.85 or surgery.area is None else rng.choice(places.AREAS)
        assert area is not None
        address = self._address(rng.randint(1, 240), rng.choice(area.streets), area)
        postcode = self._postcode(area)

        # Children's contact details are a parent's; adults give their own and name someone close.
        contact_sex = "F" if random_() < 0.6 else "M"
        if age < 16:
            contact_first, contact_last = self._person_name(
                contact_sex, birth_year=birth_year - rng.randint(22, 40), tradition=tradition, surname=last
            )
            contact_phone = _DRAMA_MOBILE.format(rng.randrange(1000))
            phone, email = contact_phone, ""
        else:
            same_family = random_() < 0.7
            contact_first, contact_last = self._person_name(
                contact_sex,
                birth_year=birth_year + rng.randint(-8, 8) if age < 70 else birth_year + 30,
                tradition=tradition,
                surname=last if same_family else None,
            )
            phone = _DRAMA_MOBILE.format(rng.randrange(1000))
            contact_phone = _DRAMA_MOBILE.format(rng.randrange(1000))
            email = f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@{rng.choice(_EMAIL_DOMAINS)}"

        # Registered at birth, on moving to the area, or (a few) in the last three months.
        age_days = today - dob
        if demo:
            registered = today - rng.randint(3 * 365, 12 * 365)
        elif age_days < 120:
            registered = dob + rng.randint(7, max(7, age_days - 1))
        elif random_() < 0.06:
            registered = today - rng.randint(1, 90)
        else:
            registered = today - rng.randint(91, max(91, min(age_days - 14, 30 * 365)))
        registered = max(registered, dob + 7)
        registered = min(registered, today)

        out["patients.csv"].append(
            (
                patient_id,
                first,
                last,
                _iso(dob),
                self._next_nhs_number(),
                sex,
                phone,
                email,
                address,
                postcode,
                f"{contact_first} {contact_last}",
                contact_phone,
                _iso(registered),
                surgery.source_id,
            )
        )

        context = _PatientContext(
            patient_id=patient_id,
            surgery=surgery,
            sex=sex,
            age=age,
            dob=dob,
            registered=registered,
            conditions=self._conditions(age, sex, demo),
            # Full-time GPs have twice the patients of part-time ones.
            usual_gp=surgery.gps[0] if demo else rng.weighted(surgery.gps, surgery.gp_weights),
            pharmacy=rng.choice(surgery.pharmacies),
            out=out,
        )
        self._history(context, demo)

    def _conditions(self, age: int, sex: str, demo: bool) -> tuple[str, ...]:
        found = []
        for condition in clinical.CONDITIONS:
            chance = 0.0
            for from_age, women, men in condition.prevalence:
                if age >= from_age:
                    chance = women if sex == "F" else men
            if self._rng.random() < chance:
                found.append(condition.key)
        if demo and "hypertension" not in found:
            found.append("hypertension")
        return tuple(found)

    def _history(self, p: "_PatientContext", demo: bool) -> None:
        rng = self._rng
        random_ = rng.random
        today = self._today
        since = max(p.registered, today - HISTORY_DAYS)
        known_days = today - since  # how much history this patient can have here
        gp_visits, nurse_visits = _visits_for(p.age, p.sex, p.conditions)

        # Referrals first: each comes from a GP consultation, booked like any other.
        if demo:
            self._refer(p, forced=True)
        elif known_days > 7 and random_() < _referral_chance(p.age) * known_days / HISTORY_DAYS:
            self._refer(p)

        # Past GP and nurse visits, then what is booked ahead.
        for _ in range(_poisson(random_, _gp_rate(p) * known_days / HISTORY_DAYS) + (2 if demo else 0)):
            if known_days > 1:
                self._visit(p, gp_visits, p.surgery.gps, since, today - 1, prescribe=True)
        for _ in range(_poisson(random_, _nurse_rate(p) * known_days / HISTORY_DAYS)):
            if known_days > 1:
                self._visit(p, nurse_visits, p.surgery.nurses, since, today - 1, prescribe=False)
        if demo or random_() < 0.22 + 0.06 * len(p.conditions):
            self._visit(p, gp_visits, p.surgery.gps, today, today + UPCOMING_DAYS, prescribe=False, forced=demo)
        if demo or random_() < 0.10 + 0.05 * len(p.conditions):
            self._visit(p, nurse_visits, p.surgery.nurses, today, today + UPCOMING_DAYS, prescribe=False, forced=demo)

        self._repeats(p)

    def _visit(
        self,
        p: "_PatientContext",
        choice: "_Visits",
        clinicians: list[_Clinician],
        first: int,
        last: int,
        *,
        prescribe: bool,
        forced: bool = False,
    ) -> None:
        rng = self._rng
        visits, cumulative = choice
        if not visits or not clinicians:
            return
        day = rng.randint(first, last) if not forced else first + rng.randint(1, 7)
        month = dt.date.fromordinal(day).month
        for _ in range(4):
            visit = rng.weighted(visits, cumulative)
            if not visit.months or month in visit.months:
                break
        else:
            return
        # Most patients see their usual GP; the demo's GP and nurse see the demo patient.
        if forced:
            preferred = clinicians[0]
        elif clinicians is p.surgery.gps and rng.random() < 0.6:
            preferred = p.usual_gp
        else:
            preferred = rng.choice(clinicians)
        # Up to a fortnight later if that day is full, but never past the end of the window asked for.
        booking = self._book_any(preferred, clinicians, day, min(day + 14, last), p.busy)
        if booking is None:
            return
        clinician, when, minute = booking
        cancelled = not forced and rng.random() < 0.07
        appointment_id = self._appointment(
            p,
            clinician,
            when,
            minute,
            rng.choice(visit.durations),
            visit.appointment_type,
            visit.reason,
            rng.choice(visit.notes),
            cancelled=cancelled,
            lead_days=1 if visit.appointment_type == "Urgent Consultation" else 21,
        )
        if prescribe and visit.drugs and not cancelled and when < self._today and rng.random() < 0.55:
            self._prescription(p, clinician, rng.choice(visit.drugs), when, appointment_id)

    def _book_any(
        self, preferred: _Clinician, colleagues: Sequence[_Clinician], first: int, last: int, busy: set[int]
    ) -> tuple[_Clinician, int, int] | None:
        """The first free slot with the preferred clinician between two days, or else with a colleague."""
        for clinician in [preferred] + [c for c in colleagues if c is not preferred]:
            booking = self._book(clinician, first, last, busy)
            if booking is not None:
                return clinician, booking[0], booking[1]
        return None

    def _book(self, clinician: _Clinician, first: int, last: int, busy: set[int]) -> tuple[int, int] | None:
        slots = clinician.slots
        count = len(slots)
        booked = clinician.booked
        workdays = clinician.workdays
        closed = self._closed
        for day in range(first, last + 1):
            # date.weekday() is (ordinal + 6) % 7.
            if (day + 6) % 7 not in workdays or day in closed or day in busy:
                continue
            taken = booked.get(day, 0)
            if taken < count:
                booked[day] = taken + 1
                busy.add(day)
                # The n-th booking of a day takes slot (n + a per-day offset): every slot once, in a
                # different order each day.
                return day, slots[(taken + day * 7919) % count]
        return None

    def _appointment(
        self,
        p: "_PatientContext",
        clinician: _Clinician,
        day: int,
        minute: int,
        duration: int,
        kind: str,
        reason: str,
        notes: str,
        *,
        cancelled: bool,
        lead_days: int,
        booked_on: int | None = None,
    ) -> str:
        rng = self._rng
        today = self._today
        duration = min(duration, clinician.slot_minutes)
        # Booked some days before (never before registering, never in the future).
        if booked_on is None:
            booked_on = day - rng.randint(0, lead_days)
        created = min(max(booked_on, p.registered), today, day)
        modified = created
        if cancelled:
            modified = rng.randint(created, max(created, min(day, today)))
            notes = rng.choice(clinical.CANCELLATION_NOTES)
        appointment_id = ID_FORMATS["appointment"].format(self._next["appointment"])
        self._next["appointment"] += 1
        p.out["appointments.csv"].append(
            (
                appointment_id,
                p.patient_id,
                clinician.source_id,
                clinician.facility.source_id,
                _iso(day),
                _clock(minute),
                str(duration),
                kind,
                "Cancelled" if cancelled else "Scheduled",
                reason,
                notes,
                _iso(created),
                _iso(modified),
            )
        )
        return appointment_id

    def _prescription(
        self, p: "_PatientContext", prescriber: _Clinician, drug: clinical.Drug, day: int, appointment_id: str = ""
    ) -> None:
        rng = self._rng
        today = self._today
        # Collected within a few days; the last few days' prescriptions may still be waiting.
        collected = today - day > 3 or (today - day > 0 and rng.random() < 0.5)
        collection = min(today, day + rng.randint(0, 3)) if collected else None
        prescription_id = ID_FORMATS["prescription"].format(self._next["prescription"])
        self._next["prescription"] += 1
        p.out["prescriptions.csv"].append(
            (
                prescription_id,
                p.patient_id,
                prescriber.source_id,
                appointment_id,
                _iso(day),
                drug.name,
                drug.dosage,
                drug.frequency,
                str(drug.duration_days),
                drug.quantity,
                drug.instructions,
                p.pharmacy,
                "Collected" if collection is not None else "Issued",
                _iso(day),
                _iso(collection) if collection is not None else "",
            )
        )

    def _repeats(self, p: "_PatientContext") -> None:
        """Repeat prescriptions for long-term conditions: the last one or two 28-day issues."""
        rng = self._rng
        for key in p.conditions:
            condition = _CONDITIONS[key]
            drug = rng.choice(condition.repeats)
            latest = self._today - rng.randint(0, 27)
            for issue in range(rng.randint(1, 2)):
                day = self._signing_day(p.usual_gp, latest - 28 * issue)
                if day is None or day < p.registered:
                    break
                self._prescription(p, p.usual_gp, drug, day)

    def _signing_day(self, gp: _Clinician, day: int) -> int | None:
        """The nearest day on or before `day` that the GP works (repeats are signed at the practice)."""
        for candidate in range(day, day - 14, -1):
            if (candidate + 6) % 7 in gp.workdays and candidate not in self._closed:
                return candidate
        return None

    # ---- Referrals ------------------------------------------------------------------------------------

    def _refer(self, p: "_PatientContext", forced: bool = False) -> None:
        rng = self._rng
        today = self._today
        surgery = p.surgery
        if forced:
            specialist = self._clinician(self.cast.specialist)
            candidates = [
                r for r in clinical.REFERRAL_REASONS if r.speciality == specialist.speciality and _suits_referral(r, p)
            ]
            reason = (candidates or [r for r in clinical.REFERRAL_REASONS if r.speciality == specialist.speciality])[0]
            hospital = specialist.facility
            ask_on = today - rng.randint(14, 28)
        else:
            candidates = [
                r
                for r in clinical.REFERRAL_REASONS
                if _suits_referral(r, p) and r.speciality in surgery.referral_hospital
            ]
            if not candidates:
                return
            reason = rng.weighted(candidates, list(itertools.accumulate(r.weight for r in candidates)))
            hospital = surgery.referral_hospital[reason.speciality]
            specialist = rng.choice(hospital.consultants[reason.speciality])
            ask_on = rng.randint(max(p.registered, today - HISTORY_DAYS + 1), today - 1)

        if forced or rng.random() < reason.urgent:
            urgency = "Urgent" if not forced else "Routine"
        else:
            urgency = "Non-urgent" if rng.random() < 0.25 else "Routine"

        # The consultation at which the GP decided to refer.
        gp = surgery.gps[0] if forced else (p.usual_gp if rng.random() < 0.7 else rng.choice(surgery.gps))
        booking = self._book_any(gp, surgery.gps, ask_on, today - 1, p.busy)
        if booking is None:
            return
        gp, referral_day, minute = booking
        self._appointment(
            p,
            gp,
            referral_day,
            minute,
            15,
            "Urgent Consultation" if urgency == "Urgent" else "Routine Consultation",
            reason.reason,
            f"Referral to {reason.speciality.lower()} discussed",
            cancelled=False,
            lead_days=1 if urgency == "Urgent" else 14,
        )

        waited = today - referral_day
        appointment_id = ""
        last_updated = referral_day
        if not forced and waited <= 4 and rng.random() < 0.7:
            status, notes = "New", rng.choice(clinical.REFERRAL_NOTES_NEW)
        elif not forced and waited <= 30 and rng.random() < 0.25:
            status, notes = "Pending", rng.choice(clinical.REFERRAL_NOTES_WAITING)
            last_updated = referral_day + rng.randint(1, waited)
        else:
            # Triaged and booked: sooner for urgent referrals. The first slot free after the target date.
            low, high = {"Urgent": (5, 12), "Routine": (21, 70), "Non-urgent": (35, 110)}[urgency]
            earliest = referral_day + rng.randint(low, high)
            if forced:
                earliest = max(today + 3, referral_day + low)
            triaged_on = min(referral_day + rng.randint(1, 4), today)
            clinic = hospital.consultants[specialist.speciality]
            slot = self._book_any(specialist, clinic if not forced else [specialist], earliest, earliest + 60, p.busy)
            if slot is None:
                status, notes = "Pending", rng.choice(clinical.REFERRAL_NOTES_WAITING)
                last_updated = triaged_on
            else:
                specialist, seen_on, minute = slot
                if seen_on >= today or forced:
                    status, notes = "Pending", rng.choice(clinical.REFERRAL_NOTES_BOOKED)
                elif today - seen_on <= 120 and rng.random() < 0.55:
                    status, notes = "In Progress", rng.choice(clinical.REFERRAL_NOTES_IN_PROGRESS)
                else:
                    status, notes = "Completed", rng.choice(clinical.REFERRAL_NOTES_COMPLETED)
                hospital_appointment = self._appointment(
                    p,
                    specialist,
                    seen_on,
                    minute,
                    30,
                    "Specialist Consultation",
                    f"{reason.speciality} referral",
                    f"Referred for {reason.reason.lower()}",
                    cancelled=False,
                    lead_days=0,
                    booked_on=triaged_on,
                )
                last_updated = min(today, seen_on) if status != "Pending" else triaged_on
                # A completed referral is closed: linking it to an appointment still marked Scheduled
                # reads as "seen but not attended", which the importer rightly questions.
                if status != "Completed":
                    appointment_id = hospital_appointment
                if status == "In Progress" and rng.random() < 0.5:
                    follow = self._book(specialist, today + 7, today + 70, p.busy)
                    if follow is not None:
                        self._appointment(
                            p,
                            specialist,
                            follow[0],
                            follow[1],
                            20,
                            "Follow-up",
                            f"{reason.speciality} follow-up",
                            "Review of investigation results",
                            cancelled=False,
                            lead_days=0,
                            booked_on=seen_on,
                        )
        referred_at_age = _age_on(p.dob, referral_day)
        history = rng.choice(reason.histories)
        finding = rng.choice(reason.findings)
        summary = f"{referred_at_age}-year-old {'female' if p.sex == 'F' else 'male'} with {history}. {finding}"
        investigations = (
            reason.investigations
            if len(reason.investigations) <= 2
            else rng.sample(reason.investigations, rng.randint(2, len(reason.investigations)))
        )
        referral_id = ID_FORMATS["referral"].format(self._next["referral"])
        self._next["referral"] += 1
        p.out["referrals.csv"].append(
            (
                referral_id,
                p.patient_id,
                gp.source_id,
                specialist.source_id,
                surgery.source_id,
                specialist.facility.source_id,
                _iso(referral_day),
                urgency,
                reason.reason,
                summary,
                "|".join(investigations),
                status,
                appointment_id,
                notes,
                _iso(referral_day),
                _iso(last_updated),
            )
        )

    def _clinician(self, source_id: str) -> _Clinician:
        return next(c for c in self.clinicians if c.source_id == source_id)


@dataclass(eq=False)
class _PatientContext:
    patient_id: str
    surgery: _Facility
    sex: str
    age: int
    dob: int
    registered: int
    conditions: tuple[str, ...]
    usual_gp: _Clinician
    pharmacy: str
    out: dict[str, list[Row]]
    busy: set[int] = field(default_factory=set)  # days the patient already has an appointment


_CONDITIONS = {condition.key: condition for condition in clinical.CONDITIONS}
_TRADITION_WEIGHTS = list(itertools.accumulate(tradition.weight for tradition in names.TRADITIONS))

# Age bands in England's population (ONS mid-year estimates, rounded): (from age, to age, share).
_AGE_BANDS = (
    (0, 4, 0.06),
    (5, 17, 0.15),
    (18, 29, 0.16),
    (30, 44, 0.20),
    (45, 64, 0.25),
    (65, 79, 0.13),
    (80, 99, 0.05),
)
_AGE_CUMULATIVE = [sum(band[2] for band in _AGE_BANDS[: i + 1]) for i in range(len(_AGE_BANDS))]


def _draw_age(random_: Callable[[], float]) -> int:
    draw = random_() * _AGE_CUMULATIVE[-1]
    for (low, high, _share), edge in zip(_AGE_BANDS, _AGE_CUMULATIVE, strict=True):
        if draw <= edge:
            return low + int(random_() * (high - low + 1))
    return 50


def _age_on(dob: int, day: int) -> int:
    born, on = dt.date.fromordinal(dob), dt.date.fromordinal(day)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _gp_rate(p: _PatientContext) -> float:
    """GP consultations a year (the demo keeps about a third of real-life volume to stay quick)."""
    base = 1.2 if p.age < 5 else 0.5 if p.age < 18 else 0.8 if p.age < 45 else 1.1 if p.age < 65 else 1.8
    if p.sex == "F" and 16 <= p.age < 65:
        base += 0.3
    return base + 0.4 * len(p.conditions)


def _nurse_rate(p: _PatientContext) -> float:
    base = 2.0 if p.age < 5 else 0.25 if p.age < 40 else 0.4 if p.age < 65 else 0.9
    return base + 0.3 * len(p.conditions)


def _referral_chance(age: int) -> float:
    return 0.04 if age < 16 else 0.05 if age < 40 else 0.09 if age < 65 else 0.14


# Visits that fit a patient, with the running total of their weights (for _QuickRandom.weighted).
_Visits = tuple[list[clinical.Visit], list[float]]


@lru_cache(maxsize=4096)
def _visits_for(age: int, sex: str, conditions: tuple[str, ...]) -> tuple[_Visits, _Visits]:
    """The GP and nurse visits that fit a patient (few distinct patients as far as this goes: cached)."""

    def fitting(visits: tuple[clinical.Visit, ...]) -> _Visits:
        chosen = [
            v
            for v in visits
            if v.min_age <= age <= v.max_age
            and (v.sex is None or v.sex == sex)
            and (v.condition is None or v.condition in conditions)
        ]
        return chosen, list(itertools.accumulate(v.weight for v in chosen))

    return fitting(clinical.GP_VISITS), fitting(clinical.NURSE_VISITS)


def _suits_referral(reason: clinical.ReferralReason, p: _PatientContext) -> bool:
    return reason.min_age <= p.age <= reason.max_age and (reason.sex is None or reason.sex == p.sex)


def _poisson(random_: Callable[[], float], mean: float) -> int:
    # Knuth's method: fine for the small means used here.
    limit = math.exp(-mean)
    count, product = 0, random_()
    while product > limit:
        count += 1
        product *= random_()
    return count


def _ascii(name: str) -> str:
    """A name as it can appear in an email address: 'O'Brien' -> 'obrien'."""
    return "".join(ch for ch in name.lower() if "a" <= ch <= "z")
