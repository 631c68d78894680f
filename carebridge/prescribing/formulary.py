"""A formulary of common UK primary-care medicines, and the interactions the safety checks know.

Written from public facts (the BNF's drug classes and usual adult maximum doses, well-known
interactions); it is a teaching-sized list, not a licensed drug database. A medicine not here can still
be prescribed as free text, with a warning that no safety checks could run on it.

Names are lower-case keys throughout: a medicine's `key`, its `drug_class` and its `substances` are the
vocabulary that allergies are recorded in and interactions are written in, so an allergy to
"penicillins" (a class) or "amoxicillin" (a substance) meets co-amoxiclav, which contains amoxicillin
and is a penicillin.
"""

from dataclasses import dataclass
from decimal import Decimal

DMD = "https://dmd.nhs.uk"


@dataclass(frozen=True)
class Strength:
    value: Decimal  # 500
    unit: str  # "mg": the dose unit one unit of the form carries


@dataclass(frozen=True)
class Medicine:
    key: str  # "amoxicillin"
    name: str  # "Amoxicillin", as prescribed and printed
    form: str  # "capsule", "tablet", "oral suspension", "inhaler", "cream"
    form_unit: str  # what a quantity is counted in: "capsules", "tablets", "ml", "inhaler", "g"
    strengths: tuple[Strength, ...]  # what one form unit contains, for working out quantities
    dose_unit: str  # the unit a dose is written in: "mg", "microgram", "puff", "application", "ml"
    drug_class: str  # "penicillins"
    substances: tuple[str, ...]  # ("amoxicillin",); co-amoxiclav: ("amoxicillin", "clavulanic acid")
    # Usual adult maximum in a day, in `dose_unit`; None where no single figure applies (creams).
    max_daily_dose: Decimal | None
    pregnancy_caution: bool = False
    dmd_code: str | None = None  # only where we know it; none are guessed


@dataclass(frozen=True)
class Interaction:
    """Two medicines (each named by key, class or substance) that should not be given together unthinking."""

    first: str
    second: str
    advice: str  # plain English: what happens, for the prescriber


# Shorthand helpers keep each entry on a few lines; every figure is an adult oral dose unless the form says otherwise.
def _mg(*values: str) -> tuple[Strength, ...]:
    return tuple(Strength(Decimal(value), "mg") for value in values)


def _micrograms(*values: str) -> tuple[Strength, ...]:
    return tuple(Strength(Decimal(value), "microgram") for value in values)


def _medicine(
    key: str,
    name: str,
    form: str,
    form_unit: str,
    strengths: tuple[Strength, ...],
    dose_unit: str,
    drug_class: str,
    substances: tuple[str, ...],
    max_daily_dose: str | None,
    *,
    pregnancy_caution: bool = False,
) -> Medicine:
    return Medicine(
        key=key,
        name=name,
        form=form,
        form_unit=form_unit,
        strengths=strengths,
        dose_unit=dose_unit,
        drug_class=drug_class,
        substances=substances,
        max_daily_dose=None if max_daily_dose is None else Decimal(max_daily_dose),
        pregnancy_caution=pregnancy_caution,
    )


