"""Deterministic demo data: organisations, practices, twinnings and digests across Europe."""

import math
import random
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from dhu_core import accounts, db, demo_logins, geo, taxonomy
from dhu_core.models import (
    AppState,
    AssistanceSession,
    AuditEvent,
    Call,
    CallApplication,
    CallApplicationPractice,
    CallAssignment,
    CallAward,
    CallConsensus,
    CallScore,
    Digest,
    DigestPractice,
    DigestTopic,
    Membership,
    Milestone,
    NeedTag,
    Organisation,
    Practice,
    PracticeCountry,
    PracticeTag,
    TwinningMatch,
    TwinningNeed,
    TwinningReport,
    User,
    utcnow,
)

DEFAULT_PRACTICES = 300
MIN_PRACTICES = 20
CHUNK_ROWS = 20_000
#: Files the demo keeps, such as a twinning's progress report.
DEMO_FILES = Path(__file__).resolve().parent / "demo_files"

START = datetime(2019, 1, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
#: Nothing generated is later than this, so no record lies in the future.
LATEST = datetime(2026, 11, 20, tzinfo=UTC)


class DemoError(Exception):
    """The demo data cannot be written to this database."""


@dataclass(frozen=True)
class DemoAccount:
    """A demo login, created only in the demo database; its password is drawn at each seeding."""

    username: str
    role: str
    display_name: str
    email: str


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("demo-owner", "owner", "Kadri Tamm", "demo-owner@example.org"),
    DemoAccount("demo-owner2", "owner", "Joana Ferreira", "demo-owner2@example.org"),
    DemoAccount(
        "demo-coordinator", "coordinator", "Sophie Laurent", "demo-coordinator@example.org"
    ),
    DemoAccount("demo-admin", "admin", "Marek Nowak", "demo-admin@example.org"),
    DemoAccount("demo-evaluator", "evaluator", "Lena Fischer", "demo-evaluator@example.org"),
    DemoAccount("demo-evaluator2", "evaluator", "Tomás Ruiz", "demo-evaluator2@example.org"),
)
DEMO_USERNAMES = tuple(account.username for account in DEMO_ACCOUNTS)


@dataclass
class DemoSummary:
    """What a demo seeding wrote, and how long it took."""

    organisations: int
    practices: int
    #: Countries with at least one deployment of a practice.
    countries: int
    accounts: int
    needs: int
    matches: int
    digests: int
    seconds: float
    #: The demo accounts with their new passwords: print them, keep them (`demo_logins`).
    logins: tuple[demo_logins.DemoLogin, ...] = ()


# --- reference content -------------------------------------------------------------------


@dataclass(frozen=True)
class _CountryProfile:
    adjective: str
    cities: tuple[str, ...]
    languages: tuple[str, ...]


_PROFILES: dict[str, _CountryProfile] = {
    "AL": _CountryProfile("Albanian", ("Tirana", "Durrës", "Shkodër"), ("sq",)),
    "AT": _CountryProfile("Austrian", ("Vienna", "Graz", "Innsbruck"), ("de",)),
    "BE": _CountryProfile("Belgian", ("Leuven", "Brussels", "Ghent"), ("nl", "fr")),
    "BA": _CountryProfile("Bosnian", ("Sarajevo", "Banja Luka", "Mostar"), ("bs",)),
    "BG": _CountryProfile("Bulgarian", ("Sofia", "Plovdiv", "Varna"), ("bg",)),
    "HR": _CountryProfile("Croatian", ("Zagreb", "Split", "Rijeka"), ("hr",)),
    "CY": _CountryProfile("Cypriot", ("Nicosia", "Limassol", "Larnaca"), ("el",)),
    "CZ": _CountryProfile("Czech", ("Prague", "Brno", "Ostrava"), ("cs",)),
    "DK": _CountryProfile("Danish", ("Copenhagen", "Aarhus", "Odense"), ("da",)),
    "EE": _CountryProfile("Estonian", ("Tartu", "Tallinn", "Pärnu"), ("et",)),
    "FI": _CountryProfile("Finnish", ("Helsinki", "Tampere", "Oulu"), ("fi", "sv")),
    "FR": _CountryProfile("French", ("Paris", "Lyon", "Toulouse"), ("fr",)),
    "GE": _CountryProfile("Georgian", ("Tbilisi", "Batumi", "Kutaisi"), ("ka",)),
    "DE": _CountryProfile("German", ("Heidelberg", "Berlin", "Hamburg"), ("de",)),
    "GR": _CountryProfile("Greek", ("Athens", "Thessaloniki", "Heraklion"), ("el",)),
    "HU": _CountryProfile("Hungarian", ("Budapest", "Debrecen", "Szeged"), ("hu",)),
    "IS": _CountryProfile("Icelandic", ("Reykjavík", "Akureyri", "Kópavogur"), ("is",)),
    "IE": _CountryProfile("Irish", ("Dublin", "Cork", "Galway"), ("en", "ga")),
    "IT": _CountryProfile("Italian", ("Bologna", "Milan", "Rome"), ("it",)),
    "XK": _CountryProfile("Kosovo", ("Pristina", "Prizren", "Peja"), ("sq", "sr")),
    "LV": _CountryProfile("Latvian", ("Riga", "Daugavpils", "Liepāja"), ("lv",)),
    "LI": _CountryProfile("Liechtenstein", ("Vaduz", "Schaan", "Balzers"), ("de",)),
    "LT": _CountryProfile("Lithuanian", ("Vilnius", "Kaunas", "Klaipėda"), ("lt",)),
    "LU": _CountryProfile(
        "Luxembourg", ("Luxembourg City", "Esch-sur-Alzette", "Differdange"), ("lb", "fr", "de")
    ),
    "MT": _CountryProfile("Maltese", ("Msida", "Valletta", "Birkirkara"), ("mt", "en")),
    "MD": _CountryProfile("Moldovan", ("Chișinău", "Bălți", "Cahul"), ("ro",)),
    "ME": _CountryProfile("Montenegrin", ("Podgorica", "Nikšić", "Budva"), ("sr",)),
    "NL": _CountryProfile("Dutch", ("Utrecht", "Amsterdam", "Rotterdam"), ("nl",)),
    "MK": _CountryProfile("North Macedonian", ("Skopje", "Bitola", "Ohrid"), ("mk",)),
    "NO": _CountryProfile("Norwegian", ("Oslo", "Bergen", "Trondheim"), ("no",)),
    "PL": _CountryProfile("Polish", ("Warsaw", "Kraków", "Gdańsk"), ("pl",)),
    "PT": _CountryProfile("Portuguese", ("Porto", "Lisbon", "Coimbra"), ("pt",)),
    "RO": _CountryProfile("Romanian", ("Cluj-Napoca", "Bucharest", "Iași"), ("ro",)),
    "RS": _CountryProfile("Serbian", ("Belgrade", "Novi Sad", "Niš"), ("sr",)),
    "SK": _CountryProfile("Slovak", ("Bratislava", "Košice", "Žilina"), ("sk",)),
    "SI": _CountryProfile("Slovenian", ("Ljubljana", "Maribor", "Celje"), ("sl",)),
    "ES": _CountryProfile("Spanish", ("Barcelona", "Madrid", "Valencia"), ("es", "ca")),
    "SE": _CountryProfile("Swedish", ("Uppsala", "Stockholm", "Gothenburg"), ("sv",)),
    "CH": _CountryProfile("Swiss", ("Zurich", "Geneva", "Bern"), ("de", "fr", "it")),
    "TR": _CountryProfile("Turkish", ("Ankara", "Istanbul", "Izmir"), ("tr",)),
    "UA": _CountryProfile("Ukrainian", ("Kyiv", "Lviv", "Kharkiv"), ("uk",)),
    "GB": _CountryProfile("British", ("Manchester", "London", "Edinburgh"), ("en",)),
}

#: Name patterns per organisation type: {city}, {adj} (adjective) and {country} are filled in.
_ORGANISATION_NAMES: dict[str, tuple[str, ...]] = {
    "health-authority": (
        "{adj} Health Insurance Fund",
        "National Institute of Public Health of {country}",
        "{adj} eHealth Agency",
        "{adj} Medicines Agency",
        "National Health Information Centre of {country}",
        "{city} Regional Health Authority",
        "{city} Public Health Office",
    ),
    "healthcare-provider": (
        "{city} University Hospital",
        "{city} General Hospital",
        "{city} Children's Hospital",
        "{city} Primary Care Centre",
        "{city} Regional Hospital",
        "{city} Rehabilitation Centre",
        "{city} Mental Health Centre",
        "{city} Home Care Service",
        "{city} Heart Centre",
        "{city} Cancer Centre",
        "{city} Community Health Centre",
        "{city} Geriatric Care Centre",
        "{city} Emergency Medical Service",
        "{city} Women's Clinic",
        "{city} Family Medicine Practice",
    ),
    "research": (
        "University of {city}",
        "{city} Medical University",
        "{city} University of Technology",
        "{adj} Institute for Digital Health Research",
        "{city} Centre for Health Informatics",
        "{city} School of Public Health",
    ),
    "patient-organisation": (
        "{adj} Diabetes Association",
        "{adj} Heart Patients' Association",
        "{adj} Alliance of Patient Organisations",
        "{adj} Cancer Society",
        "{adj} Mental Health Association",
        "{adj} Alzheimer Society",
        "{city} Carers' Network",
        "{city} Diabetes Support Group",
        "{city} Patients' Council",
    ),
    "accelerator": (
        "{city} Health Innovation Hub",
        "{adj} Digital Health Cluster",
        "{city} MedTech Accelerator",
        "{city} Living Lab for Health and Care",
        "{adj} Health Tech Incubator",
    ),
    "policy-maker": (
        "{adj} Council for Health and Care Policy",
        "{city} Regional Government",
        "{adj} Digital Government Agency",
        "{city} City Council Health Department",
    ),
    "other": (
        "{adj} Foundation for eHealth",
        "{adj} Nurses' Association",
        "{adj} Association of Pharmacists",
        "{city} Municipality",
    ),
}
_LOCAL_ORGANISATION_TYPES = ("healthcare-provider", "patient-organisation", "other")
_DISTRICTS = ("North", "South", "East", "West", "Central", "Old Town", "Riverside", "Harbour")
_COMPANY_PARTS = (
    ("Cardio", "Neuro", "Medi", "Vita", "Care", "Pulse", "Clini", "Thera", "Onco", "Pneumo")
    + ("Geri", "Mind", "Bio", "Tele", "Dia", "Derma", "Sana", "Salus"),
    ("Link", "Sense", "Track", "Bridge", "Flow", "Wave", "Logic", "Nova", "Path", "Point")
    + ("Hub", "Scope", "Metrics", "Works", "Well"),
    ("Health", "Technologies", "Digital", "Labs", "Solutions", "Systems", "Software", "Analytics"),
)
_ORGANISATION_TYPE_WEIGHTS = {
    "healthcare-provider": 30,
    "company": 22,
    "research": 14,
    "health-authority": 12,
    "patient-organisation": 7,
    "accelerator": 6,
    "policy-maker": 4,
    "other": 5,
}

