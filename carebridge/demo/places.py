"""Where the demo happens: a corner of the West Midlands (Birmingham, Solihull, Sutton Coldfield).

The areas, their postcode districts and many of the street names are real, so the demo reads like the
place it is set in. The GP surgeries built from them are invented; the hospitals are real ones, but
every phone number is from Ofcom's range kept for drama (0121 496 0xxx, 07700 900xxx) and every email
address is under the reserved `.example` domain, so nothing the demo does can ring or mail anyone.
"""

from dataclasses import dataclass

# Keys of the hospitals below, used for "which hospital is nearest to this area".
HEARTLANDS = "heartlands"
QUEEN_ELIZABETH = "queen_elizabeth"
GOOD_HOPE = "good_hope"


@dataclass(frozen=True)
class Area:
    name: str
    town: str
    districts: tuple[str, ...]
    streets: tuple[str, ...]
    nearest_hospital: str


AREAS: tuple[Area, ...] = (
    # The first four are the default demo's four surgeries (inner city, Solihull, Sutton, suburbs).
    Area(
        "Small Heath",
        "Birmingham",
        ("B10",),
        (
            "Coventry Road",
            "Waverley Road",
            "Cattell Road",
            "Golden Hillock Road",
            "Green Lane",
            "Somerville Road",
            "Charles Road",
            "Wright Street",
            "Herbert Road",
            "St Benedicts Road",
        ),
        HEARTLANDS,
    ),
    Area(
        "Solihull",
        "Solihull",
        ("B91", "B92"),
        (
            "Warwick Road",
            "Lode Lane",
            "Station Road",
            "Streetsbrook Road",
            "Blossomfield Road",
            "Hampton Lane",
            "Widney Lane",
            "Yew Tree Lane",
            "Church Hill Road",
            "Broad Oaks Road",
        ),
        HEARTLANDS,
    ),
    Area(
        "Sutton Coldfield",
        "Sutton Coldfield",
        ("B72", "B73", "B74", "B75"),
        (
            "Birmingham Road",
            "Lichfield Road",
            "Boldmere Road",
            "Jockey Road",
            "Maney Hill Road",
            "Rectory Road",
            "Springfield Road",
            "Four Oaks Road",
            "Anchorage Road",
            "Tamworth Road",
        ),
        GOOD_HOPE,
    ),
    Area(
        "Harborne",
        "Birmingham",
        ("B17",),
        (
            "High Street",
            "War Lane",
            "Lordswood Road",
            "Greenfield Road",
            "Serpentine Road",
            "Albert Road",
            "Court Oak Road",
            "Wentworth Road",
            "Station Road",
            "Metchley Lane",
        ),
        QUEEN_ELIZABETH,
    ),
    Area(
        "Kings Heath",
        "Birmingham",
        ("B14",),
        (
            "Vicarage Road",
            "Alcester Road South",
            "Howard Road",
            "Institute Road",
            "Valentine Road",
            "Livingstone Road",
            "Grange Road",
            "Poplar Road",
            "Addison Road",
            "Cartland Road",
        ),
        QUEEN_ELIZABETH,
    ),
    Area(
        "Erdington",
        "Birmingham",
        ("B23", "B24"),
        (
            "Sutton Road",
            "Reservoir Road",
            "Gravelly Lane",
            "Orphanage Road",
            "Wood End Road",
            "Marsh Hill",
            "Station Road",
            "Church Road",
            "Kingsbury Road",
            "Chester Road",
        ),
        GOOD_HOPE,
    ),
    Area(
        "Moseley",
        "Birmingham",
        ("B13",),
        (
            "Alcester Road",
            "Wake Green Road",
            "Salisbury Road",
            "Woodbridge Road",
            "Church Road",
            "Oxford Road",
            "School Road",
            "Billesley Lane",
            "Chantry Road",
            "Springfield Road",
        ),
        QUEEN_ELIZABETH,
    ),
    Area(
        "Shirley",
        "Solihull",
        ("B90",),
        (
            "Stratford Road",
            "Haslucks Green Road",
            "Tanworth Lane",
            "Bills Lane",
            "Union Road",
            "Marshall Lake Road",
            "Burman Road",
            "Longmore Road",
            "Dickens Road",
            "Blackford Road",
        ),
        HEARTLANDS,
    ),
    Area(
        "Acocks Green",
        "Birmingham",
        ("B27",),
        (
            "Warwick Road",
            "Westley Road",
            "Shirley Road",
            "Fox Hollies Road",
            "Olton Boulevard West",
            "Yardley Road",
            "Dudley Park Road",
            "Sherbourne Road",
            "Alexander Road",
            "Oxford Road",
        ),
        HEARTLANDS,
    ),
    Area(
        "Hall Green",
        "Birmingham",
        ("B28",),
        (
            "Stratford Road",
            "Robin Hood Lane",
            "School Road",
            "Shaftmoor Lane",
            "Cole Bank Road",
            "Highfield Road",
            "Southam Road",
            "Reddings Lane",
            "Baldwins Lane",
            "Petersfield Road",
        ),
        HEARTLANDS,
    ),
    Area(
        "Selly Oak",
        "Birmingham",
        ("B29",),
        (
            "Bristol Road",
            "Harborne Lane",
            "Oak Tree Lane",
            "Raddlebarn Road",
            "Tiverton Road",
            "Exeter Road",
            "Heeley Road",
            "Hubert Road",
            "Coronation Road",
            "Dawlish Road",
        ),
        QUEEN_ELIZABETH,
    ),
    Area(
        "Northfield",
        "Birmingham",
        ("B31",),
        (
            "Bristol Road South",
            "Church Road",
            "Frankley Beeches Road",
            "Bell Lane",
            "Hole Lane",
            "Shenley Lane",
            "Quarry Lane",
            "Victoria Road",
            "Hoggs Lane",
            "Bunbury Road",
        ),
        QUEEN_ELIZABETH,
    ),
    Area(
        "Handsworth",
        "Birmingham",
        ("B20", "B21"),
        (
            "Soho Road",
            "Holyhead Road",
            "Hamstead Road",
            "Rookery Road",
            "Grove Lane",
            "Villa Road",
            "Wellington Road",
            "Church Lane",
            "Oxhill Road",
            "Sandwell Road",
        ),
        QUEEN_ELIZABETH,
    ),
    Area(
        "Sparkhill",
        "Birmingham",
        ("B11",),
        (
            "Stratford Road",
            "Ladypool Road",
            "Stoney Lane",
            "Showell Green Lane",
            "Walford Road",
            "Durham Road",
            "Court Road",
            "Formans Road",
            "Shaftmoor Lane",
            "Baker Street",
        ),
        HEARTLANDS,
    ),
    Area(
        "Castle Bromwich",
        "Birmingham",
        ("B36",),
        (
            "Chester Road",
            "Hurst Lane",
            "Bradford Road",
            "Windleaves Road",
            "Water Orton Lane",
            "Cooks Lane",
            "Green Lane",
            "Timberley Lane",
            "Beech Road",
            "Park Lane",
        ),
        HEARTLANDS,
    ),
    Area(
        "Edgbaston",
        "Birmingham",
        ("B15", "B16"),
        (
            "Hagley Road",
            "Harborne Road",
            "Calthorpe Road",
            "Wheeleys Road",
            "Pershore Road",
            "Church Road",
            "Carpenter Road",
            "Westbourne Road",
            "Yateley Road",
            "Augustus Road",
        ),
        QUEEN_ELIZABETH,
    ),
    Area(
        "Kingstanding",
        "Birmingham",
        ("B44",),
        (
            "Kingstanding Road",
            "Hawthorn Road",
            "Warren Farm Road",
            "Collingbourne Avenue",
            "Dyas Road",
            "Kettlehouse Road",
            "Finchley Road",
            "Cranbourne Road",
            "Perry Common Road",
            "Old Oscott Hill",
        ),
        GOOD_HOPE,
    ),
    Area(
        "Yardley",
        "Birmingham",
        ("B25", "B26"),
        (
            "Church Road",
            "Coventry Road",
            "Stoney Lane",
            "Yardley Road",
            "Lyndon Road",
            "Barrows Lane",
            "Hob Moor Road",
            "Tiverton Road",
            "Cedars Avenue",
            "Swan Lane",
        ),
        HEARTLANDS,
    ),
    Area(
        "Knowle",
        "Solihull",
        ("B93",),
        (
            "Station Road",
            "Kenilworth Road",
            "Warwick Road",
            "Lodge Road",
            "Longdon Road",
            "Wilson Road",
            "Hampton Road",
            "Purnells Way",
            "Milverton Road",
            "Grove Road",
        ),
        HEARTLANDS,
    ),
    Area(
        "Bournville",
        "Birmingham",
        ("B30",),
        (
            "Linden Road",
            "Bournville Lane",
            "Sycamore Road",
            "Maple Road",
            "Mary Vale Road",
            "Woodbrooke Road",
            "Raddlebarn Road",
            "Acacia Road",
            "Hay Green Lane",
            "Selly Oak Road",
        ),
        QUEEN_ELIZABETH,
    ),
    Area(
        "Great Barr",
        "Birmingham",
        ("B42", "B43"),
        (
            "Queslett Road",
            "Walsall Road",
            "Newton Road",
            "Aldridge Road",
            "Beacon Road",
            "Thornbridge Avenue",
            "Booths Farm Road",
            "Wilsford Close",
            "Old Walsall Road",
            "Baltimore Road",
        ),
        GOOD_HOPE,
    ),
    Area(
        "Walmley",
        "Sutton Coldfield",
        ("B76",),
        (
            "Walmley Road",
            "Walmley Ash Road",
            "Fox Hollies Road",
            "Penns Lane",
            "Eachelhurst Road",
            "Reddicap Heath Road",
            "Wylde Green Road",
            "Bedford Road",
            "Ebrook Road",
            "Fairfax Road",
        ),
        GOOD_HOPE,
    ),
    Area(
        "Chelmsley Wood",
        "Solihull",
        ("B37",),
        (
            "Chelmsley Road",
            "Moorend Avenue",
            "Cooks Lane",
            "Pine Square",
            "Helmswood Drive",
            "Kingshurst Way",
            "Waterson Croft",
            "Meriden Drive",
            "Craig Croft",
            "Bosworth Drive",
        ),
        HEARTLANDS,
    ),
    Area(
        "Kings Norton",
        "Birmingham",
        ("B30", "B38"),
        (
            "The Green",
            "Pershore Road South",
            "Wychall Lane",
            "Redditch Road",
            "Parsons Hill",
            "Westhill Road",
            "Masshouse Lane",
            "Lindsworth Road",
            "Hawkesley Mill Lane",
            "Rednal Road",
        ),
        QUEEN_ELIZABETH,
    ),
    Area(
        "Stechford",
        "Birmingham",
        ("B33",),
        (
            "Station Road",
            "Flaxley Lane",
            "Albert Road",
            "Victoria Road",
            "Lea Hall Road",
            "Bordesley Green",
            "Cole Hall Lane",
            "Manor Road",
            "Richmond Road",
            "Iron Lane",
        ),
        HEARTLANDS,
    ),
)

