"""Word pools from which the replica composes OSCE-like items.

Kept apart from the generator so the pools can grow without touching the logic. The
institutions, fields of work and countries follow the lists in the captured navigation
(``data/seeds``); cities, names and phrasing are invented in the site's register.

The pools behind :data:`UNIQUE_SLOTS` must hold distinct single-token entries: the
generator encodes a unique number into one choice from each, which is what makes every
generated paragraph distinct (see ``generator.unique_sentence``).
"""

from __future__ import annotations

#: Content types: slug -> label as the page and the listing show it.
KIND_LABELS: dict[str, str] = {
    "press-release": "Press release",
    "story": "Story",
    "news": "News",
    "spot-report": "Spot report",
    "daily-report": "Daily report",
    "statement": "Statement",
}

#: Share of each kind among generated items (the newsroom is mostly press releases).
KIND_WEIGHTS: dict[str, float] = {
    "press-release": 0.56,
    "story": 0.22,
    "news": 0.08,
    "spot-report": 0.05,
    "daily-report": 0.04,
    "statement": 0.05,
}

#: Fields of work exactly as the navigation lists them.
FIELDS_OF_WORK: tuple[str, ...] = (
    "Arms control",
    "Border management",
    "Combating trafficking in human beings",
    "Conflict prevention and resolution",
    "Countering terrorism",
    "Cyber/ICT Security",
    "Democratization",
    "Economic activities",
    "Education",
    "Elections",
    "Environmental activities",
    "Gender equality",
    "Good governance",
    "Human rights",
    "Media freedom and development",
    "Migration",
    "National minority issues",
    "Policing",
    "Reform and co-operation in the security sector",
    "Roma and Sinti",
    "Rule of law",
    "Tolerance and non-discrimination",
    "Youth",
)

