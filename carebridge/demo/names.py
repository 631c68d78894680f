"""Names for the demo's people, drawn the way Birmingham's GP lists read.

Families are drawn from a few naming traditions in roughly the city's proportions, and first names
follow the decade of birth (a Margaret born in 1940, an Olivia in 2015), so that a patient list looks
like a real one rather than a list of Johns.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class NamingTradition:
    weight: float
    surnames: tuple[str, ...]
    # First names by sex and by birth before 1960, 1960-1989, 1990 onwards.
    female: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
    male: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


_BRITISH_SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
    "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
    "Lewis", "Harris", "Clarke", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris",
    "Moore", "Clark", "King", "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips", "Watson",
    "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook", "Carter",
    "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox", "Richards", "Marshall",
    "Anderson", "Simpson", "Ellis", "Adams", "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers",
    "Gray", "Mason", "Hunt", "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight",
    "Lloyd", "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Dixon", "Harvey", "Pearce",
    "Sutton", "Cartwright", "Bradley", "Hodgkiss", "Whitehouse", "Perkins", "Bayliss", "Onions", "Dudley",
)

BRITISH = NamingTradition(
    weight=0.58,
    surnames=_BRITISH_SURNAMES,
    female=(
        ("Margaret", "Jean", "Patricia", "Dorothy", "Joan", "Barbara", "Maureen", "Sheila", "Brenda", "Valerie",
         "Pauline", "Christine", "Sandra", "Janet", "Irene", "Doreen", "Eileen", "Jean", "Kathleen", "Sylvia"),
        ("Susan", "Julie", "Karen", "Sarah", "Tracey", "Michelle", "Lisa", "Nicola", "Helen", "Amanda", "Claire",
         "Joanne", "Deborah", "Alison", "Emma", "Rachel", "Louise", "Dawn", "Kelly", "Gemma", "Andrea", "Jane"),
        ("Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophie", "Grace", "Lily", "Chloe", "Jessica", "Ella",
         "Charlotte", "Hannah", "Megan", "Lucy", "Holly", "Ellie", "Freya", "Evie", "Poppy", "Mia", "Rosie"),
    ),
    male=(
        ("John", "David", "Michael", "Peter", "Robert", "Brian", "Alan", "Keith", "Anthony", "Kenneth", "Derek",
         "Roy", "Dennis", "Colin", "Terence", "Ronald", "Raymond", "Geoffrey", "Malcolm", "Trevor"),
        ("Paul", "Mark", "Andrew", "Stephen", "Ian", "Richard", "Gary", "Darren", "Neil", "Simon", "Martin",
         "Lee", "Jason", "Craig", "Wayne", "Christopher", "Matthew", "Nicholas", "Jonathan", "Dean", "Steven"),
        ("Oliver", "Jack", "Harry", "George", "Noah", "Charlie", "Jacob", "Thomas", "Oscar", "William", "James",
         "Leo", "Alfie", "Joshua", "Freddie", "Archie", "Ethan", "Daniel", "Samuel", "Max", "Liam", "Ryan"),
    ),
)

# Birmingham's largest communities after White British: Pakistani and Bangladeshi, then Indian (mostly
# Sikh and Hindu) families. Kept apart so that a family's first names and surname go together.
PAKISTANI_AND_BANGLADESHI = NamingTradition(
    weight=0.19,
    surnames=("Khan", "Ahmed", "Hussain", "Ali", "Begum", "Akhtar", "Iqbal", "Mahmood", "Rashid", "Bibi",
              "Uddin", "Rahman", "Miah", "Islam", "Choudhury", "Malik", "Sadiq", "Bashir", "Aziz", "Anwar",
              "Hussein", "Mirza", "Qureshi", "Raza", "Shah", "Javed", "Nawaz", "Yousaf"),
    female=(
        ("Rukhsana", "Parveen", "Nasreen", "Shamim", "Rashida", "Zubeda", "Khadija", "Razia", "Nusrat", "Shahnaz"),
        ("Fatima", "Shazia", "Nazia", "Samina", "Rubina", "Yasmin", "Farzana", "Saima", "Ruksana", "Tahira",
         "Asma", "Nabila"),
        ("Aisha", "Maryam", "Zara", "Amira", "Hafsa", "Inaaya", "Anaya", "Sana", "Noor", "Safa", "Zainab",
         "Ayesha"),
    ),
    male=(
        ("Mohammed", "Abdul", "Bashir", "Mushtaq", "Rafiq", "Sultan", "Ghulam", "Nazir", "Akram", "Yaqub"),
        ("Mohammed", "Imran", "Tariq", "Asif", "Kamran", "Shahid", "Nadeem", "Zahid", "Arif", "Khalid",
         "Faisal", "Naveed"),
        ("Muhammad", "Yusuf", "Ibrahim", "Ayaan", "Zayn", "Adam", "Hamza", "Omar", "Rayan", "Musa", "Ali",
         "Idris"),
    ),
)

INDIAN = NamingTradition(
    weight=0.07,
    surnames=("Patel", "Singh", "Kaur", "Sharma", "Mistry", "Chauhan", "Gill", "Sandhu", "Parmar", "Sidhu",
              "Dhillon", "Bains", "Kumar", "Joshi", "Lal", "Rai", "Sohal", "Bhatti"),
    female=(
        ("Surinder", "Kamaljit", "Jaswinder", "Hansa", "Pushpa", "Gurmit", "Kanta", "Savita"),
        ("Sunita", "Priya", "Harjinder", "Anjali", "Reena", "Rupinder", "Sangeeta", "Manjit", "Kiran", "Neeta"),
        ("Simran", "Jasmine", "Anika", "Priya", "Harleen", "Amrit", "Riya", "Navneet", "Meera", "Jaspreet"),
    ),
    male=(
        ("Mohinder", "Gurdev", "Harbans", "Ramesh", "Ajit", "Balbir", "Darshan", "Kishore"),
        ("Jaspal", "Rajesh", "Sanjay", "Sukhwinder", "Davinder", "Paramjit", "Vijay", "Manoj", "Kuldip", "Ravi"),
        ("Harjot", "Arjun", "Ishaan", "Aarav", "Gurpreet", "Rohan", "Jasdeep", "Kiran", "Dev", "Arman"),
    ),
)

CARIBBEAN = NamingTradition(
    weight=0.05,
    surnames=("Campbell", "Brown", "Williams", "Francis", "Grant", "Thomas", "Morgan", "Reid", "Bailey",
              "Stewart", "Samuels", "Gayle", "McKenzie", "Johnson", "Edwards", "Clarke", "Henry", "Lewis"),
    female=(
        ("Gloria", "Hyacinth", "Pearl", "Cynthia", "Gladys", "Claudette", "Monica", "Beverley"),
        ("Sharon", "Marcia", "Jacqueline", "Donna", "Yvonne", "Paulette", "Sonia", "Michelle"),
        ("Chantelle", "Tia", "Imani", "Nia", "Jada", "Keisha", "Shanice", "Aaliyah"),
    ),
    male=(
        ("Winston", "Delroy", "Lloyd", "Clifton", "Leroy", "Errol", "Cecil", "Everton"),
        ("Trevor", "Marcus", "Andre", "Clive", "Dwayne", "Desmond", "Carlton", "Junior"),
        ("Tyrese", "Malachi", "Jayden", "Elijah", "Kai", "Reuben", "Kareem", "Tyler"),
    ),
)

AFRICAN = NamingTradition(
    weight=0.04,
    surnames=("Okafor", "Adeyemi", "Mensah", "Osei", "Okoro", "Bello", "Mohamed", "Hassan", "Ibrahim",
              "Abdi", "Nwosu", "Boateng", "Adebayo", "Owusu", "Farah", "Eze"),
    female=(
        ("Grace", "Comfort", "Mercy", "Abena", "Halima", "Felicia"),
        ("Ngozi", "Adaeze", "Abena", "Folake", "Amina", "Hodan", "Chioma", "Yetunde"),
        ("Amara", "Zainab", "Kemi", "Esther", "Faith", "Adwoa", "Ifeoma", "Sagal"),
    ),
    male=(
        ("Emmanuel", "Samuel", "Kwame", "Joseph", "Abdullahi", "Tunde"),
        ("Kwame", "Chidi", "Emmanuel", "Tunde", "Kofi", "Mohamed", "Olumide", "Yaw"),
        ("Kofi", "David", "Samuel", "Daniel", "Isaac", "Joel", "Chinedu", "Abdirahman"),
    ),
)

IRISH = NamingTradition(
    weight=0.03,
    surnames=("Murphy", "O'Brien", "Kelly", "Byrne", "Doyle", "Walsh", "O'Connor", "Gallagher", "Quinn",
              "McCarthy", "O'Sullivan", "Ryan", "Brennan", "Flanagan"),
    female=(
        ("Bridget", "Mary", "Kathleen", "Teresa", "Margaret", "Eileen"),
        ("Siobhan", "Aoife", "Fiona", "Catherine", "Mairead", "Clare"),
        ("Niamh", "Erin", "Ciara", "Aisling", "Roisin", "Saoirse"),
    ),
    male=(
        ("Patrick", "Michael", "Sean", "Francis", "Thomas", "Joseph"),
        ("Declan", "Brendan", "Kieran", "Liam", "Eamon", "Dermot"),
        ("Conor", "Oisin", "Cian", "Ronan", "Callum", "Finn"),
    ),
)

EASTERN_EUROPEAN = NamingTradition(
    weight=0.04,
    # Surnames that do not change with sex (Kowalski/Kowalska would need more care than a demo deserves).
    surnames=("Nowak", "Wojcik", "Kowalczyk", "Mazur", "Krawczyk", "Wozniak", "Dudek", "Sikora", "Popescu",
              "Ionescu", "Radu", "Dumitru", "Horvath", "Nagy", "Szabo", "Novak"),
    female=(
        ("Maria", "Anna", "Halina", "Irena", "Elena", "Danuta"),
        ("Agnieszka", "Katarzyna", "Ioana", "Magdalena", "Monika", "Joanna", "Elena", "Beata"),
        ("Zofia", "Maja", "Julia", "Lena", "Alicja", "Antonia", "Oliwia", "Natalia"),
    ),
    male=(
        ("Jozef", "Stanislaw", "Jan", "Ion", "Tadeusz", "Gheorghe"),
        ("Piotr", "Tomasz", "Krzysztof", "Andrei", "Marek", "Pawel", "Adrian", "Bogdan"),
        ("Jakub", "Szymon", "Filip", "Antoni", "Darius", "Mateusz", "Luca", "Wiktor"),
    ),
)

TRADITIONS: tuple[NamingTradition, ...] = (BRITISH, PAKISTANI_AND_BANGLADESHI, INDIAN, CARIBBEAN, AFRICAN, IRISH,
                                           EASTERN_EUROPEAN)


def generation(birth_year: int) -> int:
    """Which of a tradition's three first-name lists fits someone born in `birth_year`."""
    if birth_year < 1960:
        return 0
    if birth_year < 1990:
        return 1
    return 2
