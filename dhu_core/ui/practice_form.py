"""The practice registration form: sections, required marks, messages next to each field."""

import streamlit as st

from dhu_core import geo, taxonomy
from dhu_core.models import FIRST_YEAR, PracticeDraft
from dhu_core.ui import forms

FORM = "practice"
#: Form field -> its label; the fields are those of PracticeDraft, in the order of the form.
LABELS = {
    "title": "Title",
    "summary": "Summary",
    "description": "Description",
    "practice_type": "Type of practice",
    "start_year": "Start year",
    "maturity": "Maturity",
    "countries": "Countries of deployment",
    "health_domains": "Health domains",
    "dhi_codes": "WHO digital health interventions",
    "standards": "Interoperability standards",
    "languages": "Languages",
    "evidence": "Evidence and outcomes",
    "licence": "Licence",
    "transferable": "Willing to transfer it to others?",
    "transfer_capacity": "Twinnings you can support at once",
    "support_offered": "Support offered to adopters",
    "website": "Website",
    "contact_email": "Contact e-mail",
}
#: Needed for review (PracticeCreate); marked with * on the form.
REQUIRED = ("title", "summary", "practice_type", "maturity", "countries")
#: Form field -> widget key.
KEYS = {name: f"pf_{name}" for name in LABELS}
TRANSFERABLE = {"yes": True, "no": False, "not decided": None}


def load(draft: PracticeDraft | None) -> None:
    """Fill the form from `draft` (None: an empty form)."""
    data = draft.model_dump() if draft else {}
    transferable = {v: k for k, v in TRANSFERABLE.items()}[data.get("transferable")]
    forms.load(
        {
            KEYS[name]: data.get(name, [] if name in _LISTS else None)
            for name in KEYS
            if name not in ("transferable", "transfer_capacity")
        }
        | {
            KEYS["transferable"]: transferable,
            KEYS["transfer_capacity"]: data.get("transfer_capacity", 1),
        }
    )
    forms.clear_errors(FORM)


def values() -> dict:
    """What the form holds now, as input for PracticeDraft / PracticeCreate."""
    state = st.session_state
    data = {name: state.get(key) for name, key in KEYS.items()}
    data["transferable"] = TRANSFERABLE.get(data["transferable"])
    return data


def draw() -> None:
    """The form's widgets in sections, each with its message under it; required fields are
    marked with *."""
    forms.keep(list(KEYS.values()))
    if KEYS["title"] not in st.session_state:
        load(None)
    forms.revalidate(FORM, values())
    st.subheader("1 · What it is")
    _text("title", help="A short, descriptive name.")
    _text("summary", area=True, help="Two or three sentences (10 to 500 characters).")
    _text("description", area=True)
    left, right = st.columns(2)
    with left:
        practice_type_select(FORM, KEYS["practice_type"])
    with right, forms.field(FORM, "start_year"):
        st.number_input(
            _label("start_year"),
            min_value=FIRST_YEAR,
            max_value=2100,
            step=1,
            key=KEYS["start_year"],
        )
    with forms.field(FORM, "maturity"):
        st.radio(
            _label("maturity"),
            options=list(taxonomy.MATURITY_LEVELS),
            format_func=lambda level: (
                f"{level} · {taxonomy.MATURITY_LEVELS.label(level)}: "
                f"{taxonomy.MATURITY_LEVELS.definition(level)}"
            ),
            index=None,
            key=KEYS["maturity"],
        )

    st.subheader("2 · Where it is deployed")
    _multi("countries", geo.shown_country_names())

    st.subheader("3 · Classification")
    _multi("health_domains", taxonomy.HEALTH_DOMAINS.shown_labels())
    _multi(
        "dhi_codes",
        {code: f"{code} {label}" for code, label in taxonomy.DHI_CODES.shown_labels().items()},
        help="WHO Classification of Digital Health Interventions v1.0.",
    )
    _multi("standards", taxonomy.STANDARDS.shown_labels())
    _multi("languages", taxonomy.LANGUAGES.shown_labels())

    st.subheader("4 · Evidence and transfer")
    _text("evidence", area=True)
    _text("licence", help="For example: open source (EUPL-1.2), proprietary…")
    left, right = st.columns(2)
    with left, forms.field(FORM, "transferable"):
        st.radio(
            _label("transferable"),
            options=list(TRANSFERABLE),
            horizontal=True,
            key=KEYS["transferable"],
        )
    with right, forms.field(FORM, "transfer_capacity"):
        st.number_input(
            _label("transfer_capacity"),
            min_value=0,
            max_value=50,
            step=1,
            key=KEYS["transfer_capacity"],
        )
    _text("support_offered", area=True)

    st.subheader("5 · Contacts")
    left, right = st.columns(2)
    with left:
        _text("website", help="Starting with https://")
    with right:
        _text("contact_email")


def practice_type_select(form: str, key: str) -> None:
    """The required choice of practice type, with its message under it."""
    with forms.field(form, "practice_type"):
        st.selectbox(
            "Type of practice *",
            options=list(taxonomy.PRACTICE_TYPES),
            format_func=taxonomy.PRACTICE_TYPES.label,
            index=None,
            placeholder="Choose…",
            key=key,
        )


_LISTS = ("countries", "health_domains", "dhi_codes", "standards", "languages")


def _label(name: str) -> str:
    return f"{LABELS[name]} *" if name in REQUIRED else LABELS[name]


def _text(name: str, *, area: bool = False, help: str | None = None) -> None:
    widget = st.text_area if area else st.text_input
    with forms.field(FORM, name):
        widget(_label(name), key=KEYS[name], help=help)


def _multi(name: str, options: dict, help: str | None = None) -> None:
    with forms.field(FORM, name):
        st.multiselect(
            _label(name),
            options=list(options),
            format_func=options.get,
            key=KEYS[name],
            help=help,
        )