_PRACTICE_TYPE_WEIGHTS = {
    "app": 24,
    "service": 26,
    "model": 14,
    "framework": 10,
    "strategy": 12,
    "policy": 14,
}
#: How likely each organisation type is to own a practice of each type.
_OWNER_AFFINITY: dict[str, dict[str, float]] = {
    "policy": {"health-authority": 10, "policy-maker": 10},
    "strategy": {"health-authority": 8, "policy-maker": 6, "healthcare-provider": 2},
    "app": {"company": 10, "healthcare-provider": 3, "research": 3, "patient-organisation": 2},
    "service": {"healthcare-provider": 10, "company": 4, "health-authority": 3},
    "framework": {"research": 8, "health-authority": 5, "accelerator": 2, "company": 1},
    "model": {"healthcare-provider": 7, "research": 3, "health-authority": 2, "company": 2},
}
_MATURITY_WEIGHTS = {1: 10, 2: 28, 3: 32, 4: 20, 5: 10}
#: Countries of the university hospitals that the two demo owners work for.
_DEMO_OWNER_COUNTRIES = ("EE", "PT")


@dataclass(frozen=True)
class _Topic:
    key: str
    domains: tuple[str, ...]
    dhi: tuple[str, ...]
    standards: tuple[str, ...]
    audience: str
    goal: str
    problem: str
    titles: dict[str, tuple[str, ...]]


