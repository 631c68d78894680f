"""Coded clinical terms: common primary-care conditions and allergy substances, in SNOMED CT.

Written from public facts (the SNOMED CT concept IDs and their preferred terms); no terminology file
is loaded. A condition or allergy not on these lists may still be recorded as free text, flagged uncoded.
"""

from dataclasses import dataclass

SNOMED_CT = "http://snomed.info/sct"


@dataclass(frozen=True)
class Concept:
    code: str  # SNOMED CT concept ID
    display: str  # its preferred term, in UK English


# Common conditions treated in UK primary care, for the problem list: concepts from the international
# release (partition 00), each checked against its Verhoeff check digit in the tests. Symptoms come last,
# for when a consultation ends without a diagnosis.
CONDITIONS: tuple[Concept, ...] = (
    # Heart and circulation
    Concept("59621000", "Essential hypertension"),
    Concept("194828000", "Angina"),
    Concept("22298006", "Myocardial infarction"),
    Concept("414545008", "Ischaemic heart disease"),
    Concept("84114007", "Heart failure"),
    Concept("49436004", "Atrial fibrillation"),
    Concept("88610006", "Heart murmur"),
    Concept("230690007", "Cerebrovascular accident"),
    Concept("128053003", "Deep venous thrombosis"),
    Concept("59282003", "Pulmonary embolism"),
    Concept("55822004", "Hyperlipidaemia"),
    Concept("13644009", "Hypercholesterolaemia"),
    # Hormones and metabolism
    Concept("44054006", "Type 2 diabetes mellitus"),
    Concept("46635009", "Type 1 diabetes mellitus"),
    Concept("302866003", "Hypoglycaemia"),
    Concept("40930008", "Hypothyroidism"),
    Concept("34486009", "Hyperthyroidism"),
    Concept("414916001", "Obesity"),
    Concept("90560007", "Gout"),
    # Chest and ENT
    Concept("195967001", "Asthma"),
    Concept("13645005", "Chronic obstructive lung disease"),
    Concept("54150009", "Upper respiratory infection"),
    Concept("10509002", "Acute bronchitis"),
    Concept("233604007", "Pneumonia"),
    Concept("6142004", "Influenza"),
    Concept("840539006", "COVID-19"),
    Concept("17741008", "Acute tonsillitis"),
    Concept("363746003", "Acute pharyngitis"),
    Concept("43878008", "Streptococcal sore throat"),
    Concept("15805002", "Acute sinusitis"),
    Concept("36971009", "Sinusitis"),
    Concept("65363002", "Otitis media"),
    Concept("61582004", "Allergic rhinitis"),
    Concept("60862001", "Tinnitus"),
    Concept("78275009", "Obstructive sleep apnoea syndrome"),
    # Kidneys and urinary tract
    Concept("68566005", "Urinary tract infectious disease"),
    Concept("38822007", "Cystitis"),
    Concept("45816000", "Pyelonephritis"),
    Concept("709044004", "Chronic kidney disease"),
    Concept("95570007", "Kidney stone"),
    Concept("266569009", "Benign prostatic hyperplasia"),
    # Stomach and bowel
    Concept("235595009", "Gastro-oesophageal reflux disease"),
    Concept("4556007", "Gastritis"),
    Concept("13200003", "Peptic ulcer"),
    Concept("10743008", "Irritable bowel syndrome"),
    Concept("64766004", "Ulcerative colitis"),
    Concept("34000006", "Crohn's disease"),
    Concept("14760008", "Constipation"),
    Concept("70153002", "Haemorrhoids"),
    # Skin and infections
    Concept("24079001", "Atopic dermatitis"),
    Concept("43116000", "Eczema"),
    Concept("40275004", "Contact dermatitis"),
    Concept("9014002", "Psoriasis"),
    Concept("88616000", "Acne vulgaris"),
    Concept("128045006", "Cellulitis"),
    Concept("4740000", "Herpes zoster"),
    Concept("38907003", "Varicella"),
    Concept("72934000", "Candidiasis of vagina"),
    Concept("9826008", "Conjunctivitis"),
    # Bones, joints and muscles
    Concept("396275006", "Osteoarthritis"),
    Concept("69896004", "Rheumatoid arthritis"),
    Concept("64859006", "Osteoporosis"),
    Concept("279039007", "Low back pain"),
    Concept("23056005", "Sciatica"),
    Concept("81680005", "Neck pain"),
    Concept("44465007", "Sprain of ankle"),
    Concept("203082005", "Fibromyalgia"),
    # Mind and nervous system
    Concept("35489007", "Depressive disorder"),
    Concept("197480006", "Anxiety disorder"),
    Concept("47505003", "Post-traumatic stress disorder"),
    Concept("13746004", "Bipolar disorder"),
    Concept("58214004", "Schizophrenia"),
    Concept("193462001", "Insomnia"),
    Concept("52448006", "Dementia"),
    Concept("26929004", "Alzheimer's disease"),
    Concept("37796009", "Migraine"),
    Concept("84757009", "Epilepsy"),
    Concept("49049000", "Parkinson's disease"),
    Concept("24700007", "Multiple sclerosis"),
    Concept("399153001", "Vertigo"),
    # Blood
    Concept("87522002", "Iron deficiency anaemia"),
    Concept("271737000", "Anaemia"),
    # Symptoms
    Concept("25064002", "Headache"),
    Concept("49727002", "Cough"),
    Concept("386661006", "Fever"),
    Concept("267036007", "Dyspnoea"),
    Concept("29857009", "Chest pain"),
    Concept("21522001", "Abdominal pain"),
    Concept("62315008", "Diarrhoea"),
    Concept("422587007", "Nausea"),
    Concept("84229001", "Fatigue"),
    Concept("161891005", "Backache"),
    Concept("57676002", "Joint pain"),
    Concept("404640003", "Dizziness"),
    Concept("271594007", "Syncope"),
)

