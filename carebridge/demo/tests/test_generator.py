"""The generated rows on their own, before any import: shape, identifiers, and the rules of the domain.

Every check reads the rows as the importer would get them (dicts of strings keyed by the coursework's
headers), so these tests hold the generator to what it hands over, not to how it works inside.
"""

import datetime as dt
import itertools
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from functools import cache

import pytest

from carebridge.core import nhs_number
from carebridge.csvio import formats
from carebridge.demo.generator import HEADERS, ID_FORMATS, DemoDataset, england_bank_holidays
from carebridge.demo.spool import Spool

# A Monday before Easter (Good Friday 3 April, Easter Monday 6 April 2026 fall in the weeks ahead) and a
# day before Christmas, so that bank holidays are both in the history and in the upcoming weeks.
EASTER_WEEK = dt.date(2026, 3, 30)
CHRISTMAS = dt.date(2025, 12, 19)
PATIENTS = 1200


@cache
def rows(today: dt.date = EASTER_WEEK, patients: int = PATIENTS, seed: int = 7) -> dict[str, list[dict[str, str]]]:
    dataset = DemoDataset(patients=patients, seed=seed, today=today)
    try:
        read = {name: [row for _line, row in stream] for name, stream in dataset.rows_by_file().items()}
    finally:
        dataset.close()
    return read


@pytest.fixture(params=[EASTER_WEEK, CHRISTMAS], ids=["easter", "christmas"])
def data(request) -> tuple[dt.date, dict[str, list[dict[str, str]]]]:
    return request.param, rows(request.param)


def by_id(table: list[dict[str, str]], column: str) -> dict[str, dict[str, str]]:
    return {row[column]: row for row in table}


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def minutes(text: str) -> int:
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


_HOURS = re.compile(r"Mon-Fri:? (\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")


def weekday_hours(opening_hours: str) -> tuple[int, int]:
    """(open, close) in minutes on weekdays: a surgery's hours, or a hospital's outpatient hours."""
    match = _HOURS.search(opening_hours)
    assert match, opening_hours
    oh, om, ch, cm = (int(part) for part in match.groups())
    return oh * 60 + om, ch * 60 + cm


# ---- Shape --------------------------------------------------------------------------------------------


def test_every_file_has_exactly_the_coursework_columns_and_only_text(data):
    _today, files = data
    assert list(files) == [spec.name for spec in formats.SPECS]
    for spec in formats.SPECS:
        assert list(HEADERS[spec.name]) == spec.header
        assert files[spec.name], f"{spec.name} is empty"
        for row in files[spec.name]:
            assert list(row) == spec.header
            assert all(isinstance(value, str) for value in row.values())
            # A value with a line break or leading/trailing space would change when written to a file.
            assert all(value == value.strip() and "\n" not in value for value in row.values())


def test_line_numbers_count_from_two_as_in_a_file_with_a_header():
    dataset = DemoDataset(patients=30, seed=1, today=EASTER_WEEK)
    for name, stream in dataset.rows_by_file().items():
        lines = [line for line, _row in stream]
        assert lines == list(range(2, len(lines) + 2)), name
    dataset.close()


def test_ids_are_unique_and_wide_enough_for_a_million_patients(data):
    _today, files = data
    patterns = {
        "facilities.csv": ("facility_id", r"[SH]\d{3}"),
        "clinicians.csv": ("clinician_id", r"C\d{4}"),
        "staff.csv": ("staff_id", r"ST\d{4}"),
        "patients.csv": ("patient_id", r"P\d{7}"),
        "appointments.csv": ("appointment_id", r"A\d{7}"),
        "prescriptions.csv": ("prescription_id", r"RX\d{7}"),
        "referrals.csv": ("referral_id", r"R\d{7}"),
    }
    for name, (column, pattern) in patterns.items():
        ids = [row[column] for row in files[name]]
        assert len(ids) == len(set(ids)), name
        assert all(re.fullmatch(pattern, value) for value in ids), name
    assert ID_FORMATS["patient"].format(1_000_000) == "P1000000"
    assert len(ID_FORMATS["patient"].format(1)) == len(ID_FORMATS["patient"].format(1_000_000))