# Maximum daily doses are the highest daily dose in the BNF's usual adult indications for the form
# (treatment of severe infection included; specialist-only regimens such as Zollinger-Ellison doses of a
# PPI left out), so a warning means "above anything usual", not "above the commonest dose".
# `pregnancy_caution` marks medicines the BNF says to avoid in pregnancy, or in part of it (nitrofurantoin
# at term, trimethoprim in the first trimester); it is left off where the BNF asks only for care.
# The tables are laid out by hand, an entry to a line or two, so they read as tables.
# fmt: off
MEDICINES: tuple[Medicine, ...] = (
    # Antibacterials
    _medicine("amoxicillin", "Amoxicillin", "capsule", "capsules", _mg("250", "500"), "mg",
              "penicillins", ("amoxicillin",), "3000"),  # 1 g three times a day, severe infection
    # Co-amoxiclav strengths and doses are written as the amoxicillin content ("500/125" is 500 mg of
    # amoxicillin with 125 mg of clavulanic acid), as its doses are; STRENGTH_LABELS prints both parts.
    # Two 250/125 tablets are not one 500/125 (twice the clavulanic acid): dosing picks whole tablets of
    # the strength that fits the dose.
    _medicine("co-amoxiclav", "Co-amoxiclav", "tablet", "tablets", _mg("250", "500"), "mg",
              "penicillins", ("amoxicillin", "clavulanic acid"), "1500"),  # 500/125 three times a day
    _medicine("phenoxymethylpenicillin", "Phenoxymethylpenicillin", "tablet", "tablets", _mg("250"), "mg",
              "penicillins", ("phenoxymethylpenicillin",), "4000"),  # 1 g four times a day
    _medicine("flucloxacillin", "Flucloxacillin", "capsule", "capsules", _mg("250", "500"), "mg",
              "penicillins", ("flucloxacillin",), "4000"),  # 1 g four times a day
    _medicine("cefalexin", "Cefalexin", "capsule", "capsules", _mg("250", "500"), "mg",
              "cephalosporins", ("cefalexin",), "6000"),  # 1.5 g four times a day, severe infection
    _medicine("clarithromycin", "Clarithromycin", "tablet", "tablets", _mg("250", "500"), "mg",
              "macrolides", ("clarithromycin",), "1000", pregnancy_caution=True),
    _medicine("erythromycin", "Erythromycin", "tablet", "tablets", _mg("250", "500"), "mg",
              "macrolides", ("erythromycin",), "4000"),  # severe infection
    _medicine("doxycycline", "Doxycycline", "capsule", "capsules", _mg("50", "100"), "mg",
              "tetracyclines", ("doxycycline",), "200", pregnancy_caution=True),
    _medicine("trimethoprim", "Trimethoprim", "tablet", "tablets", _mg("100", "200"), "mg",
              "diaminopyrimidines", ("trimethoprim",), "400", pregnancy_caution=True),  # folate antagonist
    _medicine("nitrofurantoin", "Nitrofurantoin", "capsule", "capsules", _mg("50", "100"), "mg",
              "nitrofurans", ("nitrofurantoin",), "400", pregnancy_caution=True),  # avoid at term
    _medicine("metronidazole", "Metronidazole", "tablet", "tablets", _mg("200", "400"), "mg",
              "nitroimidazoles", ("metronidazole",), "2000"),  # 2 g single dose
    _medicine("fluconazole", "Fluconazole", "capsule", "capsules", _mg("50", "150", "200"), "mg",
              "triazole antifungals", ("fluconazole",), "400", pregnancy_caution=True),
    # Pain and inflammation
    _medicine("paracetamol", "Paracetamol", "tablet", "tablets", _mg("500"), "mg",
              "non-opioid analgesics", ("paracetamol",), "4000"),
    _medicine("ibuprofen", "Ibuprofen", "tablet", "tablets", _mg("200", "400", "600"), "mg",
              "nsaids", ("ibuprofen",), "2400", pregnancy_caution=True),
    _medicine("naproxen", "Naproxen", "tablet", "tablets", _mg("250", "500"), "mg",
              "nsaids", ("naproxen",), "1250", pregnancy_caution=True),  # acute musculoskeletal, gout
    _medicine("codeine phosphate", "Codeine phosphate", "tablet", "tablets", _mg("15", "30", "60"), "mg",
              "opioids", ("codeine",), "240"),
    _medicine("tramadol", "Tramadol hydrochloride", "capsule", "capsules", _mg("50"), "mg",
              "opioids", ("tramadol",), "400", pregnancy_caution=True),
    _medicine("sumatriptan", "Sumatriptan", "tablet", "tablets", _mg("50", "100"), "mg",
              "triptans", ("sumatriptan",), "300"),
    _medicine("allopurinol", "Allopurinol", "tablet", "tablets", _mg("100", "300"), "mg",
              "xanthine oxidase inhibitors", ("allopurinol",), "900"),
    _medicine("colchicine", "Colchicine", "tablet", "tablets", _micrograms("500"), "microgram",
              "colchicine", ("colchicine",), "2000", pregnancy_caution=True),  # 500 micrograms four times a day
    # Weekly, never daily. The daily figure is 25 mg a week as a daily average (rounded up), which is how
    # dosing.daily_dose counts a once-weekly dose, so a daily dose of 5 mg or more is caught.
    _medicine("methotrexate", "Methotrexate", "tablet", "tablets", _mg("2.5"), "mg",
              "antimetabolites", ("methotrexate",), "3.58", pregnancy_caution=True),
    # Stomach
    _medicine("omeprazole", "Omeprazole", "gastro-resistant capsule", "capsules", _mg("10", "20", "40"), "mg",
              "proton pump inhibitors", ("omeprazole",), "80"),  # 40 mg twice a day, H. pylori
    _medicine("lansoprazole", "Lansoprazole", "gastro-resistant capsule", "capsules", _mg("15", "30"), "mg",
              "proton pump inhibitors", ("lansoprazole",), "60"),  # 30 mg twice a day, H. pylori
    _medicine("lactulose", "Lactulose", "oral solution", "ml", (Strength(Decimal("1"), "ml"),), "ml",
              "osmotic laxatives", ("lactulose",), "150"),  # 50 ml three times a day, hepatic encephalopathy
    # Heart and circulation
    _medicine("aspirin", "Aspirin dispersible", "dispersible tablet", "tablets", _mg("75", "300"), "mg",
              "antiplatelets", ("aspirin",), "300"),  # 300 mg a day after an ischaemic stroke
    _medicine("clopidogrel", "Clopidogrel", "tablet", "tablets", _mg("75"), "mg",
              "antiplatelets", ("clopidogrel",), "300"),  # 300 mg loading dose
    _medicine("simvastatin", "Simvastatin", "tablet", "tablets", _mg("10", "20", "40", "80"), "mg",
              "statins", ("simvastatin",), "80", pregnancy_caution=True),
    _medicine("atorvastatin", "Atorvastatin", "tablet", "tablets", _mg("10", "20", "40", "80"), "mg",
              "statins", ("atorvastatin",), "80", pregnancy_caution=True),
    _medicine("amlodipine", "Amlodipine", "tablet", "tablets", _mg("5", "10"), "mg",
              "calcium channel blockers", ("amlodipine",), "10"),
    _medicine("ramipril", "Ramipril", "capsule", "capsules", _mg("1.25", "2.5", "5", "10"), "mg",
              "ace inhibitors", ("ramipril",), "10", pregnancy_caution=True),
    _medicine("lisinopril", "Lisinopril", "tablet", "tablets", _mg("2.5", "5", "10", "20"), "mg",
              "ace inhibitors", ("lisinopril",), "80", pregnancy_caution=True),  # hypertension
    _medicine("losartan", "Losartan potassium", "tablet", "tablets", _mg("12.5", "25", "50", "100"), "mg",
              "angiotensin ii receptor blockers", ("losartan",), "150", pregnancy_caution=True),  # heart failure
    _medicine("bisoprolol", "Bisoprolol fumarate", "tablet", "tablets", _mg("1.25", "2.5", "5", "10"), "mg",
              "beta-blockers", ("bisoprolol",), "20"),  # hypertension, angina
    _medicine("bendroflumethiazide", "Bendroflumethiazide", "tablet", "tablets", _mg("2.5", "5"), "mg",
              "thiazide diuretics", ("bendroflumethiazide",), "10"),  # oedema
    _medicine("furosemide", "Furosemide", "tablet", "tablets", _mg("20", "40"), "mg",
              "loop diuretics", ("furosemide",), "120"),  # resistant oedema
    _medicine("spironolactone", "Spironolactone", "tablet", "tablets", _mg("25", "50", "100"), "mg",
              "aldosterone antagonists", ("spironolactone",), "400"),  # oedema, primary hyperaldosteronism
    _medicine("warfarin", "Warfarin sodium", "tablet", "tablets", _mg("0.5", "1", "3", "5"), "mg",
              # Dosed to the INR, with no usual ceiling: the dose check cannot help; the INR does.
              "coumarin anticoagulants", ("warfarin",), None, pregnancy_caution=True),
    _medicine("apixaban", "Apixaban", "tablet", "tablets", _mg("2.5", "5"), "mg",
              "direct oral anticoagulants", ("apixaban",), "20", pregnancy_caution=True),  # first week for VTE
    # Diabetes and thyroid
    _medicine("metformin", "Metformin hydrochloride", "tablet", "tablets", _mg("500", "850"), "mg",
              "biguanides", ("metformin",), "2000"),
    _medicine("gliclazide", "Gliclazide", "tablet", "tablets", _mg("40", "80"), "mg",
              "sulfonylureas", ("gliclazide",), "320", pregnancy_caution=True),  # insulin is used instead
    _medicine("levothyroxine", "Levothyroxine sodium", "tablet", "tablets", _micrograms("25", "50", "100"),
              "microgram", "thyroid hormones", ("levothyroxine",), "200"),  # usual maintenance 100-200
    # Chest. Inhalers are counted in doses (one actuation, "puff"), as dm+d counts them; a dose is written
    # in micrograms, so "200 micrograms" of a 100 microgram inhaler is 2 puffs. PACK_DOSES says how many
    # doses one inhaler holds, for turning doses into whole inhalers.
    _medicine("salbutamol", "Salbutamol inhaler", "pressurised inhaler", "doses", _micrograms("100"),
              "microgram", "short-acting beta2 agonists", ("salbutamol",), "800"),  # 2 puffs four times a day
    # Beclometasone is prescribed by brand (the brands are not interchangeable); this is Clenil Modulite,
    # a standard-particle inhaler.
    _medicine("beclometasone", "Beclometasone inhaler (Clenil Modulite)", "pressurised inhaler", "doses",
              _micrograms("50", "100", "200", "250"), "microgram", "inhaled corticosteroids",
              ("beclometasone",), "2000"),
    # Mind
    _medicine("sertraline", "Sertraline", "tablet", "tablets", _mg("50", "100"), "mg",
              "ssris", ("sertraline",), "200"),
    _medicine("citalopram", "Citalopram", "tablet", "tablets", _mg("10", "20", "40"), "mg",
              "ssris", ("citalopram",), "40"),  # 20 mg over 65 (QT)
    _medicine("fluoxetine", "Fluoxetine", "capsule", "capsules", _mg("20"), "mg",
              "ssris", ("fluoxetine",), "60"),
    _medicine("amitriptyline", "Amitriptyline hydrochloride", "tablet", "tablets", _mg("10", "25", "50"), "mg",
              "tricyclic antidepressants", ("amitriptyline",), "150"),  # depression; 75 mg for nerve pain
    # Allergy and inflammation
    _medicine("prednisolone", "Prednisolone", "tablet", "tablets", _mg("1", "5", "25"), "mg",
              "corticosteroids", ("prednisolone",), "60"),
    _medicine("cetirizine", "Cetirizine hydrochloride", "tablet", "tablets", _mg("10"), "mg",
              "antihistamines", ("cetirizine",), "10"),
    _medicine("loratadine", "Loratadine", "tablet", "tablets", _mg("10"), "mg",
              "antihistamines", ("loratadine",), "10"),
    # A cream's strength is a percentage and its dose an application (no amount): the one medicine whose
    # strength is not in its dose unit, so no quantity is worked out and no daily maximum applies.
    _medicine("hydrocortisone cream", "Hydrocortisone 1% cream", "cream", "g", (Strength(Decimal("1"), "%"),),
              "application", "topical corticosteroids", ("hydrocortisone",), None),
    # Vitamins and minerals
    _medicine("folic acid", "Folic acid", "tablet", "tablets", _mg("0.4", "5"), "mg",
              "folates", ("folic acid",), "15"),  # malabsorption
    _medicine("ferrous sulfate", "Ferrous sulfate", "tablet", "tablets", _mg("200"), "mg",
              "iron supplements", ("ferrous sulfate",), "600"),  # 200 mg (65 mg iron) three times a day
    # Doses in international units. The largest usual loading regimen is 50 000 units once weekly, which
    # dosing counts as 7 143 units a day; 4 000 units daily is the largest daily regimen.
    _medicine("colecalciferol", "Colecalciferol", "capsule", "capsules",
              tuple(Strength(Decimal(value), "unit") for value in ("800", "1000", "20000")), "unit",
              "vitamin d", ("colecalciferol",), "7143"),
)

