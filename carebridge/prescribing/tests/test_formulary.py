"""The formulary's data holds together: every name the safety checks match on exists, doses and strengths
are in units that can be compared, and the facts the issue names are there."""

from decimal import Decimal

from carebridge.prescribing import dosing
from carebridge.prescribing.formulary import (
    CLASS_NAMES,
    INTERACTIONS,
    MEDICINES,
    MEDICINES_BY_KEY,
    PACK_DOSES,
    WEEKLY_ONLY,
    Strength,
    allergy_meets,
    interactions_between,
    medicine_terms,
    strength_label,
)

VOCABULARY = {term for medicine in MEDICINES for term in medicine_terms(medicine)}

# Strengths that are not an amount of the dose unit, and why: a cream's strength is a percentage and
# its dose an application.
STRENGTH_NOT_IN_DOSE_UNIT = {"hydrocortisone cream"}


def test_there_are_enough_medicines_and_interactions():
    assert len(MEDICINES) >= 40
    assert len(INTERACTIONS) >= 15


def test_keys_and_names_are_unique():
    keys = [medicine.key for medicine in MEDICINES]
    names = [medicine.name.lower() for medicine in MEDICINES]
    assert len(keys) == len(set(keys))
    assert len(names) == len(set(names))
    assert set(MEDICINES_BY_KEY) == set(keys)


def test_vocabulary_is_lower_case_and_trimmed():
    for term in VOCABULARY:
        assert term == term.lower().strip(), term
        assert term


def test_a_key_is_never_also_another_medicines_class():
    # A class named like a medicine would make an allergy to that medicine meet the whole class.
    classes = {medicine.drug_class for medicine in MEDICINES}
    for medicine in MEDICINES:
        if medicine.key in classes:
            assert all(other.drug_class != medicine.key or other.key == medicine.key for other in MEDICINES)


def test_every_class_has_a_display_name():
    classes = {medicine.drug_class for medicine in MEDICINES}
    assert classes == set(CLASS_NAMES)


def test_every_interaction_names_a_known_key_class_or_substance():
    for interaction in INTERACTIONS:
        assert interaction.first in VOCABULARY, interaction.first
        assert interaction.second in VOCABULARY, interaction.second
        assert interaction.first != interaction.second


def test_no_interaction_is_listed_twice_either_way_round():
    pairs = [frozenset((interaction.first, interaction.second)) for interaction in INTERACTIONS]
    assert len(pairs) == len(set(pairs))


def test_every_advice_is_one_plain_sentence():
    for interaction in INTERACTIONS:
        advice = interaction.advice
        assert advice[0].isupper() and advice.endswith("."), advice
        assert ". " not in advice, advice
        assert len(advice) <= 160, advice


def test_every_medicine_has_a_strength_in_its_dose_unit():
    for medicine in MEDICINES:
        assert medicine.strengths, medicine.key
        comparable = [
            strength
            for strength in medicine.strengths
            if dosing.in_unit(strength.value, strength.unit, medicine.dose_unit) is not None
        ]
        if medicine.key in STRENGTH_NOT_IN_DOSE_UNIT:
            assert not comparable
        else:
            assert comparable, medicine.key
        assert all(strength.value > 0 for strength in medicine.strengths)


def test_a_maximum_daily_dose_allows_at_least_one_of_the_smallest_strength():
    for medicine in MEDICINES:
        if medicine.max_daily_dose is None:
            continue
        smallest = min(
            dosing.in_unit(strength.value, strength.unit, medicine.dose_unit) or Decimal(0)
            for strength in medicine.strengths
        )
        assert medicine.max_daily_dose >= smallest, medicine.key


def test_only_the_documented_medicines_have_no_daily_maximum():
    assert {medicine.key for medicine in MEDICINES if medicine.max_daily_dose is None} == {
        "warfarin",  # dosed to the INR
        "hydrocortisone cream",  # applied thinly, no amount
    }


def test_the_issues_examples_are_there():
    amoxicillin = MEDICINES_BY_KEY["amoxicillin"]
    assert amoxicillin.drug_class == "penicillins"
    assert {strength.value for strength in amoxicillin.strengths} == {Decimal(250), Decimal(500)}
    co_amoxiclav = MEDICINES_BY_KEY["co-amoxiclav"]
    assert co_amoxiclav.drug_class == "penicillins"
    assert co_amoxiclav.substances == ("amoxicillin", "clavulanic acid")
    assert MEDICINES_BY_KEY["paracetamol"].max_daily_dose == Decimal(4000)
    assert MEDICINES_BY_KEY["aspirin"].drug_class == "antiplatelets"
    assert MEDICINES_BY_KEY["salbutamol"].strengths == (Strength(Decimal(100), "microgram"),)
    assert MEDICINES_BY_KEY["levothyroxine"].dose_unit == "microgram"
    assert MEDICINES_BY_KEY["lactulose"].dose_unit == "ml"
    assert all(medicine.dmd_code is None or medicine.dmd_code.isdigit() for medicine in MEDICINES)