_TOPICS: tuple[_Topic, ...] = (
    _Topic(
        "heart-failure",
        ("cardiovascular", "telehealth"),
        ("2.4.2", "1.4.2", "2.3.1", "1.1.3"),
        ("fhir", "loinc", "snomed-ct", "ihe"),
        "people living with heart failure",
        "early detection of worsening heart failure and fewer emergency admissions",
        "Patients with heart failure are often readmitted within weeks of discharge because "
        "early warning signs are missed at home.",
        {
            "service": (
                "Remote monitoring of heart failure patients at home",
                "Telemonitoring service after a heart failure admission",
            ),
            "app": ("Heart failure self-care app with daily weight and symptom check-ins",),
            "model": ("Nurse-led telemonitoring care model for heart failure",),
            "strategy": ("Regional strategy for integrated cardiovascular care",),
        },
    ),
    _Topic(
        "hypertension",
        ("cardiovascular", "prevention"),
        ("1.4.2", "2.4.2", "1.1.3"),
        ("fhir", "loinc"),
        "people with high blood pressure",
        "better blood pressure control in primary care",
        "Only half of our patients with high blood pressure reach their treatment target, "
        "and home readings never reach the GP.",
        {
            "app": ("Home blood pressure diary app linked to the GP record",),
            "service": ("Pharmacy-based hypertension screening with digital referral",),
            "model": ("Team-based hypertension management in primary care",),
        },
    ),
    _Topic(
        "eprescription",
        ("medication", "records-and-access"),
        ("2.9.1", "2.9.2", "4.4.1", "1.4.1"),
        ("fhir", "hl7v2", "snomed-ct", "eehrxf", "ihe"),
        "patients, doctors and pharmacists",
        "safe, paperless prescribing and dispensing of medicines",
        "Prescriptions are still issued on paper in most practices, which leads to dispensing "
        "errors and no overview of what patients actually take.",
        {
            "service": (
                "National ePrescription service",
                "Cross-border ePrescription and eDispensation service",
            ),
            "policy": ("National policy on electronic prescribing",),
            "app": ("Medication overview app for patients and carers",),
            "framework": ("Medication safety checklist for ePrescription systems",),
        },
    ),
    _Topic(
        "records-access",
        ("records-and-access", "digital-literacy"),
        ("1.4.1", "2.2.1", "4.4.1"),
        ("fhir", "cda", "openehr", "ihe", "eehrxf", "iso-13606"),
        "citizens",
        "secure online access for every citizen to their own health record",
        "Citizens cannot see their test results, letters and medication list online, and "
        "clinicians cannot see records from other providers.",
        {
            "service": (
                "National patient portal for access to the electronic health record",
                "Shared care record across hospitals and primary care",
            ),
            "policy": ("Law on citizens' access to their electronic health data",),
            "strategy": ("National eHealth strategy",),
            "framework": ("Interoperability maturity model for health information systems",),
            "model": ("Governance model for a regional health information exchange",),
        },
    ),
    _Topic(
        "patient-summary",
        ("records-and-access", "general"),
        ("4.4.1", "2.2.2", "1.4.1"),
        ("eehrxf", "fhir", "cda", "snomed-ct", "loinc", "icd-10"),
        "patients treated abroad and their clinicians",
        "the exchange of patient summaries across borders in the European Health Data Space",
        "Doctors treating visitors from other countries have no access to their medical history, "
        "allergies or current medication.",
        {
            "service": ("Cross-border patient summary exchange",),
            "strategy": ("Roadmap for joining MyHealth@EU",),
            "framework": ("Conformance testing framework for the European EHR exchange format",),
        },
    ),
    _Topic(
        "youth-mental-health",
        ("mental-health", "prevention"),
        ("1.6.1", "1.3.1", "2.4.1", "1.4.3"),
        (),
        "adolescents and young adults",
        "early help for anxiety and low mood without long waiting lists",
        "Young people wait months for a first mental health appointment and many never seek "
        "help at all.",
        {
            "app": (
                "Mental health self-help app for adolescents",
                "Mood tracking app with guided cognitive behavioural exercises",
            ),
            "service": (
                "Online counselling service for students",
                "Internet-delivered cognitive behavioural therapy clinic",
            ),
            "model": ("Stepped-care model for youth mental health",),
            "strategy": ("National digital mental health strategy",),
        },
    ),
    _Topic(
        "dementia",
        ("neurology", "ageing-and-care"),
        ("1.4.2", "2.4.2", "1.3.1"),
        ("snomed-ct",),
        "people living with dementia and their carers",
        "a safe life at home for longer for people living with dementia",
        "Families caring for a relative with dementia feel alone, and people move to nursing "
        "homes earlier than they wish.",
        {
            "service": ("Home sensor service for people living with dementia",),
            "app": ("Support app for family carers of people with dementia",),
            "model": ("Integrated dementia care pathway with a shared care plan",),
        },
    ),
    _Topic(
        "diabetes",
        ("diabetes", "prevention"),
        ("1.4.2", "2.4.2", "2.3.1", "1.1.2"),
        ("fhir", "loinc", "snomed-ct"),
        "people with type 2 diabetes",
        "better glucose control and fewer complications of diabetes",
        "Diabetes clinics are overloaded and many patients are seen only once a year, with "
        "little support in between.",
        {
            "app": (
                "Diabetes self-management app with continuous glucose monitoring",
                "Digital diabetes prevention programme",
            ),
            "service": ("Diabetic retinopathy screening with automated image grading",),
            "model": ("Virtual diabetes clinic in primary care",),
        },
    ),
    _Topic(
        "ai-imaging",
        ("cancer", "general"),
        ("2.3.3", "4.1.4", "2.10.1"),
        ("dicom", "hl7v2", "fhir"),
        "radiologists and pathologists",
        "faster and more reliable reading of medical images with artificial intelligence",
        "Radiologists cannot keep up with screening volumes and reporting times keep growing.",
        {
            "service": (
                "AI-supported breast cancer screening",
                "Artificial intelligence triage of chest X-rays",
            ),
            "framework": (
                "Assessment framework for trustworthy AI in health",
                "Clinical validation protocol for AI medical devices",
            ),
            "policy": ("Guidance on the procurement of AI solutions in public hospitals",),
            "strategy": ("National strategy for artificial intelligence in health care",),
        },
    ),
    _Topic(
        "cancer-care",
        ("cancer", "telehealth"),
        ("1.4.3", "2.4.1", "1.1.3"),
        ("fhir", "snomed-ct"),
        "people treated for cancer",
        "timely reporting of treatment side effects and personalised follow-up",
        "Side effects of chemotherapy are often reported late, when patients already need "
        "emergency care.",
        {
            "app": ("Electronic patient-reported outcomes app for chemotherapy",),
            "service": ("Remote symptom monitoring during cancer treatment",),
            "model": ("Shared follow-up model for cancer survivors in primary care",),
        },
    ),
    _Topic(
        "copd",
        ("respiratory", "telehealth", "rehabilitation"),
        ("2.4.2", "1.4.2", "2.4.1"),
        ("fhir", "loinc"),
        "people with COPD",
        "fewer exacerbations and shorter hospital stays for COPD",
        "Patients with COPD are admitted several times each winter, and few can attend "
        "pulmonary rehabilitation in person.",
        {
            "service": ("Telerehabilitation programme for COPD",),
            "app": ("Inhaler technique and breathing exercise app",),
            "model": ("Hospital-at-home model for COPD exacerbations",),
        },
    ),
    _Topic(
        "stroke",
        ("neurology", "cardiovascular", "telehealth"),
        ("2.4.4", "2.6.1", "2.4.3"),
        ("dicom", "hl7v2"),
        "patients with a suspected stroke",
        "faster stroke treatment in regional hospitals",
        "Our regional hospitals have no stroke specialist at night, so treatment is delayed "
        "or patients are transferred.",
        {
            "service": ("Telestroke network for regional hospitals",),
            "model": ("Hub-and-spoke model for acute stroke care",),
        },
    ),
    _Topic(
        "maternal",
        ("maternal-and-child", "womens-health"),
        ("1.1.2", "1.4.3", "2.4.2"),
        ("fhir", "snomed-ct"),
        "pregnant women and new parents",
        "safer pregnancies and well-informed parents",
        "Women in rural areas travel far for pregnancy check-ups, and high-risk pregnancies "
        "are detected late.",
        {
            "app": ("Pregnancy companion app with midwife chat",),
            "service": ("Remote monitoring of high-risk pregnancies",),
            "model": ("Digital home visiting model for new parents",),
        },
    ),
    _Topic(
        "immunisation",
        ("infectious-disease", "prevention"),
        ("1.1.3", "2.2.4", "3.3.1", "4.1.2"),
        ("fhir", "hl7v2", "snomed-ct", "icd-10"),
        "families and public health teams",
        "higher vaccination coverage and reliable immunisation records",
        "Vaccination records are kept on paper in each practice, so nobody knows who missed "
        "a dose.",
        {
            "service": ("National immunisation information system",),
            "app": ("Vaccination reminder app for parents",),
            "policy": ("Policy on electronic vaccination certificates",),
        },
    ),
    _Topic(
        "surveillance",
        ("infectious-disease",),
        ("3.3.1", "4.1.3", "4.3.2", "2.10.1"),
        ("hl7v2", "loinc", "snomed-ct", "icd-10"),
        "public health authorities",
        "faster detection of outbreaks",
        "Notifiable diseases are reported by fax and e-mail, which delays our response to "
        "outbreaks by days.",
        {
            "service": ("Electronic laboratory reporting of notifiable diseases",),
            "framework": ("Data quality framework for disease surveillance",),
            "strategy": ("Strategy for integrated epidemic intelligence",),
        },
    ),
    _Topic(
        "independent-living",
        ("ageing-and-care", "prevention"),
        ("1.4.2", "2.4.2", "2.7.1"),
        ("fhir",),
        "older people living alone",
        "independent living at home and fewer falls",
        "More and more older people live alone, and a fall often goes unnoticed for hours.",
        {
            "service": ("Fall detection and personal alarm service for older people",),
            "app": ("Strength and balance exercise app for older adults",),
            "model": ("Integrated home care model supported by telecare",),
            "strategy": ("Regional strategy for technology-enabled care",),
        },
    ),
    _Topic(
        "digital-literacy",
        ("digital-literacy", "general"),
        ("1.2.1", "1.6.1"),
        (),
        "citizens with low digital skills",
        "digital health literacy, so that nobody is left behind",
        "Many older and low-income patients cannot use our online services and fall back on "
        "the phone or do not get care.",
        {
            "model": ("Digital health navigators in public libraries",),
            "service": ("Digital skills training for patients in community centres",),
            "framework": ("Digital health literacy assessment tool",),
            "policy": ("Policy on accessible digital health services",),
        },
    ),
    _Topic(
        "app-assessment",
        ("general", "digital-literacy"),
        ("1.6.1", "4.1.3"),
        (),
        "doctors, patients and payers",
        "trustworthy health apps that doctors can recommend",
        "Doctors do not know which health apps they can safely recommend, and we have no "
        "way to pay for the good ones.",
        {
            "framework": ("Assessment framework for mHealth apps", "Quality label for health apps"),
            "policy": ("Reimbursement pathway for digital health applications",),
            "service": ("National health app library",),
        },
    ),
    _Topic(
        "teleconsultation",
        ("telehealth", "general"),
        ("2.4.1", "2.1.2", "1.1.3", "2.7.2"),
        ("fhir", "snomed-ct"),
        "patients in rural areas",
        "quick access to a doctor without long journeys",
        "Patients on the islands and in mountain villages travel for hours to see a doctor "
        "for a ten-minute consultation.",
        {
            "service": (
                "Video consultations in general practice",
                "Out-of-hours teleconsultation service",
            ),
            "model": ("Remote-first model for rural primary care",),
            "policy": ("Reimbursement policy for teleconsultations",),
            "app": ("Symptom checker and online booking app",),
        },
    ),
    _Topic(
        "musculoskeletal",
        ("musculoskeletal", "rehabilitation"),
        ("1.4.2", "2.4.2", "2.4.1"),
        (),
        "people recovering from hip or knee replacement",
        "effective rehabilitation at home after surgery",
        "Waiting lists for physiotherapy after joint replacement are long, and patients "
        "recover more slowly as a result.",
        {
            "app": ("Physiotherapy exercise app after knee replacement",),
            "service": ("Telerehabilitation after hip and knee surgery",),
            "model": ("Digital care pathway for low back pain",),
        },
    ),
    _Topic(
        "palliative",
        ("palliative-care", "telehealth"),
        ("2.4.1", "2.6.2", "2.2.1"),
        ("snomed-ct",),
        "people in the last phase of life and their families",
        "care at home in line with patients' own wishes",
        "Home care teams cannot reach a palliative specialist at night, so patients are "
        "admitted to hospital against their wishes.",
        {
            "service": ("Palliative care teleconsultation for home care teams",),
            "model": ("Shared advance care planning record",),
        },
    ),
    _Topic(
        "hearing",
        ("ent",),
        ("1.4.2", "2.4.1", "2.3.3"),
        (),
        "people with hearing loss",
        "early detection of hearing loss and remote fitting of hearing aids",
        "Hearing loss is detected late and audiologists are concentrated in the capital.",
        {
            "app": ("Smartphone hearing test",),
            "service": ("Remote fitting and follow-up of hearing aids",),
        },
    ),
    _Topic(
        "workforce",
        ("general",),
        ("3.1.1", "3.1.3", "2.8.1", "3.7.1"),
        (),
        "health workers and managers",
        "a well-trained health workforce and efficient health services",
        "Nurses and doctors have little time for training, and we lack an overview of the "
        "skills available in each facility.",
        {
            "service": ("National register of health professionals",),
            "app": ("Micro-learning app for nurses",),
            "framework": ("Digital competence framework for health professionals",),
            "strategy": ("Health workforce digital skills strategy",),
        },
    ),
    _Topic(
        "health-data",
        ("records-and-access", "general"),
        ("4.1.2", "4.1.3", "4.2.3", "4.4.1"),
        ("openehr", "snomed-ct", "icd-11", "fhir", "loinc"),
        "researchers and policy makers",
        "the safe reuse of health data for research and policy",
        "Researchers wait more than a year for access to health data, and every registry "
        "uses its own codes.",
        {
            "service": ("Health data access body for research",),
            "policy": ("Rules for the secondary use of health data",),
            "framework": ("Anonymisation and data quality framework for health data",),
            "strategy": ("Health data strategy for the European Health Data Space",),
        },
    ),
    _Topic(
        "healthy-lifestyle",
        ("prevention", "general"),
        ("1.1.2", "1.2.1", "1.7.3"),
        (),
        "adults who want to live more healthily",
        "healthier lifestyles and fewer chronic diseases",
        "Chronic diseases linked to smoking, diet and inactivity are rising, and prevention "
        "gets little attention in primary care.",
        {
            "app": (
                "Healthy lifestyle coaching app",
                "Smoking cessation app with personal coaching",
            ),
            "model": ("Workplace health promotion programme with digital coaching",),
            "strategy": ("National strategy for digital prevention",),
        },
    ),
    _Topic(
        "emergency",
        ("cardiovascular", "general"),
        ("2.6.1", "1.1.1", "4.3.1"),
        ("hl7v2",),
        "emergency services and citizens",
        "a faster emergency response",
        "Ambulances take too long to reach cardiac arrest patients, and hospitals receive "
        "no data before the patient arrives.",
        {
            "app": ("Community first responder app for cardiac arrest",),
            "service": ("Ambulance-to-hospital data transmission",),
        },
    ),
    _Topic(
        "financing",
        ("general",),
        ("3.5.1", "3.5.2", "3.5.3", "1.7.1"),
        ("icd-10", "hl7v2"),
        "patients, providers and insurers",
        "fast and transparent claims and reimbursement",
        "Claims are processed by hand and digital services have no way to be paid.",
        {
            "service": ("Electronic insurance claims and reimbursement",),
            "policy": ("Payment model for remote patient monitoring",),
            "model": ("Value-based payment model for chronic care",),
        },
    ),
    _Topic(
        "lab-results",
        ("records-and-access",),
        ("1.1.4", "2.10.1", "2.10.2"),
        ("loinc", "hl7v2", "fhir"),
        "patients and clinicians",
        "quick and reliable exchange of laboratory orders and results",
        "Laboratory results reach the GP on paper days later, and tests are repeated "
        "because earlier results cannot be found.",
        {
            "service": ("Electronic laboratory ordering and results service",),
            "app": ("Test results app for patients",),
        },
    ),
)

#: (title, topic) of every title practices are generated from, the longest first.
_BASE_TITLES = sorted(
    (
        (title, topic.key)
        for topic in _TOPICS
        for titles in topic.titles.values()
        for title in titles
    ),
    key=lambda pair: -len(pair[0]),
)