#: Institutions: (label under "Source:", URL section, "Where we are:" or "", first year,
#: last year, kinds it publishes). Field operations give a "Where we are:" line.
INSTITUTIONS: tuple[tuple[str, str, str, int, int, str], ...] = (
    ("OSCE Chairpersonship", "chairpersonship", "", 1995, 2025, "press-release news statement"),
    ("OSCE Secretariat", "secretariat", "", 1995, 2025, "press-release story news"),
    ("Secretary General", "secretary-general", "", 1995, 2025, "press-release story statement"),
    ("Permanent Council", "pc", "", 1995, 2025, "press-release news"),
    ("Forum for Security Co-operation", "fsc", "", 1995, 2025, "press-release news"),
    ("Office for Democratic Institutions and Human Rights", "odihr", "", 1995, 2025,
     "press-release story news statement"),
    ("Representative on Freedom of the Media", "representative-on-freedom-of-media", "", 1998,
     2025, "press-release statement"),
    ("High Commissioner on National Minorities", "hcnm", "", 1995, 2025,
     "press-release story statement"),
    ("OSCE Parliamentary Assembly", "pa", "", 1995, 2025, "press-release news"),
    ("Summits / Ministerial Councils", "mc", "", 1995, 2025, "press-release story news"),
    ("OSCE Mission to Serbia", "mission-to-serbia", "OSCE Mission to Serbia", 2001, 2025,
     "press-release story news"),
    ("OSCE Mission in Kosovo", "mission-in-kosovo", "OSCE Mission in Kosovo", 1999, 2025,
     "press-release story news"),
    ("OSCE Mission to Bosnia and Herzegovina", "mission-to-bosnia-and-herzegovina",
     "OSCE Mission to Bosnia and Herzegovina", 1995, 2025, "press-release story news"),
    ("OSCE Mission to Skopje", "mission-to-skopje", "OSCE Mission to Skopje", 1995, 2025,
     "press-release story"),
    ("OSCE Mission to Moldova", "mission-to-moldova", "OSCE Mission to Moldova", 1995, 2025,
     "press-release story"),
    ("OSCE Mission to Montenegro", "mission-to-montenegro", "OSCE Mission to Montenegro", 2006,
     2025, "press-release story"),
    ("OSCE Presence in Albania", "presence-in-albania", "OSCE Presence in Albania", 1997, 2025,
     "press-release story"),
    ("OSCE Programme Office in Bishkek", "programme-office-in-bishkek",
     "OSCE Programme Office in Bishkek", 1999, 2025, "press-release story"),
    ("OSCE Programme Office in Dushanbe", "programme-office-in-dushanbe",
     "OSCE Programme Office in Dushanbe", 2002, 2025, "press-release story"),
    ("OSCE Programme Office in Astana", "programme-office-in-astana",
     "OSCE Programme Office in Astana", 1998, 2025, "press-release story"),
    ("OSCE Centre in Ashgabat", "centre-in-ashgabat", "OSCE Centre in Ashgabat", 1999, 2025,
     "press-release"),
    ("OSCE Project Co-ordinator in Uzbekistan", "project-coordinator-in-uzbekistan",
     "OSCE Project Co-ordinator in Uzbekistan", 2006, 2025, "press-release story"),
    ("OSCE Office in Yerevan (closed)", "yerevan", "OSCE Office in Yerevan (closed)", 2000, 2017,
     "press-release"),
    ("OSCE Office in Baku (closed)", "baku", "OSCE Office in Baku (closed)", 2000, 2015,
     "press-release"),
    ("OSCE Mission to Georgia (closed)", "georgia", "OSCE Mission to Georgia (closed)", 1995,
     2009, "press-release"),
    ("OSCE Special Monitoring Mission to Ukraine (closed)", "special-monitoring-mission-to-ukraine",
     "OSCE Special Monitoring Mission to Ukraine (closed)", 2014, 2022,
     "spot-report daily-report press-release"),
    ("Transnational Threats Department", "secretariat/tnt", "", 2012, 2025, "press-release story"),
    ("Gender Issues Programme", "secretariat/gender", "", 2004, 2025, "press-release story"),
    ("Office of the Co-ordinator of OSCE Economic and Environmental Activities", "oceea", "",
     1998, 2025, "press-release story"),
)

#: Cities as datelines and "Place:" show them (capitals, as on the site).
PLACES: tuple[str, ...] = (
    "VIENNA", "WARSAW", "THE HAGUE", "BELGRADE", "PRISTINA", "SARAJEVO", "SKOPJE", "TIRANA",
    "PODGORICA", "CHISINAU", "KYIV", "TBILISI", "YEREVAN", "BAKU", "ASTANA", "ALMATY",
    "BISHKEK", "OSH", "DUSHANBE", "ASHGABAT", "TASHKENT", "COPENHAGEN", "HELSINKI", "VILNIUS",
    "BRATISLAVA", "SOFIA", "LJUBLJANA", "ZAGREB", "MADRID", "ROME", "BERLIN", "PARIS", "GENEVA",
    "BRUSSELS", "STRASBOURG", "VALLETTA", "ATHENS", "STOCKHOLM", "OSLO", "PRAGUE", "BUDAPEST",
    "LONDON", "WASHINGTON", "ISTANBUL", "MINSK", "ULAANBAATAR", "RIGA", "TALLINN", "LISBON",
    "DUBLIN", "NEW YORK", "BATUMI", "MOSTAR", "NOVI SAD", "KHUJAND", "SAMARKAND",
)