def test_pregnancy_cautions_on_the_medicines_to_avoid():
    flagged = {medicine.key for medicine in MEDICINES if medicine.pregnancy_caution}
    assert {
        "doxycycline",
        "trimethoprim",
        "ibuprofen",
        "naproxen",
        "ramipril",
        "lisinopril",
        "losartan",
        "warfarin",
        "simvastatin",
        "atorvastatin",
        "methotrexate",
    } <= flagged
    assert {"paracetamol", "amoxicillin", "folic acid", "levothyroxine"}.isdisjoint(flagged)


def test_interactions_match_either_way_round():
    warfarin, ibuprofen = MEDICINES_BY_KEY["warfarin"], MEDICINES_BY_KEY["ibuprofen"]
    assert interactions_between(warfarin, ibuprofen) == interactions_between(ibuprofen, warfarin) != ()
    simvastatin, clarithromycin = MEDICINES_BY_KEY["simvastatin"], MEDICINES_BY_KEY["clarithromycin"]
    (found,) = interactions_between(clarithromycin, simvastatin)
    assert "contraindicated" in found.advice


def test_the_issues_pairs_all_interact():
    for first, second in [
        ("warfarin", "naproxen"),
        ("warfarin", "clarithromycin"),
        ("warfarin", "metronidazole"),
        ("warfarin", "fluconazole"),
        ("sertraline", "ibuprofen"),
        ("ramipril", "ibuprofen"),
        ("ramipril", "losartan"),
        ("lisinopril", "losartan"),
        ("ramipril", "spironolactone"),
        ("methotrexate", "trimethoprim"),
        ("tramadol", "citalopram"),
        ("citalopram", "clarithromycin"),
        ("simvastatin", "amlodipine"),
        ("atorvastatin", "clarithromycin"),
        ("apixaban", "naproxen"),
    ]:
        assert interactions_between(MEDICINES_BY_KEY[first], MEDICINES_BY_KEY[second]), (first, second)


def test_near_misses_do_not_interact():
    for first, second in [("amoxicillin", "paracetamol"), ("ramipril", "amlodipine"), ("metformin", "atorvastatin")]:
        assert interactions_between(MEDICINES_BY_KEY[first], MEDICINES_BY_KEY[second]) == (), (first, second)


def test_a_penicillin_allergy_meets_every_penicillin_and_nothing_unrelated():
    assert allergy_meets("penicillins", MEDICINES_BY_KEY["co-amoxiclav"]) is not None
    assert allergy_meets("amoxicillin", MEDICINES_BY_KEY["co-amoxiclav"]) is not None
    # An allergy to one penicillin is an allergy to all of them.
    assert allergy_meets("amoxicillin", MEDICINES_BY_KEY["flucloxacillin"]) is not None
    assert allergy_meets("penicillins", MEDICINES_BY_KEY["paracetamol"]) is None
    assert allergy_meets("penicillins", MEDICINES_BY_KEY["clarithromycin"]) is None
    # Cross-sensitivity, flagged so the prescriber asks what the reaction was.
    assert "cross-react" in (allergy_meets("penicillins", MEDICINES_BY_KEY["cefalexin"]) or "")


def test_aspirin_and_nsaid_allergies_meet_each_other():
    assert allergy_meets("aspirin", MEDICINES_BY_KEY["ibuprofen"]) is not None
    assert allergy_meets("nsaids", MEDICINES_BY_KEY["aspirin"]) is not None
    assert allergy_meets("ibuprofen", MEDICINES_BY_KEY["naproxen"]) is not None
    assert allergy_meets("aspirin", MEDICINES_BY_KEY["clopidogrel"]) is None
    assert allergy_meets("nsaids", MEDICINES_BY_KEY["paracetamol"]) is None


def test_strength_labels():
    co_amoxiclav = MEDICINES_BY_KEY["co-amoxiclav"]
    assert [strength_label(co_amoxiclav, strength) for strength in co_amoxiclav.strengths] == [
        "250 mg/125 mg",
        "500 mg/125 mg",
    ]
    cream = MEDICINES_BY_KEY["hydrocortisone cream"]
    assert strength_label(cream, cream.strengths[0]) == "1%"
    vitamin_d = MEDICINES_BY_KEY["colecalciferol"]
    assert strength_label(vitamin_d, vitamin_d.strengths[-1]) == "20000 unit"


def test_inhalers_are_counted_in_doses_that_fill_whole_packs():
    for key, doses in PACK_DOSES.items():
        assert MEDICINES_BY_KEY[key].form_unit == "doses"
        assert doses > 0


def test_methotrexates_maximum_allows_the_weekly_dose_and_catches_a_daily_one():
    methotrexate = MEDICINES_BY_KEY["methotrexate"]
    assert methotrexate.key in WEEKLY_ONLY
    assert methotrexate.max_daily_dose is not None
    assert Decimal(25) / 7 <= methotrexate.max_daily_dose < Decimal(5)


def test_co_amoxiclav_is_one_whole_tablet_a_dose_of_the_matching_strength():
    # Two 250/125 tablets are not one 500/125: the quantity must come out in 500/125 tablets.
    co_amoxiclav = MEDICINES_BY_KEY["co-amoxiclav"]
    assert dosing.units_per_dose(co_amoxiclav, Decimal(500), "mg") == 1