# What GP surgeries call themselves. Combined with an area: "Kings Heath Medical Centre".
SURGERY_KINDS = ("Medical Centre", "Family Practice", "Group Practice", "Health Centre", "Surgery", "Medical Practice")

# Opening hours as the coursework writes them; the first is (weekday open, weekday close) in minutes.
SURGERY_HOURS: tuple[tuple[int, int, str], ...] = (
    (8 * 60, 18 * 60 + 30, "Mon-Fri: 8:00-18:30"),
    (8 * 60, 18 * 60, "Mon-Fri: 8:00-18:00, Sat: 8:00-12:00"),
    (8 * 60 + 30, 18 * 60, "Mon-Fri: 8:30-18:00"),
    (8 * 60, 18 * 60, "Mon-Fri: 8:00-18:00"),
    (8 * 60, 18 * 60 + 30, "Mon-Fri: 8:00-18:30, Sat: 9:00-12:00"),
)

SURGERY_EXTRA_SERVICES = (
    "Vaccinations",
    "Minor Surgery",
    "Family Planning",
    "Travel Clinic",
    "Chronic Disease Management",
    "Mental Health",
    "Child Health",
    "Antenatal Care",
    "Diabetes Clinic",
    "Asthma Clinic",
)


@dataclass(frozen=True)
class Hospital:
    key: str
    name: str
    address: str
    postcode: str
    domain: str
    opening_hours: str
    outpatients_open: int  # minutes after midnight, Monday to Friday
    outpatients_close: int
    manager_name: str
    capacity: int
    # Specialities whose consultants the demo employs here (and so may receive referrals) ...
    clinics: tuple[str, ...]
    # ... and what else the hospital offers, listed for realism only.
    other_services: tuple[str, ...]

    @property
    def specialities_offered(self) -> tuple[str, ...]:
        return self.clinics + self.other_services