_TYPE_SENTENCES = {
    "app": (
        "A mobile app for {audience} that supports {goal}.",
        "An app that gives {audience} practical tools for {goal}.",
    ),
    "service": (
        "A digital service that connects {audience} with professionals, aiming at {goal}.",
        "A routinely funded service for {audience}, built for {goal}.",
    ),
    "policy": (
        "A policy that sets rules, funding and responsibilities for {goal}.",
        "A legal and financial framework for {goal}, agreed with {audience}.",
    ),
    "strategy": (
        "A strategy with targets, a budget and a roadmap towards {goal}.",
        "A multi-year strategy, written with {audience}, towards {goal}.",
    ),
    "framework": (
        "An assessment framework that helps buyers and regulators judge solutions for {goal}.",
        "A set of criteria and tests, developed with {audience}, for {goal}.",
    ),
    "model": (
        "A care model that organises staff, payment and technology around {goal}.",
        "A model of care for {audience}, designed for {goal}.",
    ),
}
#: How far a practice has come, for solutions (apps, services, care models).
_MATURITY_SENTENCES = {
    1: (
        "The concept was co-designed with patients and clinicians in {year}.",
        "A first prototype is being tested with a small group of users.",
    ),
    2: (
        "A pilot with {n} participants started in {city} in {year}.",
        "Piloted at two sites in {city} since {year}.",
    ),
    3: (
        "In routine use in {city} since {year}, with about {n} users.",
        "Part of routine care in the {city} area since {year}.",
    ),
    4: (
        "Rolled out in {regions} regions of {country} since {year}.",
        "Used nationwide in {country} since {year}.",
    ),
    5: (
        "In routine use in {countries} countries, coordinated from {city}.",
        "Started in {country} in {year} and now used in {countries} countries.",
    ),
}
#: How far a practice has come, for documents (policies, strategies, frameworks).
_DOCUMENT_MATURITY_SENTENCES = {
    1: (
        "A first draft was discussed with stakeholders in {year}.",
        "Still a proposal, open for consultation since {year}.",
    ),
    2: (
        "Tested in {city} since {year} before wider adoption.",
        "Trialled with a small group of organisations since {year}.",
    ),
    3: (
        "Applied in the {city} region since {year}.",
        "In force in the {city} region since {year}.",
    ),
    4: (
        "Applied nationwide in {country} since {year}.",
        "Adopted by {regions} regions of {country} since {year}.",
    ),
    5: (
        "Adopted in {countries} countries, starting in {country} in {year}.",
        "Used as a reference in {countries} countries since {year}.",
    ),
}
_DOCUMENT_TYPES = ("policy", "strategy", "framework")
_HOW_IT_WORKS = {
    "app": "Users record their data in the app; the care team sees trends on a dashboard and "
    "is alerted when values go out of range.",
    "service": "Professionals work from one shared platform, and patients reach the team by "
    "video, chat or phone.",
    "policy": "It defines who is responsible, how the service is paid for and which technical "
    "standards apply.",
    "strategy": "It sets out priorities, a budget and a timeline, and is reviewed every two "
    "years with patients, professionals and industry.",
    "framework": "It combines criteria on clinical evidence, data protection, usability, "
    "interoperability and security into one transparent score.",
    "model": "It describes roles, care pathways and payment, and comes with training material "
    "for staff.",
}
_DESCRIPTION_EXTRAS = (
    "It was co-designed with patients, nurses and doctors.",
    "Part of the work was co-funded by the EU4Health programme.",
    "An independent evaluation is under way.",
    "Documentation and training material are available in English.",
    "The team publishes its lessons learned every year.",
)
_EVIDENCE = (
    "An evaluation with {n} patients found {p}% fewer hospital admissions after 12 months.",
    "Users rated it {s} out of 10 in a survey of {n} users.",
    "A randomised controlled trial with {n} participants showed a clinically relevant "
    "improvement after six months.",
    "A cost-benefit analysis estimated savings of EUR {m} per patient per year.",
    "Staff report saving about {k} minutes per consultation.",
)
_LICENCES = {
    "app": ("Proprietary, per-user licence", "Open source (EUPL-1.2)", "Free for public bodies"),
    "service": ("Open source (EUPL-1.2)", "Open source (Apache-2.0)", "Proprietary, site licence"),
    "policy": ("Public document, free to reuse",),
    "strategy": ("Public document, free to reuse", "Creative Commons BY 4.0"),
    "framework": ("Creative Commons BY 4.0", "Creative Commons BY-SA 4.0"),
    "model": ("Creative Commons BY 4.0", "Free to reuse with attribution"),
}
_SUPPORT = (
    "Study visits, an implementation guide and two days of on-site training.",
    "Online workshops and a shared project plan for the first six months.",
    "Mentoring by our clinical lead and access to our training material.",
    "Technical documentation, source code and help with local configuration.",
    "A peer network of adopters that meets online every month.",
)
_REJECTION_REASONS = (
    "The description is too short to judge the practice; please add how it works and who uses it.",
    "This appears to duplicate a practice your organisation has already registered.",
    "This is a commercial product announcement rather than a practice in use.",
)
_FEATURE_STRENGTHS = (
    "solid evidence from routine use",
    "open standards that make it easy to connect to existing records",
    "having been adapted to very different health systems",
    "strong involvement of patients and professionals in its design",
    "a simple design that keeps running costs low",
)
_NEED_CONTEXTS = (
    "We have a small IT team and a tight budget, so we would rather adopt something proven "
    "than build our own.",
    "Our region has many older patients living far from the nearest hospital.",
    "Our national record system already supports HL7 FHIR, so a solution that uses it would "
    "fit well.",
    "We have funding for an 18-month project from the Recovery and Resilience Facility.",
    "Clinicians are motivated but have no experience with digital care pathways.",
)
_NEED_ASKS = {
    "knowledge-exchange": "We are looking for a partner to share experience through study "
    "visits and online meetings.",
    "partial-adoption": "We would like to adopt parts of an existing solution, such as its "
    "care protocols and training material.",
    "full-adoption": "We want to adopt a proven solution in full, with support from its "
    "originators during roll-out.",
}
_TIMELINES = (
    "Start within 6 months, for about a year",
    "Start in 2027, 18 months",
    "As soon as possible, 12 months",
    "Second half of 2027, two years",
    "Start in spring 2027, 9 months",
)
_MATCH_NOTES = {
    "shortlisted": "Both teams had a first video call; the adopter is checking the budget.",
    "agreed": "Twinning agreed: study visit planned and a joint work plan signed.",
    "in-transfer": "Transfer under way: the adopter's staff are trained and a pilot ward started.",
    "completed": "Twinning completed: the solution is in routine use at the adopter.",
    "declined": "Declined by the adopter: the solution does not fit their record system.",
}


@dataclass(frozen=True)
class _DigestText:
    title: str
    topics: tuple[str, ...]
    practice_topics: tuple[str, ...]
    body: str


_DIGESTS: tuple[_DigestText, ...] = (
    _DigestText(
        "Trustworthy AI in health: what buyers should ask",
        ("artificial-intelligence", "trustworthy-ai", "procurement"),
        ("ai-imaging", "app-assessment"),
        """Artificial intelligence can read images, sort referrals and predict who needs care
first. But a tool that works in one hospital may fail in the next.

## Five questions before you buy

1. **Was it tested on patients like ours?** Ask for results from a population similar to yours.
2. **Who checks it after go-live?** Performance drifts when equipment or patients change.
3. **Can clinicians see why it decided?** Explanations build trust and catch errors.
4. **Is it a certified medical device?** Check the CE marking and the intended use.
5. **Where do the data go?** Data protection and security must be clear in the contract.

The EU AI Act classes most medical AI as *high risk*. That means documented risk management,
human oversight and logging. The practices linked below show how hospitals and regulators
already put this into practice.""",
    ),
    _DigestText(
        "EHR interoperability in the European Health Data Space",
        ("ehds", "interoperability", "electronic-health-records"),
        ("records-access", "patient-summary", "eprescription", "lab-results"),
        """The European Health Data Space (EHDS) gives every person in the EU the right to access
their health data electronically, also when they travel or move.

## What changes

- Patient summaries, ePrescriptions, laboratory results, images and discharge reports must be
  exchanged in the **European EHR exchange format**.
- Electronic health record systems will need to show that they meet common requirements.
- Countries connect through **MyHealth@EU**, the cross-border infrastructure.

## Where to start

Most countries already exchange some data nationally. The quickest wins come from reusing
standards that are already in place, such as HL7 FHIR and SNOMED CT, and from learning from
countries that connected early. The practices below show national portals, ePrescription
services and cross-border exchange that others can adopt.""",
    ),
    _DigestText(
        "Telemonitoring at scale: lessons from heart failure and COPD",
        ("telemonitoring", "chronic-care", "scaling-up"),
        ("heart-failure", "copd", "diabetes"),
        """Many telemonitoring projects stop after the pilot. Those that scale have a few things in
common.

- **A clear care model.** Nurses triage alerts; doctors are involved only when needed.
- **Sustainable payment.** A tariff or a bundled payment replaces project funding.
- **Simple devices.** Patients use a scale, a blood pressure monitor or a phone they
  already know.
- **Data in the record.** Readings flow into the electronic health record, not a separate
  portal.

Evaluations of mature services report fewer admissions and shorter stays, but only when the
service is part of routine care. The practices below are in routine use and open to
twinning.""",
    ),
    _DigestText(
        "Digital mental health for young people",
        ("mental-health", "young-people"),
        ("youth-mental-health",),
        """Waiting lists for child and adolescent mental health services are long in most European
countries. Digital tools can help young people get support earlier.

Self-help apps based on cognitive behavioural therapy work best when a professional follows
up. Online counselling lowers the threshold for young people who would not walk into a clinic.
A *stepped-care* model matches the intensity of help to the need, so specialists have time for
the most severe cases.

Involve young people in the design: tone, privacy and the choice of channel decide whether a
tool is used at all.""",
    ),
    _DigestText(
        "Leaving nobody behind: digital health literacy",
        ("digital-literacy", "equity"),
        ("digital-literacy", "independent-living"),
        """About four in ten adults in Europe lack basic digital skills. When health services move
online, these people risk losing access to care.

Good practices combine three things: **simple services** designed with their users,
**human help** close to home (libraries, pharmacies, community centres), and **offline
alternatives** that remain available. Measuring digital health literacy helps to target
support where it is needed most.""",
    ),
    _DigestText(
        "Reusing health data for research and policy",
        ("secondary-use", "ehds", "health-data"),
        ("health-data", "surveillance"),
        """Health data collected in care can help to improve treatments and plan services. Under the
European Health Data Space, researchers and public bodies will request access through
national **health data access bodies**, and analyse the data in secure processing
environments.

Trust depends on transparency: citizens should see who uses data and why. Common codes
(SNOMED CT, ICD-11, LOINC) and good data quality make the data useful in the first place.""",
    ),
)


# --- public API --------------------------------------------------------------------------


def seed_demo(
    *, engine: Engine, practices: int = DEFAULT_PRACTICES, seed: int = 2026
) -> DemoSummary:
    """Fill an empty, migrated database with the demo data set, in one transaction."""
    started = time.perf_counter()
    _check_count(practices)
    if not db.is_at_head(engine):
        raise DemoError("the database is not migrated: run `dhu init-db` first")
    with db.session_scope(engine) as session:
        held = {
            "organisations": session.scalar(select(func.count()).select_from(Organisation)),
            "practices": session.scalar(select(func.count()).select_from(Practice)),
            "accounts": session.scalar(select(func.count()).select_from(User)),
        }
        if any(held.values()):
            found = ", ".join(f"{count} {name}" for name, count in held.items() if count)
            raise DemoError(
                f"the database already holds data ({found}); demo data go only into an empty "
                "database or replace an existing demo data set (reset)"
            )
        summary = _seed(session, practices=practices, seed=seed)
    db.checkpoint(engine)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def reset_demo(
    *, engine: Engine, practices: int = DEFAULT_PRACTICES, seed: int = 2026
) -> DemoSummary:
    """Replace the demo data set of a demo database with a fresh one, in one transaction."""
    started = time.perf_counter()
    _check_count(practices)
    if not db.is_demo(engine):
        raise DemoError("this database does not hold demo data; only a demo database is reset")
    with db.session_scope(engine) as session:
        db.delete_all_rows(session)
        summary = _seed(session, practices=practices, seed=seed)
    db.checkpoint(engine)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def generated_from(title: str) -> tuple[str, str] | None:
    """The topic and the title that a demo practice's title was generated from (a generated
    title may add a place or an organisation), or None for any other title."""
    for base, topic in _BASE_TITLES:
        if title == base or title.startswith((f"{base} ", f"{base} –")):
            return topic, base
    return None