#: Where a field operation usually datelines from.
HOME_PLACE: dict[str, tuple[str, ...]] = {
    "mission-to-serbia": ("BELGRADE", "NOVI SAD"),
    "mission-in-kosovo": ("PRISTINA",),
    "mission-to-bosnia-and-herzegovina": ("SARAJEVO", "MOSTAR"),
    "mission-to-skopje": ("SKOPJE",),
    "mission-to-moldova": ("CHISINAU",),
    "mission-to-montenegro": ("PODGORICA",),
    "presence-in-albania": ("TIRANA",),
    "programme-office-in-bishkek": ("BISHKEK", "OSH"),
    "programme-office-in-dushanbe": ("DUSHANBE", "KHUJAND"),
    "programme-office-in-astana": ("ASTANA", "ALMATY"),
    "centre-in-ashgabat": ("ASHGABAT",),
    "project-coordinator-in-uzbekistan": ("TASHKENT", "SAMARKAND"),
    "yerevan": ("YEREVAN",),
    "baku": ("BAKU",),
    "georgia": ("TBILISI", "BATUMI"),
    "special-monitoring-mission-to-ukraine": ("KYIV",),
    "odihr": ("WARSAW",),
    "hcnm": ("THE HAGUE",),
}

COUNTRIES: tuple[str, ...] = (
    "Albania", "Armenia", "Austria", "Azerbaijan", "Belarus", "Bosnia and Herzegovina",
    "Bulgaria", "Croatia", "Georgia", "Kazakhstan", "Kyrgyzstan", "Moldova", "Mongolia",
    "Montenegro", "North Macedonia", "Serbia", "Tajikistan", "Turkmenistan", "Ukraine",
    "Uzbekistan", "Kosovo", "Latvia", "Lithuania", "Estonia", "Romania", "Slovakia",
)

TOPICS: tuple[str, ...] = (
    "hate crime investigation", "community policing", "border security", "election observation",
    "media freedom", "the safety of journalists", "anti-corruption measures",
    "trafficking in human beings", "cybersecurity", "small arms and light weapons",
    "conventional ammunition", "water management", "climate security", "youth participation",
    "women's political participation", "domestic violence", "Roma inclusion",
    "national minority education", "judicial reform", "the rule of law",
    "violent extremism and radicalization", "migration governance", "money laundering",
    "good governance in customs", "disaster risk reduction", "hazardous waste",
    "interethnic dialogue", "freedom of assembly", "legislative drafting",
    "prison reform", "juvenile justice", "cross-border co-operation", "drug trafficking",
    "e-governance", "public procurement", "energy security", "the Aarhus Centres",
    "mine action", "tolerance in schools", "parliamentary oversight",
)

AUDIENCES: tuple[str, ...] = (
    "police officers", "judges and prosecutors", "journalists", "border guards",
    "civil society representatives", "young leaders", "election officials", "customs officers",
    "teachers", "parliamentarians", "women entrepreneurs", "municipal officials",
    "students", "human rights defenders", "Roma community mediators", "defence officials",
)

EVENT_KINDS: tuple[str, ...] = (
    "workshop", "training course", "round table", "conference", "seminar", "study visit",
    "expert meeting", "regional forum", "simulation exercise", "summer school", "public debate",
)

VERBS_PR: tuple[str, ...] = (
    "supports", "hosts", "launches", "organizes", "concludes", "opens", "co-hosts",
    "facilitates", "promotes", "strengthens", "assists", "trains",
)