HOSPITALS: tuple[Hospital, ...] = (
    Hospital(
        HEARTLANDS,
        "Heartlands Hospital",
        "Bordesley Green East, Birmingham",
        "B9 5SS",
        "heartlands.nhs.example",
        "24/7 Emergency, Outpatients: Mon-Fri 8:00-17:00",
        8 * 60,
        17 * 60,
        "Sarah Mitchell",
        900,
        ("Cardiology", "Respiratory Medicine", "Gastroenterology", "Paediatrics", "Diabetes and Endocrinology"),
        ("Emergency Medicine", "General Surgery"),
    ),
    Hospital(
        QUEEN_ELIZABETH,
        "Queen Elizabeth Hospital",
        "Mindelsohn Way, Birmingham",
        "B15 2GW",
        "queenelizabeth.nhs.example",
        "24/7 Emergency, Outpatients: Mon-Fri 7:30-18:00",
        7 * 60 + 30,
        18 * 60,
        "Michael Brown",
        1200,
        ("Neurology", "Urology", "Dermatology", "Rheumatology", "Gastroenterology"),
        ("Oncology", "Transplant Surgery", "Critical Care"),
    ),
    Hospital(
        GOOD_HOPE,
        "Good Hope Hospital",
        "Rectory Road, Sutton Coldfield",
        "B75 7RR",
        "goodhope.nhs.example",
        "24/7 Emergency, Outpatients: Mon-Fri 8:30-17:30",
        8 * 60 + 30,
        17 * 60 + 30,
        "Emma Thompson",
        500,
        ("Orthopaedics", "Gynaecology", "ENT", "Cardiology", "Dermatology"),
        ("Emergency Medicine", "Maternity"),
    ),
)

PHARMACY_CHAINS = (
    "Boots Pharmacy",
    "Lloyds Pharmacy",
    "Well Pharmacy",
    "Superdrug Pharmacy",
    "Asda Pharmacy",
    "Day Lewis Pharmacy",
    "Rowlands Pharmacy",
)

# Letters allowed in the inward part of a UK postcode (never C, I, K, M, O or V).
POSTCODE_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