INTERACTIONS: tuple[Interaction, ...] = (
    # Bleeding
    Interaction("warfarin", "nsaids", "NSAIDs raise the risk of bleeding with warfarin, especially from the "
                "stomach: avoid, or add stomach protection and check the INR."),
    Interaction("apixaban", "nsaids", "NSAIDs raise the risk of bleeding with apixaban: avoid them if you can."),
    Interaction("warfarin", "antiplatelets", "An antiplatelet with warfarin raises the risk of serious "
                "bleeding: give both only where a specialist plan says so."),
    Interaction("apixaban", "antiplatelets", "An antiplatelet with apixaban raises the risk of serious "
                "bleeding: give both only where a specialist plan says so."),
    Interaction("warfarin", "apixaban", "Two anticoagulants together cause serious bleeding: stop one when "
                "switching, following the switching advice."),
    Interaction("ssris", "nsaids", "An SSRI with an NSAID raises the risk of stomach bleeding: avoid, or add "
                "a proton pump inhibitor."),
    Interaction("ssris", "warfarin", "SSRIs raise the risk of bleeding with warfarin: check the INR and watch "
                "for bleeding."),
    Interaction("nsaids", "antiplatelets", "An NSAID with an antiplatelet raises the risk of stomach "
                "bleeding, and ibuprofen can blunt low-dose aspirin's effect."),
    Interaction("corticosteroids", "nsaids", "An oral corticosteroid with an NSAID raises the risk of "
                "stomach ulcers and bleeding: add stomach protection or avoid."),
    Interaction("warfarin", "macrolides", "Clarithromycin and erythromycin raise the INR on warfarin: check "
                "the INR within a few days of starting."),
    Interaction("warfarin", "metronidazole", "Metronidazole markedly raises the INR on warfarin: avoid, or "
                "reduce the warfarin dose and check the INR closely."),
    Interaction("warfarin", "fluconazole", "Fluconazole markedly raises the INR on warfarin: avoid, or check "
                "the INR closely."),
    # Muscle damage with statins
    Interaction("simvastatin", "clarithromycin", "Clarithromycin with simvastatin risks myopathy and "
                "rhabdomyolysis and is contraindicated: stop simvastatin for the course."),
    Interaction("simvastatin", "erythromycin", "Erythromycin with simvastatin risks myopathy and "
                "rhabdomyolysis and is contraindicated: stop simvastatin for the course."),
    Interaction("atorvastatin", "clarithromycin", "Clarithromycin raises atorvastatin levels and the risk of "
                "myopathy: pause atorvastatin for the course or use a low dose."),
    Interaction("simvastatin", "amlodipine", "Amlodipine raises simvastatin levels and the risk of myopathy: "
                "do not give more than 20 mg of simvastatin a day."),
    Interaction("clarithromycin", "colchicine", "Clarithromycin raises colchicine levels and can cause fatal "
                "colchicine toxicity: avoid together."),
    # Kidneys and potassium
    Interaction("ace inhibitors", "nsaids", "An NSAID with an ACE inhibitor can harm kidney function and "
                "blunt the blood pressure effect: avoid, or check renal function."),
    Interaction("angiotensin ii receptor blockers", "nsaids", "An NSAID with an angiotensin II receptor "
                "blocker can harm kidney function and blunt the blood pressure effect: avoid, or check renal "
                "function."),
    Interaction("ace inhibitors", "angiotensin ii receptor blockers", "An ACE inhibitor with an angiotensin "
                "II receptor blocker (dual blockade) risks high potassium, kidney injury and low blood "
                "pressure: do not combine."),
    Interaction("ace inhibitors", "aldosterone antagonists", "Spironolactone with an ACE inhibitor can raise "
                "potassium dangerously: check potassium and renal function."),
    Interaction("angiotensin ii receptor blockers", "aldosterone antagonists", "Spironolactone with an "
                "angiotensin II receptor blocker can raise potassium dangerously: check potassium and renal "
                "function."),
    Interaction("methotrexate", "trimethoprim", "Trimethoprim with methotrexate can cause severe bone marrow "
                "suppression: avoid together."),
    Interaction("methotrexate", "nsaids", "NSAIDs slow the clearance of methotrexate and raise its "
                "toxicity: avoid, or monitor blood counts and renal function."),
    # Serotonin and the heart's rhythm
    Interaction("tramadol", "ssris", "Tramadol with an SSRI risks serotonin syndrome and fits: avoid if you "
                "can, and warn the patient."),
    Interaction("tramadol", "tricyclic antidepressants", "Tramadol with a tricyclic antidepressant risks "
                "serotonin syndrome and fits: avoid if you can."),
    Interaction("triptans", "ssris", "A triptan with an SSRI can rarely cause serotonin syndrome: warn the "
                "patient what to look for."),
    Interaction("citalopram", "macrolides", "Citalopram with clarithromycin or erythromycin prolongs the QT "
                "interval and risks arrhythmia: avoid together."),
    Interaction("fluconazole", "sulfonylureas", "Fluconazole raises sulfonylurea levels and can cause "
                "hypoglycaemia: warn the patient and check blood glucose."),
    Interaction("clopidogrel", "omeprazole", "Omeprazole reduces clopidogrel's antiplatelet effect: if a "
                "proton pump inhibitor is needed, choose another, such as lansoprazole."),
    # Absorption
    Interaction("tetracyclines", "iron supplements", "Iron stops doxycycline being absorbed: take them at "
                "least two to three hours apart."),
    Interaction("levothyroxine", "iron supplements", "Iron reduces the absorption of levothyroxine: take "
                "them at least four hours apart."),
)
# fmt: on