CONDITIONS_BY_CODE = {concept.code: concept for concept in CONDITIONS}

# What an allergy may be recorded against, as (key, display), alphabetical.
# Each key is a word of the formulary's vocabulary (carebridge.prescribing.formulary): a drug class or a
# substance, so the safety checks can match it; the tests hold the two together. Clinical stays
# independent of prescribing, so the keys are written out here rather than imported. Record the class
# ("Penicillins") for a penicillin allergy: that is what it clinically is.
ALLERGY_SUBSTANCES: tuple[tuple[str, str], ...] = (
    ("ace inhibitors", "ACE inhibitors (ramipril, lisinopril)"),
    ("allopurinol", "Allopurinol"),
    ("amoxicillin", "Amoxicillin"),
    ("angiotensin ii receptor blockers", "Angiotensin II receptor blockers (losartan)"),
    ("aspirin", "Aspirin"),
    ("cefalexin", "Cefalexin"),
    ("cephalosporins", "Cephalosporins"),
    ("clarithromycin", "Clarithromycin"),
    ("clavulanic acid", "Clavulanic acid (in co-amoxiclav)"),
    ("clopidogrel", "Clopidogrel"),
    ("codeine", "Codeine"),
    ("colchicine", "Colchicine"),
    ("doxycycline", "Doxycycline"),
    ("erythromycin", "Erythromycin"),
    ("flucloxacillin", "Flucloxacillin"),
    ("fluconazole", "Fluconazole"),
    ("ibuprofen", "Ibuprofen"),
    ("macrolides", "Macrolides (clarithromycin, erythromycin)"),
    ("methotrexate", "Methotrexate"),
    ("metronidazole", "Metronidazole"),
    ("naproxen", "Naproxen"),
    ("nitrofurantoin", "Nitrofurantoin"),
    ("nsaids", "NSAIDs (anti-inflammatory painkillers such as ibuprofen)"),
    ("opioids", "Opioids (codeine, tramadol)"),
    ("paracetamol", "Paracetamol"),
    ("penicillins", "Penicillins"),
    ("phenoxymethylpenicillin", "Phenoxymethylpenicillin (penicillin V)"),
    ("ssris", "SSRIs (sertraline, citalopram, fluoxetine)"),
    ("statins", "Statins"),
    ("sulfonylureas", "Sulfonylureas (gliclazide)"),
    ("tetracyclines", "Tetracyclines (doxycycline)"),
    ("tramadol", "Tramadol"),
    ("trimethoprim", "Trimethoprim"),
)

# Verhoeff's check-digit tables (the dihedral group D5, and the position permutation's powers): SNOMED CT
# identifiers end in a Verhoeff check digit, which catches any single mistyped digit and any swap of
# two neighbours.
_D5 = tuple(
    tuple((j + k) % 5 + (5 if k >= 5 else 0) if j < 5 else (j - k) % 5 + (0 if k >= 5 else 5) for k in range(10))
    for j in range(10)
)
_P1 = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
_P = [tuple(range(10))]
for _ in range(7):
    _P.append(tuple(_P1[digit] for digit in _P[-1]))


def is_concept_id(code: str) -> bool:
    """Whether `code` is well formed as a SNOMED CT concept identifier: 6 to 18 digits, no leading zero,
    partition identifier 00 (a concept, short format) or 10 (a concept in an extension), and a valid
    Verhoeff check digit. Well formed is not the same as existing: only a terminology server knows that."""
    if not (code.isascii() and code.isdigit()) or not 6 <= len(code) <= 18 or code[0] == "0":
        return False
    if code[-3:-1] not in ("00", "10"):
        return False
    check = 0
    for position, digit in enumerate(reversed(code)):
        check = _D5[check][_P[position % 8][int(digit)]]
    return check == 0