def test_area_size_follows_the_patient_count():
    files = rows()
    surgeries = [f for f in files["facilities.csv"] if f["facility_type"] == "GP Surgery"]
    hospitals = [f for f in files["facilities.csv"] if f["facility_type"] == "Hospital"]
    assert len(surgeries) == 4 and 2 <= len(hospitals) <= 3
    listed = Counter(p["gp_surgery_id"] for p in files["patients.csv"])
    # A few hundred patients at each surgery, every one within the practice's capacity.
    for surgery in surgeries:
        assert 200 <= listed[surgery["facility_id"]] <= 450
        assert listed[surgery["facility_id"]] <= int(surgery["capacity"])
    assert sum(listed.values()) == PATIENTS


def test_people_have_plausible_details(data):
    _today, files = data
    mobile = re.compile(r"07\d{9}")
    postcode = re.compile(r"(B\d{1,2}) \d[ABD-HJLNP-UW-Z]{2}")
    for patient in files["patients.csv"]:
        assert patient["gender"] in {"M", "F"}
        assert patient["first_name"] and patient["last_name"] and patient["emergency_contact_name"]
        assert mobile.fullmatch(patient["phone_number"]) and mobile.fullmatch(patient["emergency_contact_phone"])
        district = postcode.fullmatch(patient["postcode"])
        assert district, patient["postcode"]
        assert re.fullmatch(r"\d+ [A-Z][A-Za-z ]+, [A-Za-z ,]+", patient["address"])
        assert patient["address"].endswith(("Birmingham", "Solihull", "Sutton Coldfield"))
    for table in ("clinicians.csv", "staff.csv"):
        emails = [row["email"] for row in files[table]]
        assert len(emails) == len(set(emails))
        assert all(mobile.fullmatch(row["phone_number"]) for row in files[table])
    numbers = [c["gmc_number"] for c in files["clinicians.csv"]]
    assert len(numbers) == len(set(numbers))
    for clinician in files["clinicians.csv"]:
        nurse = "Nurse" in clinician["title"]
        assert re.fullmatch(r"N\d{6}" if nurse else r"\d{7}", clinician["gmc_number"])
        assert clinician["first_name"].split(" ", 1)[0] in {"Dr.", "Mr.", "Ms.", "Nurse", "Sister"}