MEDICINES_BY_KEY = {medicine.key: medicine for medicine in MEDICINES}


# How each class reads in a sentence ("another of the NSAIDs"), and in the allergy list.
CLASS_NAMES: dict[str, str] = {
    "penicillins": "penicillins",
    "cephalosporins": "cephalosporins",
    "macrolides": "macrolides",
    "tetracyclines": "tetracyclines",
    "diaminopyrimidines": "trimethoprim-type antibacterials",
    "nitrofurans": "nitrofurans",
    "nitroimidazoles": "nitroimidazoles",
    "triazole antifungals": "triazole antifungals",
    "non-opioid analgesics": "non-opioid painkillers",
    "nsaids": "NSAIDs",
    "opioids": "opioids",
    "triptans": "triptans",
    "xanthine oxidase inhibitors": "xanthine oxidase inhibitors",
    "colchicine": "colchicine",
    "antimetabolites": "antimetabolites",
    "proton pump inhibitors": "proton pump inhibitors",
    "osmotic laxatives": "osmotic laxatives",
    "antiplatelets": "antiplatelets",
    "statins": "statins",
    "calcium channel blockers": "calcium channel blockers",
    "ace inhibitors": "ACE inhibitors",
    "angiotensin ii receptor blockers": "angiotensin II receptor blockers",
    "beta-blockers": "beta-blockers",
    "thiazide diuretics": "thiazide diuretics",
    "loop diuretics": "loop diuretics",
    "aldosterone antagonists": "aldosterone antagonists",
    "coumarin anticoagulants": "coumarin anticoagulants",
    "direct oral anticoagulants": "direct oral anticoagulants",
    "biguanides": "biguanides",
    "sulfonylureas": "sulfonylureas",
    "thyroid hormones": "thyroid hormones",
    "short-acting beta2 agonists": "short-acting beta2 agonists",
    "inhaled corticosteroids": "inhaled corticosteroids",
    "ssris": "SSRIs",
    "tricyclic antidepressants": "tricyclic antidepressants",
    "corticosteroids": "oral corticosteroids",
    "antihistamines": "antihistamines",
    "topical corticosteroids": "topical corticosteroids",
    "folates": "folates",
    "iron supplements": "iron supplements",
    "vitamin d": "vitamin D",
}

