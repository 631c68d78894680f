"""The coded lists hold together: well-formed SNOMED CT concept IDs, unique displays, and allergy keys
that the formulary's safety checks can match."""

import re

from carebridge.clinical.codes import ALLERGY_SUBSTANCES, CONDITIONS, CONDITIONS_BY_CODE, is_concept_id
from carebridge.prescribing.formulary import MEDICINES


def test_there_are_enough_conditions():
    assert len(CONDITIONS) >= 30


def test_concept_id_check_catches_typos():
    assert is_concept_id("138875005")  # the SNOMED CT root concept
    assert is_concept_id("195967001")
    assert not is_concept_id("195967002")  # wrong check digit
    assert not is_concept_id("195976001")  # two digits swapped
    assert not is_concept_id("195967011")  # a description's partition, not a concept's
    assert not is_concept_id("0195967001")
    assert not is_concept_id("19596")
    assert not is_concept_id("1959670O1")


def test_every_condition_is_a_well_formed_international_concept():
    for concept in CONDITIONS:
        assert is_concept_id(concept.code), concept
        # The international release: partition 00, not an extension's 10.
        assert concept.code[-3:-1] == "00", concept


def test_codes_and_displays_are_unique():
    codes = [concept.code for concept in CONDITIONS]
    displays = [concept.display.lower() for concept in CONDITIONS]
    assert len(codes) == len(set(codes))
    assert len(displays) == len(set(displays))
    assert len(CONDITIONS_BY_CODE) == len(CONDITIONS)


def test_displays_are_trimmed_and_in_uk_english():
    for concept in CONDITIONS:
        display = concept.display
        assert display == display.strip() and display[0].isupper(), display
        assert "(disorder)" not in display and "(finding)" not in display, display
        # American spellings: "emia" without the a of "aemia", "edema" without the o of "oedema", and so on.
        assert not re.search(r"(?<!a)emi[ac]|\bhem[oa]|(?<!o)e(dema|sophag)|(apn|rrh|spn)ea\b", display.lower()), (
            display
        )


def test_the_issues_conditions_are_there():
    for code, display in [
        ("59621000", "Essential hypertension"),
        ("44054006", "Type 2 diabetes mellitus"),
        ("195967001", "Asthma"),
        ("68566005", "Urinary tract infectious disease"),
        ("17741008", "Acute tonsillitis"),
        ("235595009", "Gastro-oesophageal reflux disease"),
        ("87522002", "Iron deficiency anaemia"),
        ("709044004", "Chronic kidney disease"),
    ]:
        assert CONDITIONS_BY_CODE[code].display == display


def test_allergy_keys_are_unique_with_unique_displays():
    keys = [key for key, _ in ALLERGY_SUBSTANCES]
    displays = [display for _, display in ALLERGY_SUBSTANCES]
    assert len(keys) == len(set(keys))
    assert len(displays) == len(set(displays))
    assert keys == sorted(keys)


def test_every_allergy_key_is_a_class_or_substance_in_the_formulary():
    vocabulary = {medicine.drug_class for medicine in MEDICINES} | {
        substance for medicine in MEDICINES for substance in medicine.substances
    }
    for key, _ in ALLERGY_SUBSTANCES:
        assert key in vocabulary, key


def test_the_commonest_drug_allergies_can_be_recorded():
    keys = {key for key, _ in ALLERGY_SUBSTANCES}
    assert {
        "penicillins",
        "amoxicillin",
        "nsaids",
        "aspirin",
        "codeine",
        "opioids",
        "macrolides",
        "trimethoprim",
        "tetracyclines",
        "statins",
        "ace inhibitors",
        "cephalosporins",
    } <= keys
