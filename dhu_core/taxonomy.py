"""Code lists of the platform: one `CodeList` each, accepting a code or a label in any case."""

import csv
from dataclasses import dataclass, field
from functools import cached_property

import pycountry

from dhu_core.config import DATA_DIR


@dataclass(frozen=True, eq=False)
class CodeList:
    """An ordered list of codes with labels (and optional plain-language definitions)."""

    name: str
    labels: dict[str, str]
    definitions: dict[str, str] = field(default_factory=dict)

    def __contains__(self, code: object) -> bool:
        return code in self.labels

    def __iter__(self):
        return iter(self.labels)

    def __len__(self) -> int:
        return len(self.labels)

    def label(self, code: str) -> str:
        """The label of `code`, or the code itself when unknown."""
        return self.labels.get(code, code)

    def normalise(self, value: object) -> str:
        """The code for `value` given as a code or a label, in any letter case."""
        text = str(value).strip()
        code = self._lookup.get(text.casefold())
        if code is None:
            examples = ", ".join(str(code) for code in list(self.labels)[:6])
            more = ", …" if len(self.labels) > 6 else ""
            raise ValueError(f"unknown {self.name} '{text}' (use one of: {examples}{more})")
        return code

    @cached_property
    def _lookup(self) -> dict:
        table = {str(label).casefold(): code for code, label in self.labels.items()}
        table.update({str(code).casefold(): code for code in self.labels})
        return table


PRACTICE_TYPES = CodeList(
    "practice type",
    {
        "policy": "Policy",
        "strategy": "Strategy",
        "app": "App",
        "service": "Complex solution or service",
        "framework": "Assessment framework",
        "model": "Care or business model",
    },
)

MATURITY_LEVELS = CodeList(
    "maturity level",
    {1: "Concept", 2: "Pilot", 3: "Deployed", 4: "Scaled", 5: "Cross-border"},
    {
        1: "An idea or design, not yet tried with real users.",
        2: "Tried with real users in a time-limited pilot or trial.",
        3: "In routine use at one site or in one region.",
        4: "In routine use in several regions or nationwide.",
        5: "In routine use in more than one country.",
    },
)

HEALTH_DOMAINS = CodeList(
    "health domain",
    {
        "cardiovascular": "Cardiovascular",
        "cancer": "Cancer",
        "diabetes": "Diabetes",
        "mental-health": "Mental health",
        "neurology": "Neurology",
        "respiratory": "Respiratory",
        "musculoskeletal": "Musculoskeletal",
        "ent": "Ear, nose and throat",
        "womens-health": "Women's health",
        "ageing-and-care": "Ageing and long-term care",
        "prevention": "Prevention and health promotion",
        "maternal-and-child": "Maternal and child health",
        "infectious-disease": "Infectious disease",
        "rehabilitation": "Rehabilitation",
        "palliative-care": "Palliative care",
        "medication": "Medication",
        "records-and-access": "Records and access (EHRs, patient portals, data exchange)",
        "telehealth": "Telehealth",
        "digital-literacy": "Digital health literacy",
        "general": "General",
    },
)

STANDARDS = CodeList(
    "standard",
    {
        "fhir": "HL7 FHIR",
        "hl7v2": "HL7 v2",
        "cda": "HL7 CDA",
        "openehr": "openEHR",
        "ihe": "IHE profiles",
        "snomed-ct": "SNOMED CT",
        "loinc": "LOINC",
        "icd-10": "ICD-10",
        "icd-11": "ICD-11",
        "dicom": "DICOM",
        "eehrxf": "European EHR exchange format (EEHRxF)",
        "iso-13606": "ISO 13606",
    },
)

ORGANISATION_TYPES = CodeList(
    "organisation type",
    {
        "health-authority": "Health authority",
        "healthcare-provider": "Healthcare provider",
        "company": "Company or SME",
        "research": "Research or academia",
        "patient-organisation": "Patient or citizen organisation",
        "accelerator": "Accelerator or innovation hub",
        "policy-maker": "Policy maker",
        "other": "Other",
    },
)

TWINNING_TYPES = CodeList(
    "twinning type",
    {
        "knowledge-exchange": "Knowledge exchange",
        "partial-adoption": "Partial adoption",
        "full-adoption": "Full adoption",
    },
)

PRACTICE_STATUSES = CodeList(
    "practice status",
    {
        "draft": "Draft",
        "submitted": "Submitted for review",
        "published": "Published",
        "rejected": "Rejected",
        "archived": "Archived",
    },
)

MATCH_STATUSES = CodeList(
    "twinning status",
    {
        "suggested": "Suggested",
        "shortlisted": "Shortlisted",
        "agreed": "Agreed",
        "in-transfer": "In transfer",
        "completed": "Completed",
        "declined": "Declined",
    },
)

#: Statuses of a match that count as a twinning (a pair both sides committed to).
TWINNING_STATUSES = ("agreed", "in-transfer", "completed")

#: The milestones of a twinning's work plan, in the order they fall due.
MILESTONE_KINDS = CodeList(
    "milestone",
    {
        "kick-off": "Kick-off",
        "study-visit": "Study visit",
        "adaptation": "Adaptation",
        "pilot": "Pilot",
        "final-report": "Final report",
    },
)

REPORT_KINDS = CodeList("report", {"progress": "Progress report", "final": "Final report"})

ROLES = CodeList(
    "role",
    {
        "owner": "Practice owner",
        "evaluator": "Evaluator",
        "coordinator": "Coordinator",
        "admin": "Administrator",
    },
)

#: The official languages of the EU and of the other countries on the map, listed first.
EUROPEAN_LANGUAGES = [
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fi",
    "fr",
    "ga",
    "hr",
    "hu",
    "it",
    "lt",
    "lv",
    "mt",
    "nl",
    "pl",
    "pt",
    "ro",
    "sk",
    "sl",
    "sv",
    "is",
    "no",
    "nb",
    "nn",
    "lb",
    "sq",
    "bs",
    "sr",
    "mk",
    "ka",
    "uk",
    "tr",
    "ru",
    "ca",
    "eu",
    "gl",
]


def _languages() -> CodeList:
    codes = list(dict.fromkeys(EUROPEAN_LANGUAGES))
    others = sorted(
        (lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")),
        key=lambda c: pycountry.languages.get(alpha_2=c).name,
    )
    codes += [c for c in others if c not in codes]
    return CodeList("language", {c: pycountry.languages.get(alpha_2=c).name for c in codes})


LANGUAGES = _languages()


def _dhi() -> tuple[CodeList, CodeList]:
    with open(DATA_DIR / "who_dhi_classification.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    codes = {r["code"]: r["label"] for r in rows if r["level"] != "group"}
    groups = {r["code"]: r["label"] for r in rows if r["level"] == "group"}
    return CodeList("WHO DHI code", codes), CodeList("WHO DHI group", groups)


#: WHO Classification of Digital Health Interventions v1: categories (x.y) and interventions.
DHI_CODES, DHI_GROUPS = _dhi()


def dhi_group(code: str) -> str:
    """The DHI group (`1.0`…`4.0`) of a category or intervention code."""
    return code.split(".")[0] + ".0"