#: Unique-sentence slots: first names, surnames, cities (title case), numbers (12..411).
FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Boris", "Clara", "Dmitri", "Elena", "Farid", "Gulnara", "Hans", "Ivana", "Jonas",
    "Katarina", "Lejla", "Marko", "Nadia", "Oskar", "Petra", "Rustam", "Sabina", "Tomas",
    "Ulla", "Viktor", "Zarina", "Aigerim", "Bekzod", "Dilnoza", "Emil", "Fatima", "Goran",
    "Helga", "Irakli", "Jelena", "Kamila", "Luka", "Mirela", "Nikola", "Olga", "Pavel",
    "Rasa", "Stefan", "Tamar", "Vesna", "Yusuf", "Agnes", "Bruno", "Daria", "Erik", "Gabriela",
    "Ilir",
)
SURNAMES: tuple[str, ...] = (
    "Novak", "Horvat", "Petrova", "Schmidt", "Kovacs", "Aliyev", "Nazarova", "Berg",
    "Lindqvist", "Marin", "Popescu", "Dimitrov", "Kaya", "Osmani", "Hoxha", "Ivanova",
    "Jensen", "Kozlov", "Lazarev", "Mamedova", "Nurlanov", "Orlov", "Pavlovic", "Quist",
    "Rahimov", "Sorensen", "Toth", "Usmonov", "Vidal", "Weber", "Yilmaz", "Zeller",
    "Abdullaev", "Bianchi", "Celik", "Dragan", "Eriksen", "Fischer", "Gashi", "Halilovic",
    "Ibraimov", "Janssen", "Kalnins", "Lukic", "Morozov", "Niemi", "Ozturk", "Papadakis",
    "Rossi", "Saarinen", "Tamm", "Urban", "Varga", "Wojcik", "Zhukova", "Bakirov", "Cerny",
    "Duda", "Esposito", "Gruber",
)
SLOT_CITIES: tuple[str, ...] = tuple(p.title() for p in PLACES[:50])
NUMBER_BASE = 12
NUMBER_COUNT = 400

ROLES: tuple[str, ...] = (
    "Head of the OSCE Mission", "OSCE Chairperson-in-Office", "OSCE Secretary General",
    "ODIHR Director", "OSCE Representative on Freedom of the Media",
    "OSCE High Commissioner on National Minorities", "Deputy Head of Mission",
    "OSCE Co-ordinator of Economic and Environmental Activities", "project manager",
    "national programme officer", "senior adviser", "Minister of Interior",
    "Deputy Minister of Justice", "Ombudsperson", "Chair of the Permanent Council",
)

BYLINE_AUTHORS: tuple[str, ...] = (
    "Marc Perrin de Brichambaut, OSCE Secretary General",
    "Lamberto Zannier, OSCE Secretary General",
    "Thomas Greminger, OSCE Secretary General",
    "Helga Maria Schmid, OSCE Secretary General",
    "Feridun H. Sinirlioglu, OSCE Secretary General",
    "Mersiha Causevic Podzic, Communication Officer",
    "Ana Kuzmanovic, Public Information Assistant",
    "Nikola Gaon, Spokesperson",
    "Karin Eriksson, Press and Public Information Officer",
    "Aida Zhunusova, National Communication Officer",
    "Jelena Milosevic, Editor",
)

STORY_OPENERS: tuple[str, ...] = (
    "Building trust", "A new start", "Breaking barriers", "Small steps, big change",
    "Voices from the field", "Listening first", "Safer streets", "Making every vote count",
    "Closing the gap", "Learning together", "Beyond the border", "A seat at the table",
    "From training to practice", "Keeping the peace", "Rebuilding confidence",
)

CAPTION_CREDITS: tuple[str, ...] = (
    "OSCE/Micky Kroell", "OSCE/Ghada Hazim", "OSCE/Vladimir Trofimchuk", "OSCE/Jonathan Perfect",
    "OSCE/Sanja Pavlovic", "OSCE/Curtis Budden", "OSCE/Evgeniy Goldin",
)

#: Free sentences that pad paragraphs; slots: {topic} {audience} {country} {field} {event}.
FILLER_SENTENCES: tuple[str, ...] = (
    "The {event} focused on {topic} and on the practical steps needed in {country}.",
    "Participants exchanged experience on {topic} and discussed regional good practices.",
    "The event is part of a wider project on {field_lc} supported by the OSCE.",
    "It brought together {audience} from across {country}.",
    "Speakers underlined that {topic} remains a shared responsibility of all participating "
    "States.",
    "The OSCE has supported efforts on {topic} in {country} for several years.",
    "Further sessions on {topic} are planned for later in the year.",
    "The programme combined lectures, case studies and practical exercises.",
    "Participants also visited local institutions working on {topic}.",
    "The discussions highlighted the need for closer co-operation between state institutions "
    "and civil society.",
    "A set of recommendations on {topic} will be presented to the authorities.",
    "The initiative responds to a request from the authorities of {country}.",
    "Experts from several participating States shared their national approaches to {topic}.",
    "The training materials were developed together with {audience}.",
    "Gender equality and the participation of young people were addressed throughout.",
    "The project is funded by extra-budgetary contributions from several participating States.",
    "The {event} concluded with an evaluation by the participants.",
    "The OSCE will continue to assist {country} in meeting its commitments on {field_lc}.",
)

