"""Home: what the platform holds today, the newest practices, and the three pillars."""

import streamlit as st

from dhu_core.i18n import _, format_number, ngettext
from dhu_core.ui import cached, knowledge_view, practice_view

st.title(_("Digital Health Uptake"))
st.markdown(
    _(
        "Find digital health practices that already work in Europe, see where they are taken "
        "up, and transfer them across borders instead of reinventing them."
    )
)

figures = cached.headline_figures()
columns = st.columns(4)
columns[0].metric(_("Published practices"), format_number(figures.published_practices))
columns[1].metric(_("Countries covered"), format_number(figures.countries_covered))
columns[2].metric(_("Organisations"), format_number(figures.organisations))
columns[3].metric(_("Twinnings"), format_number(figures.twinnings))
columns[3].caption(
    ngettext("{count} completed", "{count} completed", figures.completed_twinnings).format(
        count=format_number(figures.completed_twinnings)
    )
)

spotlights = cached.spotlights()[:3]
if spotlights:
    st.subheader(_("Spotlights on mature solutions"))
    knowledge_view.spotlight_grid(spotlights, first_paragraph_only=True)
    st.page_link(
        "app_pages/knowledge.py",
        label=_("More in the knowledge community"),
        icon=":material/menu_book:",
    )

st.subheader(_("Newest practices"))
for practice in cached.newest_practices(limit=5):
    practice_view.card(practice)

st.subheader(_("Three pillars"))
radar, community, accelerator = st.columns(3)
radar.markdown(
    _(
        "**RADAR** · A living repository of digital health practices — policies, strategies, apps, "
        "services, assessment frameworks and models — at every maturity level, registered by their "
        "owners and checked by coordinators, with their uptake by country."
    )
)
community.markdown(
    _(
        "**Knowledge community** · Plain-language digests on priority topics, spotlights on mature "
        "solutions, and a meeting place for health authorities and providers (demand) with "
        "developers and researchers (supply)."
    )
)
accelerator.markdown(
    _(
        "**Accelerator** · Twinning: an adopter states a need, the platform ranks practices "
        "whose owners are willing to transfer them and explains every score, and coordinators "
        "follow each twinning to completion."
    )
)