def test_patients_are_of_every_age(data):
    today, files = data
    ages = [(today - day(p["date_of_birth"])).days // 365 for p in files["patients.csv"]]
    assert min(ages) < 5 and max(ages) >= 85
    assert sum(age < 16 for age in ages) > len(ages) * 0.1
    assert sum(age >= 65 for age in ages) > len(ages) * 0.1


# ---- NHS numbers --------------------------------------------------------------------------------------


def test_every_nhs_number_is_valid_and_unique(data):
    _today, files = data
    numbers = [p["nhs_number"] for p in files["patients.csv"]]
    assert all(nhs_number.is_valid(number) for number in numbers)
    assert len(numbers) == len(set(numbers))


def test_nhs_numbers_stay_valid_and_unique_over_many_patients():
    # Numbers come from stepping through a fixed range; enough of them to wrap round would repeat.
    dataset = DemoDataset(patients=1, seed=3, today=EASTER_WEEK)
    numbers = [dataset._next_nhs_number() for _ in range(200_000)]
    assert len(set(numbers)) == len(numbers)
    assert all(nhs_number.is_valid(number) for number in numbers[:20_000])
    # In the unissued 99... range, never a real patient's.
    assert all(number.startswith("99") for number in numbers)


# ---- Appointments -------------------------------------------------------------------------------------


def test_no_clinician_is_ever_double_booked(data):
    _today, files = data
    diaries: dict[str, list[tuple[dt.date, int, int]]] = defaultdict(list)
    for appointment in files["appointments.csv"]:
        start = minutes(appointment["appointment_time"])
        # Cancelled appointments count too: the generator never reuses a slot, so none may overlap.
        diaries[appointment["clinician_id"]].append(
            (day(appointment["appointment_date"]), start, start + int(appointment["duration_minutes"]))
        )
    assert len(diaries) > 10
    for clinician, entries in diaries.items():
        entries.sort()
        for earlier, later in itertools.pairwise(entries):
            assert earlier[0] != later[0] or earlier[2] <= later[1], f"{clinician} double-booked: {earlier} {later}"


def test_no_patient_has_two_appointments_on_one_day(data):
    _today, files = data
    days = Counter((a["patient_id"], a["appointment_date"]) for a in files["appointments.csv"])
    assert max(days.values()) == 1


def test_appointments_are_on_working_weekdays_within_opening_hours(data):
    today, files = data
    facilities = by_id(files["facilities.csv"], "facility_id")
    closed = (
        england_bank_holidays(today.year - 1)
        | england_bank_holidays(today.year)
        | england_bank_holidays(today.year + 1)
    )
    for appointment in files["appointments.csv"]:
        when = day(appointment["appointment_date"])
        assert when.weekday() < 5, appointment
        assert when not in closed, appointment
        opens, closes = weekday_hours(facilities[appointment["facility_id"]]["opening_hours"])
        start = minutes(appointment["appointment_time"])
        assert opens <= start and start + int(appointment["duration_minutes"]) <= closes, appointment


def test_appointments_are_with_the_right_people_in_the_right_places(data):
    _today, files = data
    patients = by_id(files["patients.csv"], "patient_id")
    clinicians = by_id(files["clinicians.csv"], "clinician_id")
    facilities = by_id(files["facilities.csv"], "facility_id")
    referred = {(r["patient_id"], r["referred_to_clinician_id"]) for r in files["referrals.csv"]}
    for appointment in files["appointments.csv"]:
        clinician = clinicians[appointment["clinician_id"]]
        facility = facilities[appointment["facility_id"]]
        assert clinician["workplace_id"] == facility["facility_id"]
        assert appointment["status"] in {"Scheduled", "Cancelled"}
        if facility["facility_type"] == "GP Surgery":
            # GPs and practice nurses see their own surgery's patients.
            assert clinician["title"] in {"GP", "Practice Nurse"}
            assert patients[appointment["patient_id"]]["gp_surgery_id"] == facility["facility_id"]
        else:
            # At a hospital: consultants, and only patients referred to them.
            assert clinician["title"] == "Consultant"
            assert (appointment["patient_id"], clinician["clinician_id"]) in referred
            assert appointment["appointment_type"] in {"Specialist Consultation", "Follow-up"}


def test_appointments_span_the_past_and_the_weeks_ahead(data):
    today, files = data
    dates = [day(a["appointment_date"]) for a in files["appointments.csv"]]
    past = sum(d < today for d in dates)
    ahead = sum(d >= today for d in dates)
    assert past > len(dates) * 0.6 and ahead > len(dates) * 0.05
    assert min(dates) >= today - dt.timedelta(days=366)
    assert Counter(a["status"] for a in files["appointments.csv"])["Cancelled"] > 0


def test_appointment_dates_are_in_order(data):
    today, files = data
    patients = by_id(files["patients.csv"], "patient_id")
    for appointment in files["appointments.csv"]:
        created, modified = day(appointment["created_date"]), day(appointment["last_modified"])
        when = day(appointment["appointment_date"])
        registered = day(patients[appointment["patient_id"]]["registration_date"])
        assert registered <= created <= modified <= today
        assert created <= when and registered <= when
        if appointment["status"] == "Scheduled":
            assert created == modified


# ---- Prescriptions ------------------------------------------------------------------------------------


def test_only_gps_prescribe_and_only_for_their_own_patients(data):
    today, files = data
    patients = by_id(files["patients.csv"], "patient_id")
    clinicians = by_id(files["clinicians.csv"], "clinician_id")
    appointments = by_id(files["appointments.csv"], "appointment_id")
    quantity = re.compile(r"\d+(\.\d+)? [a-z ]+")
    dose = re.compile(r"\d+(\.\d+)?(mg|mcg|units|ml|g)")
    assert any(p["appointment_id"] for p in files["prescriptions.csv"])
    assert any(not p["appointment_id"] for p in files["prescriptions.csv"])
    for prescription in files["prescriptions.csv"]:
        prescriber = clinicians[prescription["clinician_id"]]
        patient = patients[prescription["patient_id"]]
        assert prescriber["title"] == "GP"
        assert prescriber["workplace_id"] == patient["gp_surgery_id"]
        assert dose.fullmatch(prescription["dosage"]), prescription["dosage"]
        assert quantity.fullmatch(prescription["quantity"]), prescription["quantity"]
        written = day(prescription["prescription_date"])
        assert day(patient["registration_date"]) <= written <= today
        assert prescription["issue_date"] == prescription["prescription_date"]
        if prescription["status"] == "Collected":
            assert written <= day(prescription["collection_date"]) <= today
        else:
            assert prescription["status"] == "Issued" and prescription["collection_date"] == ""
        if prescription["appointment_id"]:
            appointment = appointments[prescription["appointment_id"]]
            assert appointment["patient_id"] == prescription["patient_id"]
            assert appointment["clinician_id"] == prescription["clinician_id"]
            assert appointment["appointment_date"] == prescription["prescription_date"]
            assert appointment["status"] == "Scheduled"


# ---- Referrals ----------------------------------------------------------------------------------------


def test_referrals_go_from_the_patients_own_gp_to_a_fitting_consultant(data):
    today, files = data
    patients = by_id(files["patients.csv"], "patient_id")
    clinicians = by_id(files["clinicians.csv"], "clinician_id")
    facilities = by_id(files["facilities.csv"], "facility_id")
    referrals = files["referrals.csv"]
    assert len(referrals) > 20
    for referral in referrals:
        patient = patients[referral["patient_id"]]
        referrer = clinicians[referral["referring_clinician_id"]]
        receiver = clinicians[referral["referred_to_clinician_id"]]
        hospital = facilities[referral["referred_to_facility_id"]]
        assert referrer["title"] == "GP"
        assert referrer["workplace_id"] == referral["referring_facility_id"] == patient["gp_surgery_id"]
        assert receiver["title"] == "Consultant"
        assert receiver["workplace_id"] == hospital["facility_id"] and hospital["facility_type"] == "Hospital"
        assert receiver["speciality"] in hospital["specialities_offered"].split("|")
        assert referral["urgency_level"] in {"Routine", "Urgent", "Non-urgent"}
        assert referral["status"] in {"New", "Pending", "In Progress", "Completed"}
        assert referral["referral_reason"] and referral["clinical_summary"]
        investigations = referral["requested_investigations"].split("|")
        assert investigations and all(item.strip() == item and item for item in investigations)
        referred_on = day(referral["referral_date"])
        assert day(patient["registration_date"]) <= referred_on < today
        assert referral["created_date"] == referral["referral_date"]
        assert referred_on <= day(referral["last_updated"]) <= today
        sex = "female" if patient["gender"] == "F" else "male"
        assert re.match(rf"\d+-year-old {sex} with ", referral["clinical_summary"])


def test_referral_statuses_agree_with_their_appointments(data):
    today, files = data
    appointments = by_id(files["appointments.csv"], "appointment_id")
    statuses = Counter(r["status"] for r in files["referrals.csv"])
    assert statuses["Pending"] and statuses["Completed"] and statuses["In Progress"]
    linked = 0
    for referral in files["referrals.csv"]:
        if referral["status"] in {"New", "Completed"}:
            # New: not yet triaged. Completed: closed, so never pointing at an appointment still Scheduled.
            assert referral["appointment_id"] == ""
        if not referral["appointment_id"]:
            continue
        linked += 1
        appointment = appointments[referral["appointment_id"]]
        assert appointment["patient_id"] == referral["patient_id"]
        assert appointment["clinician_id"] == referral["referred_to_clinician_id"]
        assert appointment["facility_id"] == referral["referred_to_facility_id"]
        assert appointment["status"] == "Scheduled"
        seen_on = day(appointment["appointment_date"])
        assert seen_on > day(referral["referral_date"])
        if referral["urgency_level"] == "Urgent":
            assert (seen_on - day(referral["referral_date"])).days <= 12 + 60
        assert (seen_on >= today) == (referral["status"] == "Pending")
    assert linked > 5


# ---- The demo's own people ----------------------------------------------------------------------------


def test_the_demo_cast_is_where_the_logins_expect_them(data):
    today, _files = data
    dataset = DemoDataset(patients=PATIENTS, seed=7, today=today)
    files = rows(today)
    cast = dataset.cast
    patients = by_id(files["patients.csv"], "patient_id")
    clinicians = by_id(files["clinicians.csv"], "clinician_id")
    staff = by_id(files["staff.csv"], "staff_id")
    first_surgery, first_hospital = "S001", "H001"
    assert patients[cast.patient]["gp_surgery_id"] == first_surgery
    assert (clinicians[cast.gp]["title"], clinicians[cast.gp]["workplace_id"]) == ("GP", first_surgery)
    assert (clinicians[cast.nurse]["title"], clinicians[cast.nurse]["workplace_id"]) == (
        "Practice Nurse",
        first_surgery,
    )
    assert (clinicians[cast.specialist]["title"], clinicians[cast.specialist]["workplace_id"]) == (
        "Consultant",
        first_hospital,
    )
    assert (staff[cast.reception]["role"], staff[cast.reception]["facility_id"]) == ("Receptionist", first_surgery)
    assert (staff[cast.hospital_reception]["role"], staff[cast.hospital_reception]["facility_id"]) == (
        "Appointments Coordinator",
        first_hospital,
    )
    assert (staff[cast.manager]["role"], staff[cast.manager]["access_level"], staff[cast.manager]["facility_id"]) == (
        "Practice Manager",
        "Manager",
        first_surgery,
    )
    # The specialist sees the demo patient: a referral to them, and an appointment with them ahead.
    referral = next(r for r in files["referrals.csv"] if r["patient_id"] == cast.patient)
    assert referral["referred_to_clinician_id"] == cast.specialist and referral["status"] == "Pending"
    appointment = by_id(files["appointments.csv"], "appointment_id")[referral["appointment_id"]]
    assert day(appointment["appointment_date"]) > today
    # ... and the GP and the nurse have the demo patient booked in the weeks ahead.
    ahead = {
        a["clinician_id"]
        for a in files["appointments.csv"]
        if a["patient_id"] == cast.patient and day(a["appointment_date"]) >= today
    }
    assert {cast.gp, cast.nurse, cast.specialist} <= ahead
    assert any(p["patient_id"] == cast.patient for p in files["prescriptions.csv"])
    dataset.close()


# ---- Determinism and memory ---------------------------------------------------------------------------


def test_the_same_seed_on_the_same_day_gives_the_same_data():
    assert rows(EASTER_WEEK, 300, 11) == rows.__wrapped__(EASTER_WEEK, 300, 11)
    assert rows(EASTER_WEEK, 300, 11)["patients.csv"] != rows(EASTER_WEEK, 300, 12)["patients.csv"]


def test_dates_follow_the_day_it_is_run():
    later = rows(EASTER_WEEK + dt.timedelta(days=100), 300, 11)
    today = EASTER_WEEK + dt.timedelta(days=100)
    assert any(day(a["appointment_date"]) >= today for a in later["appointments.csv"])
    assert max(day(a["created_date"]) for a in later["appointments.csv"]) <= today


def test_patients_are_made_only_as_their_rows_are_read():
    dataset = DemoDataset(patients=5000, seed=1, today=EASTER_WEEK)
    streams = dataset.rows_by_file()
    assert dataset._made == 0
    next(streams["patients.csv"])
    assert 0 < dataset._made < 5000
    dataset.close()


def test_spool_keeps_order_while_moving_to_disk_and_back():
    spool = Spool(memory_rows=5)
    expected: list[tuple[str, ...]] = []
    taken: list[tuple[str, ...]] = []
    for number in range(40):
        batch = [(f"row{number}", str(index)) for index in range(3)]
        expected.extend(batch)
        spool.put(batch)
        if number % 7 == 0:  # read a little between writes, as the importer does
            taken.extend(spool.take() or [])
    assert spool._file is not None  # more was waiting than the memory allows
    while (batch := spool.take()) is not None:
        taken.extend(batch)
    assert taken == expected
    spool.close()


def test_england_bank_holidays():
    assert england_bank_holidays(2026) == {
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 3),
        dt.date(2026, 4, 6),
        dt.date(2026, 5, 4),
        dt.date(2026, 5, 25),
        dt.date(2026, 8, 31),
        dt.date(2026, 12, 25),
        dt.date(2026, 12, 28),
    }
    # Christmas on a Saturday: Monday and Tuesday instead. On a Sunday: Boxing Day Monday, then Tuesday.
    assert {dt.date(2027, 12, 27), dt.date(2027, 12, 28)} <= england_bank_holidays(2027)
    assert {dt.date(2022, 12, 26), dt.date(2022, 12, 27)} <= england_bank_holidays(2022)
    assert dt.date(2028, 1, 3) in england_bank_holidays(2028)  # 1 January 2028 is a Saturday


