"""How a practice is shown: cards in lists, and the full detail view. All user text escaped."""

import streamlit as st

from dhu_core import geo, taxonomy
from dhu_core.i18n import _
from dhu_core.models import PracticePublic, User
from dhu_core.text import md_escape, md_escape_paragraphs
from dhu_core.ui import claim_view, freshness_view, interest_form, language, shell


def labels(codes: list, code_list: taxonomy.CodeList) -> str:
    """The labels of `codes`, joined for display."""
    return ", ".join(code_list.label(code) for code in codes) or "—"


def link(practice_id: int, title: str, *, note: str = "") -> None:
    """A link to a practice's detail view, in the same tab."""
    st.page_link(
        "app_pages/radar.py",
        label=f"**{md_escape(title)}**{note}",
        query_params={"practice": str(practice_id)},
    )


def card(practice: PracticePublic, *, linked: bool = True) -> None:
    """A practice in a list: title (linking to its detail view), facts and summary."""
    with st.container(border=True):
        if linked:
            link(practice.id, practice.title)
        else:
            st.markdown(f"**{md_escape(practice.title)}**")
        confirmed = practice.last_confirmed_at is not None
        st.caption(
            f"{facts(practice)}  \n{freshness_view.confirmed_line(practice)}"
            if confirmed
            else facts(practice)
        )
        freshness_view.outdated_badge(practice.last_confirmed_at)
        language.written_in_badge(practice.text_language)
        st.markdown(md_escape(practice.summary))


def facts(practice: PracticePublic) -> str:
    """Type · maturity · organisation, country · deployed in."""
    deployed = ", ".join(geo.country_name(c) for c in practice.countries)
    return (
        f"{taxonomy.PRACTICE_TYPES.label(practice.practice_type)} · "
        f"{practice.maturity} {taxonomy.MATURITY_LEVELS.label(practice.maturity)} · "
        f"{md_escape(practice.owner_organisation)}, {geo.country_name(practice.owner_country)} · "
        + _("deployed in {countries}").format(countries=deployed)
    )


def map_link(country: str) -> str:
    """A Markdown link to `country` on the uptake map."""
    label = _("{country} on the uptake map").format(country=geo.country_name(country))
    return f"[{label}](/map?country={country})"


def detail_page(practice: PracticePublic, viewer: User | None) -> None:
    """A practice as a page of its own: its title as the heading and the tab's title, its
    country on the map, when it was last confirmed as current, every public field; signed-in
    users of another organisation can express interest in it, its organisation and
    coordinators confirm it as current, and when nobody acts for its organisation, it can be
    claimed. An archived practice says so first."""
    shell.tab_title(practice.title, "RADAR")
    archived = practice.status == "archived"
    if archived:
        freshness_view.archived_notice(practice)
    st.title(md_escape(practice.title), anchor=False)
    st.caption(facts(practice))
    language.written_in_badge(practice.text_language)
    freshness_view.status_line(practice)
    if not archived:
        st.markdown(f":material/public: {map_link(practice.owner_country)}")
    if freshness_view.may_confirm(viewer, practice.owner_organisation_id):
        freshness_view.confirm_button(practice.id, practice.status, viewer, key="confirm-current")
    outsider = viewer is not None and viewer.organisation_id != practice.owner_organisation_id
    if outsider and not archived:
        interest_form.interest_button(viewer, practice_id=practice.id)
    freshness_view.count_view(practice, viewer)
    claim_view.claim_button(practice, viewer)
    _fields(practice)


def detail(practice: PracticePublic) -> None:
    """Every public field of a practice, under its title, inside another page."""
    st.header(md_escape(practice.title), anchor=False)
    st.caption(facts(practice))
    language.written_in_badge(practice.text_language)
    _fields(practice)


def _fields(practice: PracticePublic) -> None:
    st.markdown(md_escape(practice.summary))
    if practice.description:
        st.markdown(md_escape_paragraphs(practice.description))
    left, right = st.columns(2)
    transferable = {True: _("yes"), False: _("no"), None: _("not stated")}[practice.transferable]
    maturity = (
        f"{practice.maturity} · {taxonomy.MATURITY_LEVELS.label(practice.maturity)} — "
        f"{taxonomy.MATURITY_LEVELS.definition(practice.maturity)}"
    )
    left.markdown(
        _fact_list(
            [
                (_("Maturity"), maturity),
                (_("Start year"), str(practice.start_year or "—")),
                (_("Health domains"), labels(practice.health_domains, taxonomy.HEALTH_DOMAINS)),
                (_("Standards"), labels(practice.standards, taxonomy.STANDARDS)),
                (_("Languages"), labels(practice.languages, taxonomy.LANGUAGES)),
            ]
        )
    )
    right.markdown(
        _fact_list(
            [
                (_("Transferable"), transferable),
                (_("Twinnings it can support at once"), str(practice.transfer_capacity)),
                (_("Licence"), md_escape(practice.licence) or "—"),
                (_("Website"), md_escape(practice.website) or "—"),
                (_("Contact"), md_escape(practice.contact_email) or "—"),
            ]
        )
    )
    if practice.dhi_codes:
        st.markdown("**" + _("WHO digital health interventions") + "**")
        st.markdown(
            "\n".join(
                f"- {code} {md_escape(taxonomy.DHI_CODES.label(code))}"
                for code in practice.dhi_codes
            )
        )
    for heading, text in (
        (_("Evidence and outcomes"), practice.evidence),
        (_("Support offered to adopters"), practice.support_offered),
    ):
        if text:
            st.markdown(f"**{heading}**")
            st.markdown(md_escape_paragraphs(text))
    st.markdown("**" + _("Deployments") + "**")
    st.dataframe(
        {
            _("country"): [geo.country_name(c) for c in practice.countries],
            _("code"): practice.countries,
        },
        hide_index=True,
    )


def _fact_list(facts: list[tuple[str, str]]) -> str:
    """A Markdown list of `**label:** value` lines."""
    return "\n".join(f"- **{label}:** {value}" for label, value in facts)
