"""The practice registration form: sections, required marks, messages next to each field."""

import streamlit as st

from dhu_core import geo, taxonomy
from dhu_core.models import FIRST_YEAR, PracticeDraft
from dhu_core.ui import forms

FORM = "practice"
#: Form field -> widget key; the fields are those of PracticeDraft.
KEYS = {
    name: f"pf_{name}"
    for name in (
        "title",
        "summary",
        "description",
        "practice_type",
        "maturity",
        "start_year",
        "countries",
        "health_domains",
        "dhi_codes",
        "standards",
        "languages",
        "evidence",
        "licence",
        "transferable",
        "support_offered",
        "transfer_capacity",
        "website",
        "contact_email",
    )
}
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
    """The form's widgets in sections; required fields are marked with *."""
    forms.keep(list(KEYS.values()))
    if KEYS["title"] not in st.session_state:
        load(None)
    st.subheader("1 · What it is")
    _text("title", "Title *", help="A short, descriptive name.")
    _text("summary", "Summary *", area=True, help="Two or three sentences (10 to 500 characters).")
    _text("description", "Description", area=True)
    left, right = st.columns(2)
    with left:
        practice_type_select(FORM, KEYS["practice_type"])
    with right:
        st.number_input(
            "Start year", min_value=FIRST_YEAR, max_value=2100, step=1, key=KEYS["start_year"]
        )
        forms.field_error(FORM, "start_year")
    st.radio(
        "Maturity *",
        options=list(taxonomy.MATURITY_LEVELS),
        format_func=lambda level: (
            f"{level} · {taxonomy.MATURITY_LEVELS.label(level)}: "
            f"{taxonomy.MATURITY_LEVELS.definitions[level]}"
        ),
        index=None,
        key=KEYS["maturity"],
    )
    forms.field_error(FORM, "maturity")

    st.subheader("2 · Where it is deployed")
    _multi("countries", "Countries of deployment *", geo.country_names())

    st.subheader("3 · Classification")
    _multi("health_domains", "Health domains", taxonomy.HEALTH_DOMAINS.labels)
    _multi(
        "dhi_codes",
        "WHO digital health interventions",
        {code: f"{code} {label}" for code, label in taxonomy.DHI_CODES.labels.items()},
        help="WHO Classification of Digital Health Interventions v1.0.",
    )
    _multi("standards", "Interoperability standards", taxonomy.STANDARDS.labels)
    _multi("languages", "Languages", taxonomy.LANGUAGES.labels)

    st.subheader("4 · Evidence and transfer")
    _text("evidence", "Evidence and outcomes", area=True)
    _text("licence", "Licence", help="For example: open source (EUPL-1.2), proprietary…")
    left, right = st.columns(2)
    with left:
        st.radio(
            "Willing to transfer it to others?",
            options=list(TRANSFERABLE),
            horizontal=True,
            key=KEYS["transferable"],
        )
    with right:
        st.number_input(
            "Twinnings you can support at once",
            min_value=0,
            max_value=50,
            step=1,
            key=KEYS["transfer_capacity"],
        )
    _text("support_offered", "Support offered to adopters", area=True)

    st.subheader("5 · Contacts")
    left, right = st.columns(2)
    with left:
        _text("website", "Website", help="Starting with https://")
    with right:
        _text("contact_email", "Contact e-mail")


def practice_type_select(form: str, key: str) -> None:
    """The required choice of practice type, with its message under it."""
    st.selectbox(
        "Type of practice *",
        options=list(taxonomy.PRACTICE_TYPES),
        format_func=taxonomy.PRACTICE_TYPES.label,
        index=None,
        placeholder="Choose…",
        key=key,
    )
    forms.field_error(form, "practice_type")


_LISTS = ("countries", "health_domains", "dhi_codes", "standards", "languages")


def _text(name: str, label: str, *, area: bool = False, help: str | None = None) -> None:
    widget = st.text_area if area else st.text_input
    widget(label, key=KEYS[name], help=help)
    forms.field_error(FORM, name)


def _multi(name: str, label: str, options: dict, help: str | None = None) -> None:
    st.multiselect(label, options=list(options), format_func=options.get, key=KEYS[name], help=help)
    forms.field_error(FORM, name)