# A strength's printed form where the value alone would mislead: co-amoxiclav's two parts.
STRENGTH_LABELS: dict[tuple[str, Decimal], str] = {
    ("co-amoxiclav", Decimal("250")): "250 mg/125 mg",
    ("co-amoxiclav", Decimal("500")): "500 mg/125 mg",
}

# How many doses (puffs) one inhaler holds, to turn a course's doses into whole inhalers.
PACK_DOSES: dict[str, int] = {"salbutamol": 200, "beclometasone": 200}

# Taken once a week, never daily: a daily dose is the classic fatal methotrexate error, and the daily
# maximum alone cannot catch a daily 2.5 mg, so the frequency itself must be checked.
WEEKLY_ONLY: frozenset[str] = frozenset({"methotrexate"})

# Classes where an allergy to one member is an allergy to them all (the BNF: a patient allergic to one
# penicillin is allergic to all; NSAIDs are contraindicated after a reaction to aspirin or any NSAID).
CLASS_WIDE_ALLERGIES: frozenset[str] = frozenset({"penicillins", "nsaids"})

# Allergies that reach beyond their own class, either way round: (a term, another term, why).
CROSS_SENSITIVITIES: tuple[tuple[str, str, str], ...] = (
    ("aspirin", "nsaids", "a reaction to aspirin or to any NSAID rules out the others"),
    (
        "penicillins",
        "cephalosporins",
        "someone with an immediate reaction to a penicillin may react to a cephalosporin",
    ),
)