def test_needs_at_least_one_patient():
    with pytest.raises(ValueError):
        DemoDataset(patients=0, today=EASTER_WEEK)


def test_a_full_diary_day_gives_every_slot_once_then_moves_on():
    # Busy enough that a day fills: each booking of one day must take a different slot, and the next
    # booking must go to the clinician's next working day.
    dataset = DemoDataset(patients=10, seed=5, today=EASTER_WEEK)
    gp = dataset._surgeries[0].gps[0]
    monday = EASTER_WEEK.toordinal()
    taken = [dataset._book(gp, monday, monday, set()) for _ in range(len(gp.slots))]
    assert all(booking is not None and booking[0] == monday for booking in taken)
    starts = sorted(booking[1] for booking in taken if booking)
    assert len(set(starts)) == len(starts) == len(gp.slots)
    assert all(later - earlier >= gp.slot_minutes for earlier, later in itertools.pairwise(starts))
    assert dataset._book(gp, monday, monday, set()) is None
    next_booking = dataset._book(gp, monday, monday + 14, set())
    assert next_booking is not None and next_booking[0] > monday
    assert dt.date.fromordinal(next_booking[0]).weekday() in gp.workdays
    dataset.close()


def test_the_same_seed_gives_the_same_data_in_another_process():
    # Set iteration order changes between processes (hash randomisation); nothing may depend on it.
    script = (
        "import datetime as dt, hashlib\n"
        "from carebridge.demo.generator import DemoDataset\n"
        "d = DemoDataset(patients=300, seed=99, today=dt.date(2026, 6, 1))\n"
        "h = hashlib.sha256()\n"
        "for name, rows in d.rows_by_file().items():\n"
        "    for line, row in rows: h.update(repr((name, line, row)).encode())\n"
        "print(h.hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert len(digests) == 1


@pytest.mark.parametrize("patients", [1, 2, 9])
def test_a_handful_of_patients_still_gives_every_login_someone_to_be(patients):
    files = rows(EASTER_WEEK, patients, 3)
    dataset = DemoDataset(patients=patients, seed=3, today=EASTER_WEEK)
    assert len(files["patients.csv"]) == patients
    assert files["patients.csv"][0]["patient_id"] == dataset.cast.patient
    assert files["patients.csv"][0]["gp_surgery_id"] == "S001"
    referral = files["referrals.csv"][0]
    assert (referral["patient_id"], referral["referred_to_clinician_id"]) == (
        dataset.cast.patient,
        dataset.cast.specialist,
    )
    assert referral["appointment_id"]
    dataset.close()
