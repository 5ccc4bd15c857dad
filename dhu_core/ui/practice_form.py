"""The practice registration form: sections, required marks, messages next to each field."""

import streamlit as st

from dhu_core import geo, i18n, taxonomy
from dhu_core.i18n import N_, _
from dhu_core.models import FIRST_YEAR, PracticeDraft
from dhu_core.ui import forms

FORM = "practice"
#: Form field -> its label; the fields are those of PracticeDraft, in the order of the form.
LABELS = {
    "title": N_("Title"),
    "text_language": N_("Written in"),
    "summary": N_("Summary"),
    "description": N_("Description"),
    "practice_type": N_("Type of practice"),
    "start_year": N_("Start year"),
    "maturity": N_("Maturity"),
    "countries": N_("Countries of deployment"),
    "health_domains": N_("Health domains"),
    "dhi_codes": N_("WHO digital health interventions"),
    "standards": N_("Interoperability standards"),
    "languages": N_("Languages"),
    "evidence": N_("Evidence and outcomes"),
    "licence": N_("Licence"),
    "transferable": N_("Willing to transfer it to others?"),
    "transfer_capacity": N_("Twinnings you can support at once"),
    "support_offered": N_("Support offered to adopters"),
    "website": N_("Website"),
    "contact_email": N_("Contact e-mail"),
}
#: Needed for review (PracticeCreate); marked with * on the form.
REQUIRED = ("title", "summary", "practice_type", "maturity", "countries")
#: Form field -> widget key.
KEYS = {name: f"pf_{name}" for name in LABELS}
TRANSFERABLE = {"yes": True, "no": False, "not decided": None}
TRANSFERABLE_LABELS = {"yes": N_("yes"), "no": N_("no"), "not decided": N_("not decided")}


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
            # A new practice is written in the language of the page it is typed into.
            KEYS["text_language"]: data.get("text_language") or i18n.current(),
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
    st.subheader(_("1 · What it is"))
    _text("title", help=_("A short, descriptive name."))
    text_language_select(FORM, KEYS["text_language"])
    _text("summary", area=True, help=_("Two or three sentences (10 to 500 characters)."))
    _text("description", area=True)
    left, right = st.columns(2)
    with left:
        practice_type_select(FORM, KEYS["practice_type"])
    with right, forms.field(FORM, "start_year", _label("start_year")):
        st.number_input(
            _label("start_year"),
            min_value=FIRST_YEAR,
            max_value=2100,
            step=1,
            key=KEYS["start_year"],
        )
    with forms.field(FORM, "maturity", _label("maturity")):
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

    st.subheader(_("2 · Where it is deployed"))
    _multi("countries", geo.shown_country_names())

    st.subheader(_("3 · Classification"))
    _multi("health_domains", taxonomy.HEALTH_DOMAINS.shown_labels())
    _multi(
        "dhi_codes",
        {code: f"{code} {label}" for code, label in taxonomy.DHI_CODES.shown_labels().items()},
        help=_("WHO Classification of Digital Health Interventions v1.0."),
    )
    _multi("standards", taxonomy.STANDARDS.shown_labels())
    _multi("languages", taxonomy.LANGUAGES.shown_labels())

    st.subheader(_("4 · Evidence and transfer"))
    _text("evidence", area=True)
    _text("licence", help=_("For example: open source (EUPL-1.2), proprietary…"))
    left, right = st.columns(2)
    with left, forms.field(FORM, "transferable", _label("transferable")):
        st.radio(
            _label("transferable"),
            options=list(TRANSFERABLE),
            format_func=lambda answer: _(TRANSFERABLE_LABELS[answer]),
            horizontal=True,
            key=KEYS["transferable"],
        )
    with right, forms.field(FORM, "transfer_capacity", _label("transfer_capacity")):
        st.number_input(
            _label("transfer_capacity"),
            min_value=0,
            max_value=50,
            step=1,
            key=KEYS["transfer_capacity"],
        )
    _text("support_offered", area=True)

    st.subheader(_("5 · Contacts"))
    left, right = st.columns(2)
    with left:
        _text("website", help=_("Starting with https://"))
    with right:
        _text("contact_email")


def practice_type_select(form: str, key: str) -> None:
    """The required choice of practice type, with its message under it."""
    label = _("Type of practice *")
    with forms.field(form, "practice_type", label):
        st.selectbox(
            label,
            options=list(taxonomy.PRACTICE_TYPES),
            format_func=taxonomy.PRACTICE_TYPES.label,
            index=None,
            placeholder=_("Choose…"),
            key=key,
        )


def text_language_select(form: str, key: str) -> None:
    """The language the texts are written in, with its message under it."""
    with forms.field(form, "text_language"):
        st.selectbox(
            _("Written in"),
            options=list(taxonomy.LANGUAGES),
            format_func=taxonomy.LANGUAGES.label,
            help=_(
                "The language of the title and texts. They are shown as you write them; readers "
                "of the platform in another language see which language it is."
            ),
            key=key,
        )


_LISTS = ("countries", "health_domains", "dhi_codes", "standards", "languages")


def labels() -> dict[str, str]:
    """Form field -> its label in the page's language (for the error summary)."""
    return {name: _(label) for name, label in LABELS.items()}


def _label(name: str) -> str:
    label = _(LABELS[name])
    return f"{label} *" if name in REQUIRED else label


def _text(name: str, *, area: bool = False, help: str | None = None) -> None:
    widget = st.text_area if area else st.text_input
    with forms.field(FORM, name, _label(name)):
        widget(_label(name), key=KEYS[name], help=help)


def _multi(name: str, options: dict, help: str | None = None) -> None:
    with forms.field(FORM, name, _label(name)):
        st.multiselect(
            _label(name),
            options=list(options),
            format_func=options.get,
            key=KEYS[name],
            help=help,
        )