QUOTES: tuple[str, ...] = (
    "Our aim is to turn commitments into everyday practice",
    "Trust is built step by step, through dialogue and co-operation",
    "This work shows what the OSCE can achieve on the ground",
    "No country can address these challenges alone",
    "Professional, accountable institutions are the backbone of security",
    "We will continue to support these efforts for as long as they are needed",
    "Today's results belong to the people who made them possible",
    "Comprehensive security starts in our communities",
)

#: Templates of the one sentence per paragraph that is unique by construction. Each uses
#: every unique slot once: {first} {last} {city} {number}.
UNIQUE_TEMPLATES: tuple[str, ...] = (
    "{first} {last} from {city} told the {number} participants that \"{quote}.\"",
    "According to {first} {last}, who travelled from {city}, some {number} people took part.",
    "In {city}, {first} {last} presented findings based on {number} interviews.",
    "The working group chaired by {first} {last} in {city} reviewed {number} cases.",
    "{first} {last}, speaking in {city}, noted that {number} institutions had joined the "
    "initiative.",
    "A survey led by {first} {last} in {city} gathered {number} responses.",
    "{number} trainees completed the course in {city}, said {first} {last}.",
    "Since the programme began in {city}, {first} {last} has mentored {number} young "
    "professionals.",
)

#: Pools of class names for markup variants (never the content).
CLASS_POOL: tuple[str, ...] = (
    "field", "field__item", "field--label-inline", "node__meta", "meta", "c-meta",
    "osce-details", "details", "info", "article-info", "node-details", "o-list", "list-unstyled",
    "dl-horizontal", "row", "col", "item", "entry-meta", "pane", "block", "wrapper", "inner",
    "x-field", "dtl", "md", "kv", "facet", "attr", "prop", "lbl", "val",
)

#: Downloadable documents some items link to (PDFs on the same host).
DOCUMENT_TITLES: tuple[str, ...] = (
    "Final report", "Conference programme", "Agenda", "Recommendations", "Fact sheet",
    "Annotated agenda", "Concluding statement", "Background paper",
)

#: Other hosts that items link to (never crawled as osce.org items).
OTHER_HOSTS: tuple[str, ...] = (
    "https://www.vindobona.org/article/osce-news",
    "https://www.un.org/en/",
    "https://www.coe.int/en/web/portal",
    "https://www.osce-mirror.example.net/press-releases",
    "https://europa.eu/",
)

#: The participating State a field operation works in (its items are about that country).
SECTION_COUNTRY: dict[str, str] = {
    "mission-to-serbia": "Serbia",
    "mission-in-kosovo": "Kosovo",
    "mission-to-bosnia-and-herzegovina": "Bosnia and Herzegovina",
    "mission-to-skopje": "North Macedonia",
    "mission-to-moldova": "Moldova",
    "mission-to-montenegro": "Montenegro",
    "presence-in-albania": "Albania",
    "programme-office-in-bishkek": "Kyrgyzstan",
    "programme-office-in-dushanbe": "Tajikistan",
    "programme-office-in-astana": "Kazakhstan",
    "centre-in-ashgabat": "Turkmenistan",
    "project-coordinator-in-uzbekistan": "Uzbekistan",
    "yerevan": "Armenia",
    "baku": "Azerbaijan",
    "georgia": "Georgia",
    "special-monitoring-mission-to-ukraine": "Ukraine",
}