def strength_label(medicine: Medicine, strength: Strength) -> str:
    """A strength as printed: "500 mg", "100 microgram", "1%", "500 mg/125 mg"."""
    label = STRENGTH_LABELS.get((medicine.key, strength.value))
    if label is not None:
        return label
    value = format(strength.value.normalize(), "f")
    return f"{value}%" if strength.unit == "%" else f"{value} {strength.unit}"


def medicine_terms(medicine: Medicine) -> frozenset[str]:
    """The vocabulary this medicine is known by: its key, its class, its substances."""
    return frozenset({medicine.key, medicine.drug_class, *medicine.substances})


def allergy_meets(allergy: str, medicine: Medicine) -> str | None:
    """Why an allergy recorded as `allergy` (a vocabulary key) rules against `medicine`, as the end of a
    plain-English sentence, or None where it does not.

    Beyond a direct match (the medicine, its class, a substance in it), an allergy to one penicillin or
    one NSAID meets the whole class, and CROSS_SENSITIVITIES reach from one class to another.
    """
    if allergy == medicine.key:
        return f"this is {medicine.name}"
    if allergy == medicine.drug_class:
        return f"{medicine.name} is one of the {CLASS_NAMES[medicine.drug_class]}"
    if allergy in medicine.substances:
        return f"{medicine.name} contains {allergy}"
    # The classes the allergy's own medicine or substance belongs to.
    allergy_terms = {allergy} | {other.drug_class for other in MEDICINES if allergy in (other.key, *other.substances)}
    if medicine.drug_class in allergy_terms & CLASS_WIDE_ALLERGIES:
        return (
            f"{medicine.name} is one of the {CLASS_NAMES[medicine.drug_class]}, like {allergy}, and an allergy "
            "to one is an allergy to all"
        )
    terms = medicine_terms(medicine)
    for first, second, why in CROSS_SENSITIVITIES:
        if (first in allergy_terms and second in terms) or (second in allergy_terms and first in terms):
            return f"{medicine.name} may cross-react: {why}"
    return None


def interactions_between(first: Medicine, second: Medicine) -> tuple[Interaction, ...]:
    """The known interactions between two medicines, either way round."""
    ours, theirs = medicine_terms(first), medicine_terms(second)
    return tuple(
        interaction
        for interaction in INTERACTIONS
        if (interaction.first in ours and interaction.second in theirs)
        or (interaction.second in ours and interaction.first in theirs)
    )
