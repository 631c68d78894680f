"""What the demo's patients come in for, what they are prescribed and why they are referred.

Everything here hangs together the way a GP's day does: a chest infection gets amoxicillin at the
visit, a hypertensive patient has a blood pressure review and a repeat of amlodipine, a referral to
cardiology is for palpitations with an ECG requested. Ages and sexes are respected (no cervical
screening for men, no statins for children), so no row reads as nonsense to a clinician.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Drug:
    name: str
    dosage: str  # strength with its unit, as the coursework writes it: "20mg", "100mcg", "100units/ml"
    frequency: str
    duration_days: int
    quantity: str  # a count with its unit: "28 tablets", "1 inhaler"
    instructions: str


# --- Medicines ---------------------------------------------------------------------------------------
AMLODIPINE = Drug("Amlodipine", "5mg", "Once daily", 28, "28 tablets", "Take in the morning")
RAMIPRIL = Drug("Ramipril", "5mg", "Once daily", 28, "28 capsules", "Take in the morning")
LISINOPRIL = Drug("Lisinopril", "10mg", "Once daily", 28, "28 tablets", "Take at the same time each day")
BISOPROLOL = Drug("Bisoprolol", "2.5mg", "Once daily", 28, "28 tablets", "Do not stop taking suddenly")
ATORVASTATIN = Drug("Atorvastatin", "20mg", "Once daily", 28, "28 tablets", "Take in the evening")
ATORVASTATIN_40 = Drug("Atorvastatin", "40mg", "Once daily", 28, "28 tablets", "Take in the evening")
SIMVASTATIN = Drug("Simvastatin", "40mg", "Once daily", 28, "28 tablets", "Take with evening meal")
METFORMIN = Drug("Metformin", "500mg", "Twice daily", 28, "56 tablets", "Take with meals")
GLICLAZIDE = Drug("Gliclazide", "80mg", "Twice daily", 28, "56 tablets", "Take with breakfast and evening meal")
LEVOTHYROXINE = Drug("Levothyroxine", "50mcg", "Once daily", 28, "28 tablets", "Take 30 minutes before breakfast")
LEVOTHYROXINE_100 = Drug("Levothyroxine", "100mcg", "Once daily", 28, "28 tablets", "Take 30 minutes before breakfast")
SALBUTAMOL = Drug(
    "Salbutamol inhaler", "100mcg", "As required", 30, "1 inhaler", "Two puffs when breathless, up to four times a day"
)
BECLOMETASONE = Drug(
    "Clenil Modulite inhaler", "100mcg", "Twice daily", 30, "1 inhaler", "Two puffs twice a day; rinse mouth after use"
)
SERTRALINE = Drug("Sertraline", "50mg", "Once daily", 28, "28 tablets", "Take in the morning")
CITALOPRAM = Drug("Citalopram", "20mg", "Once daily", 28, "28 tablets", "Take in the morning")
FLUOXETINE = Drug("Fluoxetine", "20mg", "Once daily", 28, "28 capsules", "Take in the morning")
MIRTAZAPINE = Drug("Mirtazapine", "15mg", "Once daily", 28, "28 tablets", "Take at night; may cause drowsiness")
OMEPRAZOLE = Drug("Omeprazole", "20mg", "Once daily", 28, "28 capsules", "Take before breakfast")
LANSOPRAZOLE = Drug("Lansoprazole", "30mg", "Once daily", 28, "28 capsules", "Take before breakfast")
APIXABAN = Drug("Apixaban", "5mg", "Twice daily", 28, "56 tablets", "Carry your anticoagulant alert card")
AMOXICILLIN = Drug("Amoxicillin", "500mg", "Three times daily", 7, "21 capsules", "Complete the course")
AMOXICILLIN_CHILD = Drug(
    "Amoxicillin oral suspension", "250mg", "Three times daily", 5, "1 bottle", "Shake the bottle; use the oral syringe"
)
CLARITHROMYCIN = Drug("Clarithromycin", "500mg", "Twice daily", 7, "14 tablets", "Complete the course")
DOXYCYCLINE = Drug(
    "Doxycycline",
    "100mg",
    "Once daily",
    7,
    "8 capsules",
    "Take two on the first day; swallow with plenty of water, sitting upright",
)
FLUCLOXACILLIN = Drug("Flucloxacillin", "500mg", "Four times daily", 7, "28 capsules", "Take on an empty stomach")
NITROFURANTOIN = Drug("Nitrofurantoin", "100mg", "Twice daily", 3, "6 capsules", "Take with food")
TRIMETHOPRIM = Drug("Trimethoprim", "200mg", "Twice daily", 3, "6 tablets", "Complete the course")
PHENOXYMETHYLPENICILLIN = Drug(
    "Phenoxymethylpenicillin", "500mg", "Four times daily", 5, "20 tablets", "Take one hour before food"
)
NAPROXEN = Drug("Naproxen", "500mg", "Twice daily", 7, "14 tablets", "Take with food")
IBUPROFEN = Drug("Ibuprofen", "400mg", "Three times daily", 7, "21 tablets", "Take with food")
PARACETAMOL = Drug("Paracetamol", "500mg", "As required", 7, "32 tablets", "Max 8 tablets in 24 hours")
CODEINE = Drug("Codeine phosphate", "30mg", "Four times daily", 5, "20 tablets", "May cause drowsiness")
CETIRIZINE = Drug("Cetirizine", "10mg", "Once daily", 30, "30 tablets", "May cause drowsiness")
FEXOFENADINE = Drug("Fexofenadine", "120mg", "Once daily", 30, "30 tablets", "Take before food")
SUMATRIPTAN = Drug(
    "Sumatriptan",
    "50mg",
    "As required",
    30,
    "6 tablets",
    "One tablet at the start of a migraine; a second after 2 hours if needed",
)
AMITRIPTYLINE = Drug("Amitriptyline", "10mg", "Once daily", 28, "28 tablets", "Take at night; may cause drowsiness")
PREDNISOLONE = Drug("Prednisolone", "5mg", "Once daily", 5, "40 tablets", "Take eight tablets each morning with food")
PROPRANOLOL = Drug("Propranolol", "10mg", "Three times daily", 14, "42 tablets", "Do not stop taking suddenly")
COLECALCIFEROL = Drug("Colecalciferol", "800units", "Once daily", 28, "28 capsules", "Take with food")
FOLIC_ACID = Drug("Folic acid", "400mcg", "Once daily", 28, "28 tablets", "Take until week 12 of pregnancy")
DESOGESTREL = Drug("Desogestrel", "75mcg", "Once daily", 84, "84 tablets", "Take at the same time every day")
HRT = Drug("Estradiol gel", "0.75mg", "Once daily", 28, "1 pump dispenser", "Apply to the arms or thighs")
LACTULOSE = Drug("Lactulose", "15ml", "Twice daily", 14, "1 bottle", "Drink plenty of fluids")


@dataclass(frozen=True)
class Condition:
    """A long-term condition some patients live with, treated with a repeat prescription."""

    key: str
    # (from age, probability for women, probability for men), the last band that applies is used.
    prevalence: tuple[tuple[int, float, float], ...]
    repeats: tuple[Drug, ...]


CONDITIONS: tuple[Condition, ...] = (
    Condition(
        "hypertension",
        ((35, 0.05, 0.07), (50, 0.18, 0.22), (65, 0.38, 0.42), (80, 0.55, 0.55)),
        (AMLODIPINE, RAMIPRIL, LISINOPRIL),
    ),
    Condition(
        "high_cholesterol",
        ((45, 0.06, 0.08), (60, 0.2, 0.26), (75, 0.32, 0.36)),
        (ATORVASTATIN, ATORVASTATIN_40, SIMVASTATIN),
    ),
    Condition(
        "diabetes",
        ((30, 0.02, 0.03), (45, 0.06, 0.08), (60, 0.12, 0.15), (75, 0.15, 0.18)),
        (METFORMIN, METFORMIN, GLICLAZIDE),
    ),
    Condition(
        "hypothyroidism", ((25, 0.02, 0.005), (50, 0.06, 0.01), (70, 0.09, 0.02)), (LEVOTHYROXINE, LEVOTHYROXINE_100)
    ),
    Condition("asthma", ((5, 0.08, 0.09), (18, 0.08, 0.06)), (SALBUTAMOL, BECLOMETASONE)),
    Condition("depression", ((16, 0.09, 0.05), (65, 0.06, 0.04)), (SERTRALINE, CITALOPRAM, FLUOXETINE, MIRTAZAPINE)),
    Condition("reflux", ((30, 0.05, 0.05), (60, 0.08, 0.08)), (OMEPRAZOLE, LANSOPRAZOLE)),
    Condition("atrial_fibrillation", ((65, 0.03, 0.04), (80, 0.08, 0.1)), (APIXABAN, BISOPROLOL)),
)


@dataclass(frozen=True)
class Visit:
    """A reason to see a GP or a practice nurse, and what it may lead to."""

    appointment_type: str
    reason: str
    notes: tuple[str, ...]
    durations: tuple[int, ...]
    min_age: int = 0
    max_age: int = 120
    sex: str | None = None  # "F" or "M" when only one applies
    condition: str | None = None  # only for patients who have this long-term condition
    drugs: tuple[Drug, ...] = ()  # one of these may be prescribed at the visit (GP visits only)
    months: tuple[int, ...] = ()  # seasonal: only booked in these months
    weight: float = 1.0


# Appointment types are the coursework's own: Routine Consultation, Follow-up, Urgent Consultation,
# Vaccination, Health Check (and Specialist Consultation at hospitals).
GP_VISITS: tuple[Visit, ...] = (
    Visit(
        "Routine Consultation",
        "Persistent cough",
        ("Cough for three weeks", "Smoker, cough not settling"),
        (10, 15),
        min_age=16,
        drugs=(AMOXICILLIN, DOXYCYCLINE),
    ),
    Visit(
        "Routine Consultation",
        "Back pain",
        ("Lower back pain after lifting", "Recurrent back pain"),
        (10, 15),
        min_age=18,
        drugs=(NAPROXEN, IBUPROFEN, CODEINE),
    ),
    Visit(
        "Routine Consultation", "Skin rash", ("Itchy rash on arms", "Rash for two weeks"), (10,), drugs=(CETIRIZINE,)
    ),
    Visit(
        "Routine Consultation",
        "Ear pain",
        ("Ear pain and reduced hearing", "Child with earache"),
        (10,),
        max_age=15,
        drugs=(AMOXICILLIN_CHILD,),
    ),
    Visit(
        "Routine Consultation",
        "Sore throat",
        ("Sore throat for a week", "Painful swallowing"),
        (10,),
        min_age=12,
        drugs=(PHENOXYMETHYLPENICILLIN,),
    ),
    Visit(
        "Routine Consultation",
        "Low mood",
        ("Patient asked for a longer appointment", "Low mood since bereavement"),
        (15,),
        min_age=16,
        drugs=(SERTRALINE, CITALOPRAM),
    ),
    Visit(
        "Routine Consultation",
        "Headaches",
        ("Recurrent headaches", "Headaches worse in the morning"),
        (10, 15),
        min_age=12,
        drugs=(SUMATRIPTAN, PARACETAMOL),
    ),
    Visit(
        "Routine Consultation",
        "Knee pain",
        ("Knee pain on stairs", "Swollen knee after football"),
        (10, 15),
        min_age=16,
        drugs=(NAPROXEN, IBUPROFEN),
    ),
    Visit("Routine Consultation", "Tiredness", ("Tired all the time", "Blood tests requested"), (10, 15), min_age=18),
    Visit(
        "Routine Consultation",
        "Hay fever",
        ("Seasonal symptoms", "Streaming eyes and sneezing"),
        (10,),
        min_age=6,
        drugs=(CETIRIZINE, FEXOFENADINE),
        months=(4, 5, 6, 7, 8),
    ),
    Visit(
        "Routine Consultation",
        "Contraception review",
        ("Pill check", "Discuss contraception options"),
        (10,),
        min_age=16,
        max_age=50,
        sex="F",
        drugs=(DESOGESTREL,),
    ),
    Visit(
        "Routine Consultation",
        "Menopause symptoms",
        ("Hot flushes and poor sleep", "Discuss HRT"),
        (15,),
        min_age=45,
        max_age=60,
        sex="F",
        drugs=(HRT,),
    ),
    Visit(
        "Routine Consultation",
        "Pregnancy confirmation",
        ("Positive home test", "First pregnancy"),
        (15,),
        min_age=18,
        max_age=44,
        sex="F",
        drugs=(FOLIC_ACID,),
        weight=0.4,
    ),
    Visit(
        "Routine Consultation",
        "Anxiety",
        ("Worried about panic attacks", "Anxiety affecting work"),
        (15,),
        min_age=16,
        drugs=(PROPRANOLOL, SERTRALINE),
    ),
    Visit(
        "Routine Consultation",
        "Constipation",
        ("Constipation for a month", "Change in bowel habit"),
        (10,),
        drugs=(LACTULOSE,),
        weight=0.6,
    ),
    Visit(
        "Routine Consultation",
        "Memory concerns",
        ("Family worried about forgetfulness", "Memory assessment"),
        (15,),
        min_age=65,
    ),
    Visit(
        "Routine Consultation",
        "Fall at home",
        ("Fell at home, no head injury", "Second fall this year"),
        (15,),
        min_age=75,
        drugs=(COLECALCIFEROL,),
    ),
    Visit(
        "Routine Consultation",
        "Annual health check",
        ("Patient due for routine screening",),
        (15,),
        min_age=40,
        max_age=74,
    ),
    Visit(
        "Urgent Consultation",
        "Chest infection",
        ("Productive cough and fever", "Breathless with cough"),
        (10,),
        min_age=12,
        drugs=(AMOXICILLIN, DOXYCYCLINE, CLARITHROMYCIN),
        weight=1.5,
    ),
    Visit(
        "Urgent Consultation",
        "Urinary tract infection symptoms",
        ("Burning on passing urine",),
        (10,),
        min_age=16,
        sex="F",
        drugs=(NITROFURANTOIN, TRIMETHOPRIM),
    ),
    Visit(
        "Urgent Consultation",
        "Child with fever",
        ("Temperature since yesterday", "Parent concerned"),
        (10,),
        max_age=11,
        drugs=(AMOXICILLIN_CHILD,),
        weight=1.5,
    ),
    Visit(
        "Urgent Consultation",
        "Infected wound",
        ("Red, swollen cut on hand", "Wound not healing"),
        (10,),
        min_age=12,
        drugs=(FLUCLOXACILLIN,),
    ),
    Visit(
        "Urgent Consultation",
        "Acute back pain",
        ("Unable to work", "Pain since yesterday"),
        (10,),
        min_age=18,
        drugs=(NAPROXEN, CODEINE),
    ),
    Visit(
        "Urgent Consultation",
        "Worsening asthma",
        ("Using reliever more often", "Wheeze at night"),
        (10,),
        condition="asthma",
        drugs=(PREDNISOLONE, SALBUTAMOL),
    ),
    Visit("Urgent Consultation", "Chest pain", ("Patient reports chest discomfort",), (15,), min_age=30, weight=0.5),
    Visit(
        "Follow-up",
        "Blood pressure review",
        ("Follow-up for hypertension management", "Home readings to bring"),
        (10, 15),
        condition="hypertension",
        drugs=(AMLODIPINE, RAMIPRIL),
        weight=2.0,
    ),
    Visit(
        "Follow-up",
        "Diabetes review",
        ("3-month diabetes check-up", "HbA1c result to discuss"),
        (15,),
        condition="diabetes",
        drugs=(METFORMIN, GLICLAZIDE),
        weight=2.0,
    ),
    Visit(
        "Follow-up",
        "Cholesterol review",
        ("Lipid results to discuss",),
        (10,),
        condition="high_cholesterol",
        drugs=(ATORVASTATIN,),
        weight=1.0,
    ),
    Visit(
        "Follow-up",
        "Thyroid review",
        ("TSH result to discuss",),
        (10,),
        condition="hypothyroidism",
        drugs=(LEVOTHYROXINE,),
        weight=1.5,
    ),
    Visit(
        "Follow-up",
        "Depression follow-up",
        ("Review of antidepressant", "Two-week review"),
        (15,),
        condition="depression",
        drugs=(SERTRALINE, CITALOPRAM),
        weight=2.0,
    ),
    Visit(
        "Follow-up",
        "Medication review",
        ("Review of chronic medications", "Annual medication review"),
        (15,),
        min_age=60,
        weight=1.5,
    ),
    Visit(
        "Follow-up", "Blood test results", ("Results discussed by phone", "Repeat bloods advised"), (10,), min_age=18
    ),
    Visit(
        "Follow-up",
        "Anticoagulation review",
        ("Annual anticoagulant review",),
        (15,),
        condition="atrial_fibrillation",
        drugs=(APIXABAN,),
        weight=1.5,
    ),
)

NURSE_VISITS: tuple[Visit, ...] = (
    Visit(
        "Vaccination",
        "Childhood immunisations",
        ("Routine immunisations due", "Pre-school booster"),
        (15, 20),
        max_age=5,
        weight=4.0,
    ),
    Visit(
        "Vaccination",
        "Flu vaccination",
        ("Annual flu jab appointment",),
        (10,),
        min_age=65,
        months=(9, 10, 11, 12),
        weight=4.0,
    ),
    Visit(
        "Vaccination",
        "Flu vaccination",
        ("Nasal flu vaccine",),
        (10,),
        min_age=2,
        max_age=17,
        months=(9, 10, 11, 12),
        weight=1.0,
    ),
    Visit("Vaccination", "Shingles vaccination", ("Shingles vaccine first dose",), (10,), min_age=70, max_age=79),
    Visit("Vaccination", "Pneumococcal vaccination", ("One-off pneumococcal vaccine",), (10,), min_age=65),
    Visit(
        "Vaccination",
        "Travel vaccinations",
        ("Travelling to Pakistan", "Travelling to Nigeria", "Travelling to Thailand"),
        (20,),
        min_age=1,
    ),
    Visit(
        "Vaccination",
        "Whooping cough vaccination",
        ("Pregnancy vaccination",),
        (10,),
        min_age=18,
        max_age=44,
        sex="F",
        weight=0.5,
    ),
    Visit(
        "Health Check",
        "Cervical screening",
        ("Routine cervical screening",),
        (15, 20),
        min_age=25,
        max_age=64,
        sex="F",
        weight=1.5,
    ),
    Visit("Health Check", "NHS Health Check", ("Five-yearly health check",), (20,), min_age=40, max_age=74),
    Visit("Health Check", "Blood pressure check", ("Blood pressure check requested by GP",), (10,), min_age=18),
    Visit("Health Check", "Blood test", ("Fasting bloods", "Bloods requested by GP"), (10,), min_age=12, weight=2.0),
    Visit(
        "Health Check",
        "Asthma review",
        ("Annual asthma review", "Inhaler technique check"),
        (20,),
        condition="asthma",
        weight=2.0,
    ),
    Visit(
        "Health Check", "Diabetes foot check", ("Annual diabetic foot check",), (20,), condition="diabetes", weight=2.0
    ),
    Visit("Health Check", "Wound dressing", ("Dressing change", "Removal of stitches"), (15,), weight=0.6),
    Visit("Health Check", "Ear irrigation", ("Wax build-up",), (15,), min_age=18, weight=0.4),
)

CANCELLATION_NOTES = (
    "Patient cancelled due to recovery",
    "Patient cancelled: work commitments",
    "Cancelled by patient online",
    "Patient unable to attend; will rebook",
    "Clinician unavailable; patient offered another date",
)


@dataclass(frozen=True)
class ReferralReason:
    speciality: str
    reason: str
    histories: tuple[str, ...]  # completes "58-year-old female with ..."
    findings: tuple[str, ...]
    investigations: tuple[str, ...]  # two or three are requested
    min_age: int = 18
    max_age: int = 120
    sex: str | None = None
    urgent: float = 0.2  # share sent as Urgent
    weight: float = 1.0


REFERRAL_REASONS: tuple[ReferralReason, ...] = (
    ReferralReason(
        "Cardiology",
        "Palpitations",
        (
            "a 4-month history of palpitations and occasional light-headedness",
            "episodes of a racing heartbeat lasting up to an hour",
        ),
        ("ECG in surgery shows sinus rhythm.", "Thyroid function normal."),
        ("ECG", "24-hour Holter monitor", "Echocardiogram"),
        min_age=25,
    ),
    ReferralReason(
        "Cardiology",
        "Chest pain on exertion",
        (
            "chest tightness on walking uphill, settling with rest",
            "recent onset chest pain and a family history of cardiac disease",
        ),
        ("ECG shows minor T-wave changes.", "Blood pressure 148/92."),
        ("Exercise Stress Test", "ECG", "Cardiac enzymes", "CT Coronary Angiogram"),
        min_age=35,
        urgent=0.5,
    ),
    ReferralReason(
        "Cardiology",
        "Heart murmur investigation",
        (
            "a Grade 2/6 systolic murmur found at a routine examination",
            "a new murmur and mild breathlessness on exertion",
        ),
        ("No symptoms of chest pain.", "No syncope."),
        ("Echocardiogram", "ECG"),
        min_age=18,
    ),
    ReferralReason(
        "Cardiology",
        "Suspected heart failure",
        ("increasing ankle swelling and breathlessness lying flat",),
        ("NT-proBNP raised.", "Bibasal crackles on examination."),
        ("Echocardiogram", "NT-proBNP", "Chest X-ray"),
        min_age=55,
        urgent=0.6,
    ),
    ReferralReason(
        "Respiratory Medicine",
        "Suspected COPD",
        ("a long smoking history and a productive cough every winter",),
        ("Spirometry in surgery suggests obstruction.",),
        ("Spirometry", "Chest X-ray", "Lung function tests"),
        min_age=40,
    ),
    ReferralReason(
        "Respiratory Medicine",
        "Persistent cough",
        ("a cough for over three months not settling with antibiotics",),
        ("Chest X-ray normal.", "Never smoked."),
        ("CT Chest", "Lung function tests", "Sputum culture"),
        min_age=18,
    ),
    ReferralReason(
        "Respiratory Medicine",
        "Difficult asthma",
        ("asthma needing three courses of steroids this year",),
        ("Good inhaler technique.",),
        ("Lung function tests", "FeNO test", "Allergy testing"),
        min_age=12,
    ),
    ReferralReason(
        "Gastroenterology",
        "Chronic abdominal pain",
        ("a 6-month history of epigastric pain and weight loss", "intermittent abdominal pain and bloating"),
        ("Normal blood tests but symptoms persisting.", "Coeliac screen negative."),
        ("Upper GI Endoscopy", "CT Abdomen", "Ultrasound Abdomen"),
        min_age=18,
    ),
    ReferralReason(
        "Gastroenterology",
        "Change in bowel habit",
        ("a change in bowel habit for eight weeks",),
        ("Faecal immunochemical test positive.", "Mild iron deficiency anaemia."),
        ("Colonoscopy", "Faecal calprotectin", "Full blood count"),
        min_age=40,
        urgent=0.6,
    ),
    ReferralReason(
        "Gastroenterology",
        "Iron deficiency anaemia",
        ("tiredness and a haemoglobin of 98 g/L",),
        ("Ferritin low.", "No obvious blood loss."),
        ("Upper GI Endoscopy", "Colonoscopy", "Coeliac serology"),
        min_age=18,
    ),
    ReferralReason(
        "Neurology",
        "Persistent headaches",
        ("a 3-month history of severe morning headaches",),
        ("No focal neurological signs.", "Fundoscopy normal."),
        ("MRI Brain", "Neurological assessment"),
        min_age=16,
        urgent=0.4,
    ),
    ReferralReason(
        "Neurology",
        "Memory problems",
        ("significant memory issues and confusion reported by family",),
        ("Mini-mental state 22/30.", "Bloods including B12 normal."),
        ("Cognitive assessment", "MRI Brain"),
        min_age=55,
    ),
    ReferralReason(
        "Neurology",
        "Numbness and tingling",
        ("tingling in both hands, worse at night",),
        ("Reduced sensation in median nerve distribution.",),
        ("Nerve conduction studies", "Neurological assessment"),
        min_age=25,
    ),
    ReferralReason(
        "Neurology",
        "Suspected epilepsy",
        ("two episodes of loss of consciousness with jerking witnessed by partner",),
        ("Advised not to drive.",),
        ("EEG", "MRI Brain", "ECG"),
        min_age=16,
        urgent=0.7,
    ),
    ReferralReason(
        "Orthopaedics",
        "Chronic knee pain",
        ("a 2-year history of knee pain affecting mobility",),
        ("X-ray shows mild degenerative changes.", "Physiotherapy has not helped."),
        ("MRI Knee", "X-ray Knee", "Orthopaedic assessment"),
        min_age=30,
    ),
    ReferralReason(
        "Orthopaedics",
        "Hip pain",
        ("hip pain at night and difficulty putting on shoes",),
        ("X-ray shows moderate osteoarthritis.",),
        ("X-ray Hip", "Orthopaedic assessment"),
        min_age=50,
    ),
    ReferralReason(
        "Orthopaedics",
        "Shoulder pain",
        ("shoulder pain and weakness lifting the arm overhead",),
        ("Steroid injection gave short-lived relief.",),
        ("Ultrasound Shoulder", "MRI Shoulder"),
        min_age=30,
    ),
    ReferralReason(
        "Dermatology",
        "Suspicious skin lesion",
        ("a changing mole on the back with irregular borders",),
        ("No family history of melanoma.",),
        ("Dermatoscopy", "Possible biopsy"),
        min_age=18,
        urgent=0.6,
    ),
    ReferralReason(
        "Dermatology",
        "Chronic eczema",
        ("severe atopic eczema not responding to standard treatments",),
        ("Affects quality of life significantly.",),
        ("Patch testing", "Specialist dermatology review"),
        min_age=2,
    ),
    ReferralReason(
        "Dermatology",
        "Severe psoriasis",
        ("extensive plaque psoriasis despite topical treatment",),
        ("Joint pain in the fingers.",),
        ("Specialist dermatology review", "Liver function tests"),
        min_age=16,
    ),
    ReferralReason(
        "Diabetes and Endocrinology",
        "Poorly controlled type 2 diabetes",
        ("type 2 diabetes with an HbA1c of 86 mmol/mol on two agents",),
        ("Weight 104 kg.", "Early retinopathy on screening."),
        ("HbA1c", "Diabetic retinal screening", "Cardiovascular assessment"),
        min_age=30,
    ),
    ReferralReason(
        "Diabetes and Endocrinology",
        "Thyroid nodule",
        ("a painless lump in the front of the neck",),
        ("Thyroid function normal.",),
        ("Ultrasound Thyroid", "Thyroid function tests"),
        min_age=18,
    ),
    ReferralReason(
        "Paediatrics",
        "Recurrent wheeze",
        ("recurrent wheeze with colds and two hospital attendances in the past year",),
        ("Growth on the 50th centile.",),
        ("Chest X-ray", "Paediatric assessment"),
        min_age=1,
        max_age=15,
    ),
    ReferralReason(
        "Paediatrics",
        "Faltering growth",
        ("weight falling across two centile lines",),
        ("Feeding history unremarkable.",),
        ("Coeliac serology", "Full blood count", "Paediatric assessment"),
        min_age=0,
        max_age=10,
    ),
    ReferralReason(
        "Paediatrics",
        "Constipation not responding to treatment",
        ("constipation for six months despite laxatives",),
        ("No red flags on examination.",),
        ("Abdominal X-ray", "Paediatric assessment"),
        min_age=1,
        max_age=15,
    ),
    ReferralReason(
        "Urology",
        "Raised PSA",
        ("a raised PSA of 6.2 on testing for urinary symptoms",),
        ("Prostate feels smooth and enlarged.",),
        ("Repeat PSA", "MRI Prostate", "Urology assessment"),
        min_age=50,
        sex="M",
        urgent=0.6,
    ),
    ReferralReason(
        "Urology",
        "Visible haematuria",
        ("a single episode of painless visible blood in the urine",),
        ("Urine culture negative.",),
        ("Flexible cystoscopy", "CT Urogram"),
        min_age=45,
        urgent=0.8,
    ),
    ReferralReason(
        "Urology",
        "Lower urinary tract symptoms",
        ("poor urinary stream and getting up three times a night",),
        ("Prostate moderately enlarged.",),
        ("Ultrasound KUB", "Flow rate study"),
        min_age=50,
        sex="M",
    ),
    ReferralReason(
        "Rheumatology",
        "Suspected inflammatory arthritis",
        ("morning stiffness over an hour and swollen finger joints",),
        ("CRP raised.", "Rheumatoid factor positive."),
        ("Anti-CCP antibodies", "X-ray Hands", "ESR and CRP"),
        min_age=18,
        urgent=0.4,
    ),
    ReferralReason(
        "Rheumatology",
        "Joint pain and stiffness",
        ("widespread joint pain and fatigue",),
        ("Inflammatory markers borderline.",),
        ("ANA screen", "ESR and CRP"),
        min_age=18,
    ),
    ReferralReason(
        "Gynaecology",
        "Heavy menstrual bleeding",
        ("heavy periods affecting work, not helped by tranexamic acid",),
        ("Haemoglobin 109 g/L.",),
        ("Pelvic ultrasound", "Full blood count", "Hysteroscopy"),
        min_age=18,
        max_age=55,
        sex="F",
    ),
    ReferralReason(
        "Gynaecology",
        "Postmenopausal bleeding",
        ("a single episode of postmenopausal bleeding",),
        ("Examination unremarkable.",),
        ("Pelvic ultrasound", "Hysteroscopy"),
        min_age=50,
        sex="F",
        urgent=0.9,
    ),
    ReferralReason(
        "Gynaecology",
        "Pelvic pain",
        ("cyclical pelvic pain for a year",),
        ("Pelvic examination tender.",),
        ("Pelvic ultrasound", "Laparoscopy"),
        min_age=18,
        max_age=50,
        sex="F",
    ),
    ReferralReason(
        "ENT",
        "Hearing loss",
        ("gradual hearing loss in one ear",),
        ("Ear canals clear of wax.",),
        ("Audiometry", "MRI Internal Auditory Meatus"),
        min_age=18,
    ),
    ReferralReason(
        "ENT",
        "Recurrent tonsillitis",
        ("seven episodes of tonsillitis in the past year",),
        ("Time off school or work each time.",),
        ("ENT assessment",),
        min_age=4,
        max_age=40,
    ),
    ReferralReason(
        "ENT",
        "Chronic sinusitis",
        ("blocked nose and facial pain for six months",),
        ("Nasal steroid spray has not helped.",),
        ("Nasendoscopy", "CT Sinuses"),
        min_age=18,
    ),
)


# Notes on a referral, by where it has got to.
REFERRAL_NOTES_NEW = ("Awaiting triage", "Fast-track referral", "Referral letter sent")
REFERRAL_NOTES_WAITING = ("Accepted; awaiting an appointment", "On the waiting list")
REFERRAL_NOTES_BOOKED = ("Appointment booked", "Patient anxious about procedure", "Awaiting investigations")
REFERRAL_NOTES_IN_PROGRESS = (
    "Seen in clinic; awaiting results",
    "Investigations under way",
    "Follow-up arranged",
    "Awaiting investigation results",
)
REFERRAL_NOTES_COMPLETED = (
    "Seen in clinic; discharged to GP care",
    "Investigations normal; discharged",
    "Treatment plan agreed; discharged with advice",
)