def _check_count(practices: int) -> None:
    if practices < MIN_PRACTICES:
        raise DemoError(f"the demo data set needs at least {MIN_PRACTICES} practices")


# --- generation --------------------------------------------------------------------------


class _Picker:
    """Draws items with fixed weights (cumulative weights are computed once)."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cumulative = list(accumulate(weights))

    def __call__(self, rng: random.Random) -> Any:
        return rng.choices(self.items, cum_weights=self.cumulative)[0]


@dataclass(slots=True)
class _Org:
    id: int
    name: str
    type: str
    country: str
    city: str
    slug: str


@dataclass(slots=True)
class _PracticeFacts:
    """What the twinning and digest generators need to know about a practice."""

    id: int
    org: _Org
    type: str
    maturity: int
    topic: str
    published_at: datetime | None
    transferable: bool | None
    domains: list[str]
    dhi: list[str]
    standards: list[str]
    languages: list[str]


def _seed(session: Session, *, practices: int, seed: int) -> DemoSummary:
    rng = random.Random(seed)
    orgs = _organisations(rng, count=min(5000, max(84, practices // 8)))
    owner_org, owner2_org = (_find_org(orgs, code) for code in _DEMO_OWNER_COUNTRIES)
    logins = tuple(
        demo_logins.DemoLogin(a.username, a.role, password, accounts.hash_password(password))
        for a, password in ((a, demo_logins.new_password()) for a in DEMO_ACCOUNTS)
    )
    account_rows = _accounts(owner_org, owner2_org, logins)
    user_ids = {row["username"]: row["id"] for row in account_rows}
    practice_rows, country_rows, tag_rows, facts = _practices(
        rng, practices, orgs, owner_org, owner2_org, user_ids
    )
    need_rows, need_tag_rows, match_rows = _twinnings(
        rng, orgs, facts, owner2_org, user_ids, count=min(2000, max(12, practices // 15))
    )
    digest_rows, topic_rows, link_rows = _digests(
        rng, facts, user_ids["demo-coordinator"], count=min(len(_DIGESTS), 3 + practices // 100)
    )
    seeded_at = utcnow()
    call_rows, application_rows, chosen_rows = _calls(
        need_rows, match_rows, facts, user_ids, owner_org, today=seeded_at.date()
    )
    assignment_rows, score_rows, consensus_rows = _evaluations(
        call_rows[0], application_rows, user_ids
    )
    awarded = _award(
        call_rows[0], application_rows, chosen_rows, consensus_rows, match_rows,
        {row["id"]: row["transfer_capacity"] for row in practice_rows}, user_ids,
        today=seeded_at.date(),
    )  # fmt: skip
    seeded = {
        "id": 1,
        "at": seeded_at,
        "actor_id": user_ids["demo-admin"],
        "actor_name": "demo-admin",
        "action": "demo.seed",
        "entity": None,
        "entity_id": None,
        "detail": {"practices": practices, "seed": seed},
    }
    _write(
        session,
        [
            (Organisation, [_organisation_row(rng, org) for org in orgs]),
            (User, account_rows),
            (Membership, _memberships(account_rows)),
            (Practice, practice_rows),
            (PracticeCountry, country_rows),
            (PracticeTag, tag_rows),
            (TwinningNeed, need_rows),
            (NeedTag, need_tag_rows),
            (TwinningMatch, match_rows),
            (Digest, digest_rows),
            (DigestTopic, topic_rows),
            (DigestPractice, link_rows),
            (Call, call_rows),
            (CallApplication, application_rows),
            (CallApplicationPractice, chosen_rows),
            (CallAssignment, assignment_rows),
            (CallScore, score_rows),
            (CallConsensus, consensus_rows),
            (CallAward, awarded.decisions),
            (Milestone, awarded.milestones),
            (AssistanceSession, awarded.assistance),
            (TwinningReport, awarded.reports),
            (AuditEvent, [seeded]),
        ],
    )
    return DemoSummary(
        organisations=len(orgs),
        practices=len(practice_rows),
        countries=len({row["country"] for row in country_rows}),
        accounts=len(account_rows),
        needs=len(need_rows),
        matches=len(match_rows),
        digests=len(digest_rows),
        seconds=0.0,
        logins=logins,
    )


def _write(session: Session, tables: list[tuple[type[SQLModel], list[dict]]]) -> None:
    """Insert the rows of each table (parents first), then mark the database as demo data."""
    for model, table_rows in tables:
        # Core inserts on the table (not the ORM class) skip per-row ORM bookkeeping.
        for start in range(0, len(table_rows), CHUNK_ROWS):
            session.execute(insert(model.__table__), table_rows[start : start + CHUNK_ROWS])
    if session.get_bind().dialect.name == "postgresql":
        # Rows carry explicit ids, so move each sequence past them for later ORM inserts.
        for model, _ in tables:
            table = model.__table__
            if "id" in table.c:
                highest = func.max(table.c.id)
                sequence = func.pg_get_serial_sequence(table.name, "id")
                session.execute(
                    select(func.setval(sequence, func.coalesce(highest, 1), highest.is_not(None)))
                )
    session.execute(update(AppState).values(demo=True))
    db.bump_data_version(session)


def _find_org(orgs: list[_Org], country: str) -> _Org:
    return next(o for o in orgs if o.country == country and o.type == "healthcare-provider")


def _slug(value: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _the(country_name: str) -> str:
    plural = ("Netherlands", "United Kingdom")
    return f"the {country_name}" if country_name in plural else country_name


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def _organisations(rng: random.Random, *, count: int) -> list[_Org]:
    """At least two organisations per country, the rest spread by population."""
    countries = geo.countries()
    per_country = dict.fromkeys(countries, 2)
    share = _Picker(list(countries), [math.sqrt(c.population) for c in countries.values()])
    for _ in range(count - 2 * len(countries)):
        per_country[share(rng)] += 1
    org_type = _Picker(list(_ORGANISATION_TYPE_WEIGHTS), list(_ORGANISATION_TYPE_WEIGHTS.values()))
    orgs: list[_Org] = []
    for code, country in countries.items():
        profile = _PROFILES[code]
        taken: set[str] = set()
        fixed = [
            ("health-authority", f"Ministry of Health of {_the(country.name)}", profile.cities[1])
        ]
        if code in _DEMO_OWNER_COUNTRIES:
            city = profile.cities[0]
            fixed.append(("healthcare-provider", f"{city} University Hospital", city))
        for index in range(per_country[code]):
            if index < len(fixed):
                kind, name, city = fixed[index]
            else:
                city = rng.choice(profile.cities)
                kind, name = _organisation_name(rng, org_type(rng), code, city, taken)
            taken.add(name)
            orgs.append(_Org(len(orgs) + 1, name, kind, code, city, _slug(f"{name} {code}")[:80]))
    return orgs


def _organisation_name(
    rng: random.Random, kind: str, country: str, city: str, taken: set[str]
) -> tuple[str, str]:
    """A type and free name for a new organisation: a provider or company once `kind` runs out."""
    profile = _PROFILES[country]
    name = ""
    for tried in (kind, "healthcare-provider", "company"):
        for attempt in range(10):
            if tried == "company":
                first, second, third = (rng.choice(part) for part in _COMPANY_PARTS)
                name = f"{first}{second.lower()} {third}"
            else:
                in_district = tried in _LOCAL_ORGANISATION_TYPES and attempt >= 5
                place = f"{city} {rng.choice(_DISTRICTS)}" if in_district else city
                name = rng.choice(_ORGANISATION_NAMES[tried]).format(
                    city=place,
                    adj=profile.adjective,
                    country=_the(geo.countries()[country].name),
                )
            if name not in taken:
                return tried, name
    number = 2
    while f"{name} No. {number}" in taken:
        number += 1
    return "company", f"{name} No. {number}"


def _organisation_row(rng: random.Random, org: _Org) -> dict:
    return {
        "id": org.id,
        "name": org.name,
        "organisation_type": org.type,
        "country": org.country,
        "city": org.city,
        "website": f"https://example.org/{org.slug}",
        "created_at": _between(rng, START - timedelta(days=365), START),
    }


def _accounts(
    owner_org: _Org, owner2_org: _Org, logins: Sequence[demo_logins.DemoLogin]
) -> list[dict]:
    """The demo accounts; login bookkeeping columns keep their table defaults."""
    organisation = {"demo-owner": owner_org.id, "demo-owner2": owner2_org.id}
    return [
        {
            "id": number,
            "username": account.username,
            "display_name": account.display_name,
            "email": account.email,
            "role": account.role,
            "organisation_id": organisation.get(account.username),
            "password_hash": login.password_hash,
            "created_at": START - timedelta(days=30),
        }
        for number, (account, login) in enumerate(zip(DEMO_ACCOUNTS, logins, strict=True), start=1)
    ]


def _memberships(account_rows: list[dict]) -> list[dict]:
    """An active membership for each demo account that acts for an organisation."""
    return [
        {
            "organisation_id": row["organisation_id"],
            "account_id": row["id"],
            "status": "active",
            "created_at": row["created_at"],
            "decided_at": row["created_at"],
        }
        for row in account_rows
        if row["organisation_id"] is not None
    ]


def _neighbour_pickers() -> dict[str, _Picker]:
    """For each country, a draw of another country that favours its neighbours."""
    countries = geo.countries()
    pickers = {}
    for code, here in countries.items():
        others = [c for c in countries.values() if c.iso_a2 != code]
        weights = []
        for there in others:
            dx = (there.lon - here.lon) * math.cos(math.radians((here.lat + there.lat) / 2))
            km = 111 * math.hypot(dx, there.lat - here.lat)
            weights.append(1 / (km + 200) ** 1.5)
        pickers[code] = _Picker([c.iso_a2 for c in others], weights)
    return pickers


def _practices(
    rng: random.Random,
    count: int,
    orgs: list[_Org],
    owner_org: _Org,
    owner2_org: _Org,
    user_ids: dict[str, int],
) -> tuple[list[dict], list[dict], list[dict], list[_PracticeFacts]]:
    """Practices with their deployments and tags; a fixed set for the demo owners first."""
    practice_type = _Picker(list(_PRACTICE_TYPE_WEIGHTS), list(_PRACTICE_TYPE_WEIGHTS.values()))
    maturity_level = _Picker(list(_MATURITY_WEIGHTS), list(_MATURITY_WEIGHTS.values()))
    # Larger organisations own more practices: a size factor per organisation.
    sizes = [rng.lognormvariate(0, 0.8) for _ in orgs]
    owners = {
        kind: _Picker(
            orgs, [s * affinity.get(o.type, 0.3) for o, s in zip(orgs, sizes, strict=True)]
        )
        for kind, affinity in _OWNER_AFFINITY.items()
    }
    # National titles go to health authorities and policy makers only.
    titles_by_type = {
        kind: [(topic, title) for topic in _TOPICS for title in topic.titles.get(kind, ())]
        for kind in _PRACTICE_TYPE_WEIGHTS
    }
    local_titles_by_type = {
        kind: [pair for pair in pairs if not pair[1].startswith("National")]
        for kind, pairs in titles_by_type.items()
    }
    neighbours = _neighbour_pickers()
    # (organisation, created_by, status, maturity, transferable) of the demo owners' practices.
    fixed = [
        (owner_org, "demo-owner", "published", 4, True),
        (owner_org, "demo-owner", "published", 3, True),
        (owner_org, "demo-owner", "published", 5, True),
        (owner_org, "demo-owner", "published", 3, False),
        (owner_org, "demo-owner", "draft", 2, None),
        (owner_org, "demo-owner", "submitted", 3, True),
        (owner2_org, "demo-owner2", "published", 3, True),
        (owner2_org, "demo-owner2", "published", 2, None),
    ]
    levels = list(_MATURITY_WEIGHTS)
    kinds = list(_PRACTICE_TYPE_WEIGHTS)
    used_titles: set[str] = set()
    practice_rows, country_rows, tag_rows, facts = [], [], [], []
    for index in range(count):
        practice_id = index + 1
        created_by = None
        if index < len(fixed):
            org, username, status, maturity, transferable = fixed[index]
            created_by = user_ids[username]
            kind = rng.choice(["service", "app", "model"])
        else:
            status = _practice_status(rng)
            transferable = rng.choices((True, False, None), (60, 25, 15))[0]
            # Every type and every maturity level is present, however few practices there are.
            cycle = index - len(fixed)
            if cycle < len(kinds) * len(levels):
                kind, maturity = kinds[cycle % len(kinds)], levels[cycle % len(levels)]
            else:
                kind, maturity = practice_type(rng), maturity_level(rng)
            org = owners[kind](rng)
        national_owner = org.type in ("health-authority", "policy-maker")
        topic, base_title = rng.choice(
            titles_by_type[kind] if national_owner else local_titles_by_type[kind]
        )
        profile = _PROFILES[org.country]
        country_name = geo.countries()[org.country].name
        created = START + (END - START) * rng.random() ** 0.8
        created = created.replace(microsecond=0)
        start_year = rng.randint(max(2012, created.year - 2 * maturity), created.year)
        countries = _deployments(rng, org.country, maturity, neighbours[org.country])
        city = rng.choice(profile.cities)
        national = kind in ("policy", "strategy") or base_title.startswith("National")
        title = _unique_title(
            base_title, national, city, country_name, org.name, start_year, used_titles
        )
        summary = " ".join(
            (
                rng.choice(_TYPE_SENTENCES[kind]).format(audience=topic.audience, goal=topic.goal),
                rng.choice(
                    _DOCUMENT_MATURITY_SENTENCES[maturity]
                    if kind in _DOCUMENT_TYPES
                    else _MATURITY_SENTENCES[maturity]
                ).format(
                    year=start_year,
                    city=city,
                    country=_the(country_name),
                    n=rng.choice((40, 60, 120, 250, 400, 1200, 5000)),
                    regions=rng.randint(2, 8),
                    countries=len(countries),
                ),
            )
        )
        published_at = None
        updated = created + timedelta(days=rng.choice((0, 0, 3, 20, 90, 240)))
        if status in ("published", "archived"):
            published_at = created + timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 23))
            published_at = min(published_at, LATEST)
            updated = max(updated, published_at)
        if status == "archived":
            updated = published_at + timedelta(days=rng.randint(200, 700))
        updated = min(updated, LATEST)
        domains = _some(rng, topic.domains, 1, 3)
        dhi = _some(rng, topic.dhi, 1, 3)
        standards = _some(rng, topic.standards, 0, 1 if kind in ("policy", "strategy") else 3)
        languages = [profile.languages[0]]
        if profile.languages[0] != "en" and rng.random() < 0.6:
            languages.append("en")
        elif len(profile.languages) > 1 and rng.random() < 0.5:
            languages.append(profile.languages[1])
        practice_rows.append(
            {
                "id": practice_id,
                "title": title,
                "summary": summary,
                "description": (
                    f"Started by {org.name} in {start_year}. {_HOW_IT_WORKS[kind]} "
                    + rng.choice(_DESCRIPTION_EXTRAS)
                    if rng.random() < 0.55
                    else None
                ),
                "practice_type": kind,
                "maturity": maturity,
                "start_year": start_year,
                "evidence": _evidence(rng) if maturity >= 3 and rng.random() < 0.5 else None,
                "licence": rng.choice(_LICENCES[kind]) if rng.random() < 0.5 else None,
                "transferable": transferable,
                "support_offered": (
                    rng.choice(_SUPPORT) if transferable and rng.random() < 0.75 else None
                ),
                "transfer_capacity": rng.randint(1, 3),
                "website": (
                    f"https://example.org/{org.slug}/{_slug(title)[:60].rstrip('-')}"
                    if rng.random() < 0.85
                    else None
                ),
                "contact_email": f"{org.slug}@example.org" if rng.random() < 0.8 else None,
                "owner_organisation_id": org.id,
                "created_by_id": created_by,
                "status": status,
                "rejection_reason": (
                    rng.choice(_REJECTION_REASONS) if status == "rejected" else None
                ),
                "featured": False,
                "featured_analysis": None,
                "created_at": created,
                "updated_at": updated,
                "published_at": published_at,
                **_freshness(practice_id, status, published_at, updated),
            }
        )
        for country in countries:
            home = country == org.country
            country_rows.append(
                {
                    "practice_id": practice_id,
                    "country": country,
                    "region": city if home and maturity <= 3 and rng.random() < 0.5 else None,
                    "scale": _scale(rng, maturity, home) if rng.random() < 0.5 else None,
                }
            )
        for tag_kind, codes in (
            ("domain", domains),
            ("dhi", dhi),
            ("standard", standards),
            ("language", languages),
        ):
            tag_rows.extend(
                {"practice_id": practice_id, "kind": tag_kind, "code": code} for code in codes
            )
        facts.append(
            _PracticeFacts(
                practice_id,
                org,
                kind,
                maturity,
                topic.key,
                published_at if status == "published" else None,
                transferable,
                domains,
                dhi,
                standards,
                languages,
            )
        )
    _feature(rng, practice_rows, facts)
    return practice_rows, country_rows, tag_rows, facts


#: Demo practices were last confirmed at most this many days before LATEST (about a quarter
#: of the listed ones over 12 months ago, so "may be outdated" has examples; none archived
#: by the pass before a reminder).
CONFIRMED_WITHIN_DAYS = 500


def _freshness(
    practice_id: int, status: str, published_at: datetime | None, updated: datetime
) -> dict[str, datetime | None]:
    """When a demo practice was last confirmed, and archived. Spread by its id rather than by
    the generator, so that the rest of the demo data stays what it was."""
    if status == "archived":
        return {"last_confirmed_at": published_at, "archived_at": updated}
    if status != "published":
        return {"last_confirmed_at": None, "archived_at": None}
    confirmed = LATEST - timedelta(days=practice_id * 7919 % CONFIRMED_WITHIN_DAYS, hours=9)
    return {"last_confirmed_at": max(updated, confirmed), "archived_at": None}


def _practice_status(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.88:
        return "published"
    if draw < 0.93:
        return "submitted"
    if draw < 0.96:
        return "draft"
    if draw < 0.985:
        return "rejected"
    return "archived"


def _some(rng: random.Random, codes: Sequence[str], least: int, most: int) -> list[str]:
    """Between `least` and `most` codes, the first (the topic's main code) most often."""
    most = min(most, len(codes))
    count = rng.randint(min(least, most), most)
    if count == 0:
        return []
    if rng.random() < 0.7:
        return [codes[0], *rng.sample(codes[1:], count - 1)]
    return rng.sample(codes, count)


def _unique_title(
    title: str, national: bool, city: str, country: str, org_name: str, year: int, used: set[str]
) -> str:
    place = f"{title} ({_the(country)})" if national else f"{title} in {city}"
    candidates = (title, place, f"{title} – {org_name}", f"{title} – {org_name}, {year}")
    for candidate in candidates:
        if candidate not in used:
            used.add(candidate)
            return candidate
    return candidates[-1]


def _deployments(rng: random.Random, home: str, maturity: int, neighbour: _Picker) -> list[str]:
    """The owner's country in most cases, more countries for cross-border practices."""
    countries = [home]
    if maturity == 5:
        wanted = rng.randint(2, 6)
        while len(countries) < wanted:
            other = neighbour(rng)
            if other not in countries:
                countries.append(other)
        return countries
    if maturity == 4 and rng.random() < 0.2:
        return [home, neighbour(rng)]
    draw = rng.random()
    if draw < 0.02:
        return [neighbour(rng)]
    if draw < 0.05:
        return [home, neighbour(rng)]
    return countries


def _scale(rng: random.Random, maturity: int, home: bool) -> str:
    if not home:
        return rng.choice(("pilot", "regional"))
    return {
        1: "concept",
        2: "pilot",
        3: rng.choice(("local", "regional")),
        4: rng.choice(("regional", "national")),
        5: "national",
    }[maturity]


def _evidence(rng: random.Random) -> str:
    return rng.choice(_EVIDENCE).format(
        n=rng.choice((80, 150, 320, 600, 1500)),
        p=rng.randint(12, 38),
        s=rng.choice(("7.8", "8.2", "8.6", "9.1")),
        m=rng.choice((120, 350, 800, 1400)),
        k=rng.randint(3, 12),
    )


def _feature(rng: random.Random, rows: list[dict], facts: list[_PracticeFacts]) -> None:
    """Feature a few mature, published practices, with a short analysis each."""
    mature = [fact for fact in facts if fact.published_at and fact.maturity >= 4]
    for fact in rng.sample(mature, min(len(mature), max(3, min(12, len(facts) // 50)))):
        row = rows[fact.id - 1]
        row["featured"] = True
        row["featured_analysis"] = (
            f"A mature {taxonomy.PRACTICE_TYPES.label(fact.type).lower()} in routine use since "
            f"{row['start_year']}. It stands out for {rng.choice(_FEATURE_STRENGTHS)}"
            + (
                ", and its originators offer support to adopters: a strong twinning candidate."
                if fact.transferable
                else "."
            )
        )


def _twinnings(
    rng: random.Random,
    orgs: list[_Org],
    facts: list[_PracticeFacts],
    owner2_org: _Org,
    user_ids: dict[str, int],
    *,
    count: int,
) -> tuple[list[dict], list[dict], list[dict]]:
    """Needs of adopter organisations and their matches with transferable practices."""
    adopter_weight = {"health-authority": 5, "healthcare-provider": 8, "policy-maker": 1}
    adopter = _Picker(orgs, [adopter_weight.get(org.type, 0.5) for org in orgs])
    offered = [fact for fact in facts if fact.published_at and fact.transferable]
    offers: dict[str, list[_PracticeFacts]] = {topic.key: [] for topic in _TOPICS}
    for fact in offered:
        offers[fact.topic].append(fact)
    topics = {topic.key: topic for topic in _TOPICS}
    stages = _Picker(
        ["suggested", "shortlisted", "agreed", "in-transfer", "completed", "declined"],
        [45, 20, 12, 10, 8, 5],
    )
    # The second demo owner wants what the first demo owner offers: a twinning to show.
    showcase = next(fact for fact in offered if fact.org.id != owner2_org.id)
    need_rows, tag_rows, match_rows = [], [], []
    for index in range(count):
        need_id = index + 1
        if index == 0:
            org, topic, created_by = owner2_org, topics[showcase.topic], user_ids["demo-owner2"]
        elif index < 3:
            # The first needs reach an agreement, so they ask for something that is offered.
            org, topic, created_by = adopter(rng), topics[rng.choice(offered).topic], None
        else:
            org, topic, created_by = adopter(rng), rng.choice(_TOPICS), None
        twinning_type = rng.choice(list(taxonomy.TWINNING_TYPES))
        created = _between(rng, datetime(2023, 1, 1, tzinfo=UTC), END)
        profile = _PROFILES[org.country]
        wanted = {
            "type": _some(rng, list(topic.titles), 1, 2),
            "domain": _some(rng, topic.domains, 1, 2),
            "dhi": _some(rng, topic.dhi, 1, 2),
            "language": [profile.languages[0]] + (["en"] if rng.random() < 0.7 else []),
            "standard": _some(rng, topic.standards, 0, 2),
        }
        wanted["language"] = list(dict.fromkeys(wanted["language"]))
        need_rows.append(
            {
                "id": need_id,
                "problem_statement": " ".join(
                    (topic.problem, rng.choice(_NEED_CONTEXTS), _NEED_ASKS[twinning_type])
                ),
                "country": org.country,
                "twinning_type": twinning_type,
                "timeline": rng.choice(_TIMELINES),
                "organisation_id": org.id,
                "created_by_id": created_by,
                "status": "open",
                "created_at": created,
            }
        )
        for kind, codes in wanted.items():
            tag_rows.extend({"need_id": need_id, "kind": kind, "code": code} for code in codes)
        if index == 0:
            candidates = [showcase]
        elif index < 3 or rng.random() < 0.75:
            pool = offers[topic.key]
            sample = rng.sample(pool, min(len(pool), 8))
            candidates = [f for f in sample if f.org.id != org.id][: rng.randint(1, 4)]
        else:
            candidates = []
        scored = sorted(
            ((_score(wanted, org.country, fact), fact) for fact in candidates),
            key=lambda pair: -pair[0][0],
        )
        # One twinning per need goes furthest.
        stage = ("agreed", "in-transfer", "completed")[index] if index < 3 else stages(rng)
        for rank, ((score, breakdown), fact) in enumerate(scored):
            status = stage if rank == 0 else rng.choice(("suggested", "suggested", "declined"))
            matched = max(created, fact.published_at) + timedelta(days=rng.randint(1, 30))
            matched = min(matched, LATEST)
            match_rows.append(
                {
                    "id": len(match_rows) + 1,
                    "need_id": need_id,
                    "practice_id": fact.id,
                    "score": score,
                    "breakdown": breakdown,
                    "status": status,
                    "notes": _MATCH_NOTES.get(status),
                    "created_at": matched,
                    "updated_at": min(
                        matched
                        + timedelta(days=rng.randint(0, 120) if status != "suggested" else 0),
                        LATEST,
                    ),
                }
            )
    return need_rows, tag_rows, match_rows


#: The demo's calls: one closed before the generated data end, one open around the seeding day.
_CALLS = (
    {
        "title": "Twinning call 2026: telemonitoring and chronic care",
        "description": (
            "Places for health authorities and providers that take up a proven telemonitoring "
            "or chronic-care practice with the help of its originator: study visits, adaptation "
            "and a pilot, with a grant for each twinning."
        ),
        "opens_at": datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
        "closes_at": datetime(2026, 9, 30, 17, 0, tzinfo=UTC),
        "places": 6,
        "grant_per_place": 20_000,
    },
    {
        "title": "Twinning call 2027: digital front doors and patient portals",
        "description": (
            "Places for adopters of patient portals, e-booking and digital front doors. Apply "
            "with one of your needs and the practices you would like to take up; their "
            "originators confirm taking part before you submit."
        ),
        "places": 8,
        "grant_per_place": 15_000,
    },
)
_CALL_CRITERIA = [
    {"name": "Relevance of the practice to the need", "weight": 3.0,
     "guidance": "5: the practice answers the need as stated; 1: only loosely related."},
    {"name": "Readiness of the adopter", "weight": 2.0,
     "guidance": "Team, budget and leadership in place for a pilot within a year."},
    {"name": "Quality of the work plan", "weight": 2.0,
     "guidance": "Clear milestones, a study visit and a realistic adaptation."},
]  # fmt: skip
#: How many applications each call gets: the closed call's all submitted; the open call's first
#: is the second demo owner's draft waiting for the first demo owner to confirm, the second is
#: submitted.
_CALL_APPLICATIONS = (3, 2)
#: The statuses of a pair's match that an award reuses.
_AWARDABLE = ("suggested", "shortlisted")


def _calls(
    need_rows: list[dict],
    match_rows: list[dict],
    facts: list[_PracticeFacts],
    user_ids: dict[str, int],
    owner_org: _Org,
    *,
    today: date,
) -> tuple[list[dict], list[dict], list[dict]]:
    """Two calls with applications of needs and their best matched practices; the demo owner
    is asked to confirm one of its practices in the open call."""
    by_practice = {fact.id: fact for fact in facts}
    best: dict[int, int] = {}
    for match in sorted(match_rows, key=lambda m: (-m["score"], m["id"])):
        best.setdefault(match["need_id"], match["practice_id"])
    best[1] = next(f.id for f in facts if f.org.id == owner_org.id and f.published_at)
    needs = [need for need in need_rows if need["id"] in best]
    # The open call's first application is the demo owner's need (need 1), so it comes last.
    open_needs = [needs[0], *needs[4 : 4 + 1]]
    # The closed call is awarded: its applicants' best pairs are still suggested or
    # shortlisted matches, as an award finds them, when there are enough of them.
    status = {(m["need_id"], m["practice_id"]): m["status"] for m in match_rows}
    others = [need for need in needs if need not in open_needs]
    others.sort(key=lambda n: status.get((n["id"], best[n["id"]])) not in _AWARDABLE)
    closed: dict[int, dict] = {}  # one application per organisation and call
    for need in others:
        closed.setdefault(need["organisation_id"], need)
    taken = [list(closed.values())[: _CALL_APPLICATIONS[0]], open_needs]
    start = today - timedelta(days=14)
    opens = datetime(start.year, start.month, start.day, 9, tzinfo=UTC)
    dates = [{}, {"opens_at": opens, "closes_at": opens + timedelta(days=42, hours=8)}]
    call_rows, application_rows, chosen_rows = [], [], []
    for number, (spec, applied, when) in enumerate(zip(_CALLS, taken, dates, strict=True), 1):
        chosen = [by_practice[best[need["id"]]] for need in applied]
        row = {**spec, **when}
        call_rows.append(
            {
                **row,
                "id": number,
                "countries": sorted({need["country"] for need in applied} | {"EE", "PT", "ES"}),
                "practice_types": sorted({fact.type for fact in chosen} | {"service", "app"}),
                "min_maturity": min(3, *(fact.maturity for fact in chosen)),
                "currency": "EUR",
                "criteria": _CALL_CRITERIA,
                "status": "published",
                "created_by_id": user_ids["demo-coordinator"],
                "created_at": row["opens_at"] - timedelta(days=10),
                "updated_at": row["opens_at"] - timedelta(days=7),
                "published_at": row["opens_at"] - timedelta(days=7),
                "awarded_at": None,
            }
        )
        for rank, (need, fact) in enumerate(zip(applied, chosen, strict=True)):
            draft = number == 2 and rank == 0
            moment = row["opens_at"] + timedelta(days=3 + 2 * rank)
            application_rows.append(
                {
                    "id": len(application_rows) + 1,
                    "call_id": number,
                    "organisation_id": need["organisation_id"],
                    "need_id": need["id"],
                    "motivation": "We would start with one ward and extend it region-wide.",
                    "status": "draft" if draft else "submitted",
                    "created_by_id": need["created_by_id"],
                    "created_at": moment,
                    "updated_at": moment + timedelta(days=1),
                    "submitted_at": None if draft else moment + timedelta(days=1),
                }
            )
            chosen_rows.append(
                {
                    "application_id": len(application_rows),
                    "practice_id": fact.id,
                    "organisation_id": fact.org.id,
                    "status": "pending" if draft else "confirmed",
                    "decided_by_id": None,
                    "decided_at": None if draft else moment + timedelta(hours=20),
                }
            )
    return call_rows, application_rows, chosen_rows


#: The demo evaluators, who evaluated every application to the closed demo call.
_EVALUATORS = ("demo-evaluator", "demo-evaluator2")


def _evaluations(
    call: dict, application_rows: list[dict], user_ids: dict[str, int]
) -> tuple[list[dict], list[dict], list[dict]]:
    """Both demo evaluators' submitted scores of each application to the closed call (some far
    apart) and the coordinator's consensus, the evaluators' mean rounded up."""
    # Imported here: `calls` imports the notifications, which the demo needs no more of.
    from dhu_core.calls.evaluation import weighted_total

    moment = call["closes_at"] + timedelta(days=7)
    assignments, scores, agreed = [], [], []
    for application in (a for a in application_rows if a["call_id"] == call["id"]):
        marks: dict[str, list[int]] = {}
        for offset, name in enumerate(_EVALUATORS):
            assignments.append(
                {
                    "application_id": application["id"],
                    "evaluator_id": user_ids[name],
                    "status": "submitted",
                    "assigned_by_id": user_ids["demo-coordinator"],
                    "assigned_at": call["closes_at"] + timedelta(days=1),
                    "submitted_at": moment,
                }
            )
            for number, criterion in enumerate(call["criteria"]):
                score = 2 + (application["id"] + number + 3 * offset) % 4
                marks.setdefault(criterion["name"], []).append(score)
                scores.append(
                    {
                        "application_id": application["id"],
                        "evaluator_id": user_ids[name],
                        "criterion": criterion["name"],
                        "score": score,
                        "comment": _SCORE_COMMENTS[score],
                        "updated_at": moment,
                    }
                )
        consensus = {name: math.ceil(sum(s) / len(s)) for name, s in marks.items()}
        agreed.append(
            {
                "application_id": application["id"],
                "scores": {
                    name: {"score": score, "comment": "Agreed after discussing both scores."}
                    for name, score in consensus.items()
                },
                "total": weighted_total(call["criteria"], consensus),
                "comment": "A clear application; the panel agreed on the scores.",
                "decided_by_id": user_ids["demo-coordinator"],
                "decided_at": moment + timedelta(days=3),
                "version": 1,
            }
        )
    return assignments, scores, agreed


#: The demo award comes this long after the closed call closes (the consensus takes ten days).
_AWARD_AFTER = timedelta(days=14, hours=1)


@dataclass(slots=True)
class _Award:
    """The rows of the closed call's award and of its twinnings' follow-up."""

    decisions: list[dict]
    milestones: list[dict]
    assistance: list[dict]
    reports: list[dict]


def _award(
    call: dict,
    application_rows: list[dict],
    chosen_rows: list[dict],
    consensus_rows: list[dict],
    match_rows: list[dict],
    capacity: dict[int, int],
    user_ids: dict[str, int],
    *,
    today: date,
) -> _Award:
    """The closed call awarded as `award.award_proposal` would (places and free capacity in
    rank order, the rest in reserve): each awarded pair's match agreed with its work plan from
    the award day; the twinnings did the milestones due by `today` (kick-off done: in
    transfer) but the last of several, which is late; one technical-assistance session and one
    progress report."""
    # Imported here: `calls` imports the notifications, which the demo needs no more of.
    from dhu_core.calls import award
    from dhu_core.matching import ACTIVE_STATUSES

    coordinator = user_ids["demo-coordinator"]
    moment = call["closes_at"] + _AWARD_AFTER
    call["awarded_at"] = call["updated_at"] = moment
    totals = {row["application_id"]: row["total"] for row in consensus_rows}
    practice_of = {row["application_id"]: row["practice_id"] for row in chosen_rows}
    matches = {(m["need_id"], m["practice_id"]): m for m in match_rows}
    free = dict(capacity)
    for match in match_rows:
        if match["status"] in ACTIVE_STATUSES:
            free[match["practice_id"]] -= 1
    applied = [a for a in application_rows if a["call_id"] == call["id"]]
    ranked = sorted(applied, key=lambda a: -totals[a["id"]])  # stable: by submission
    result = _Award([], [], [], [])
    awarded: list[dict] = []
    for rank, application in enumerate(ranked, 1):
        practice_id = practice_of[application["id"]]
        decision = {
            "application_id": application["id"], "call_id": call["id"], "rank": rank,
            "outcome": award.RESERVE, "reserve_position": None, "practice_id": None,
            "match_id": None, "grant": 0, "decided_by_id": coordinator, "decided_at": moment,
        }  # fmt: skip
        if len(awarded) < call["places"] and free.get(practice_id, 0) > 0:
            free[practice_id] -= 1
            match = matches[(application["need_id"], practice_id)]
            awarded.append(match)
            decision.update(
                outcome=award.AWARDED, practice_id=practice_id, match_id=match["id"],
                grant=call["grant_per_place"],
            )  # fmt: skip
        else:
            decision["reserve_position"] = rank - len(awarded)
        result.decisions.append(decision)
    note = f"Awarded a place in the call “{call['title']}”."
    for number, match in enumerate(awarded, 1):
        # The last of several twinnings is behind its plan.
        on_time = number < len(awarded) or number == 1
        _follow(match, note, moment, on_time, coordinator, result, today)
    return result


def _follow(
    match: dict,
    note: str,
    moment: datetime,
    on_time: bool,
    coordinator: int,
    result: _Award,
    today: date,
) -> None:
    """Agree an awarded match with its work plan; on time: its milestones due by `today` done
    (two days early), with an assistance session and a progress report on the first one."""
    from dhu_core.calls import follow_up

    start = moment.date()
    match.update(
        status="agreed", notes=note, created_at=min(match["created_at"], moment),
        updated_at=moment,
    )  # fmt: skip
    for kind, months in follow_up.DEFAULT_MONTHS.items():
        due = follow_up.add_months(start, months)
        done = due - timedelta(days=2) if on_time and due <= today else None
        result.milestones.append(
            {
                "id": len(result.milestones) + 1, "match_id": match["id"], "kind": kind,
                "due_on": due, "done_on": done, "note": "Done as planned." if done else "",
                "version": 2 if done else 1, "updated_at": moment,
            }
        )  # fmt: skip
        if kind == "kick-off" and done:
            match["status"] = "in-transfer"
            if not result.assistance:
                _assist(match["id"], done, coordinator, result)


def _assist(match_id: int, kick_off: date, coordinator: int, result: _Award) -> None:
    """The first twinning's assistance session at its kick-off and its first progress report."""
    from dhu_core.calls import follow_up

    held = datetime(kick_off.year, kick_off.month, kick_off.day, 15, tzinfo=UTC)
    result.assistance.append(
        {
            "id": 1, "match_id": match_id, "held_on": kick_off, "hours": 2.5,
            "topic": "Kick-off: the work plan, the study visit and the grant's rules",
            "notes": "Both teams agreed the pilot ward and who reports when.",
            "logged_by_id": coordinator, "logged_at": held,
        }
    )  # fmt: skip
    content = (DEMO_FILES / "progress-report.txt").read_bytes()
    result.reports.append(
        {
            "id": 1, "match_id": match_id, "kind": "progress",
            "filename": "progress-report-1.txt", "content_type": follow_up.report_type(content),
            "size": len(content), "content": content, "uploaded_by_id": coordinator,
            "uploaded_at": held + timedelta(days=1),
        }
    )  # fmt: skip


_SCORE_COMMENTS = {
    2: "Weak: the application says little about this.",
    3: "Adequate, with gaps the adopter should close.",
    4: "Good: convincing, with minor gaps.",
    5: "Excellent: clear and well evidenced.",
}


def _score(
    wanted: dict[str, list[str]], country: str, fact: _PracticeFacts
) -> tuple[float, dict[str, float]]:
    """The twinning score of a practice for a need, as the matcher computes it.

    The texts are not compared here (no index yet), so "similar problem" counts 0.
    """
    # Imported here: the matcher pulls in scikit-learn, which `dhu` commands other than
    # `demo` (a cron line's `run-jobs`) should not wait for at every start.
    from dhu_core import matching

    need = matching.NeedProfile(
        id=None,
        organisation_id=0,
        country=country,
        problem_statement="",
        practice_types=tuple(wanted["type"]),
        health_domains=tuple(wanted["domain"]),
        dhi_codes=tuple(wanted["dhi"]),
        languages=tuple(wanted["language"]),
        standards=tuple(wanted["standard"]),
    )
    practice = matching.PracticeProfile(
        id=fact.id,
        organisation_id=fact.org.id,
        country=fact.org.country,
        title="",
        practice_type=fact.type,
        maturity=fact.maturity,
        health_domains=tuple(fact.domains),
        dhi_codes=tuple(fact.dhi),
        standards=tuple(fact.standards),
        languages=tuple(fact.languages),
    )
    breakdown = matching.criteria(need, practice, similarity=0.0)
    score = matching.weighted_score(breakdown, matching.DEFAULT_WEIGHTS)
    return round(score, 3), breakdown


def _digests(
    rng: random.Random, facts: list[_PracticeFacts], author_id: int, *, count: int
) -> tuple[list[dict], list[dict], list[dict]]:
    """Published digests by the coordinator, each linked to a few matching practices."""
    digest_rows, topic_rows, link_rows = [], [], []
    for number, digest in enumerate(_DIGESTS[:count], start=1):
        published = _between(rng, datetime(2025, 1, 1, tzinfo=UTC), END)
        digest_rows.append(
            {
                "id": number,
                "title": digest.title,
                "body": digest.body,
                "author_id": author_id,
                "status": "published",
                "created_at": published - timedelta(days=rng.randint(3, 20)),
                "published_at": published,
            }
        )
        topic_rows.extend({"digest_id": number, "topic": topic} for topic in digest.topics)
        related = [f for f in facts if f.published_at and f.topic in digest.practice_topics]
        mature = [f for f in related if f.maturity >= 3] or related
        link_rows.extend(
            {"digest_id": number, "practice_id": fact.id}
            for fact in rng.sample(mature, min(len(mature), rng.randint(3, 5)))
        )
    return digest_rows, topic_rows, link_rows
