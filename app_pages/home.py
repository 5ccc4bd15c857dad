"""Home: what the platform holds today, the newest practices, and the three pillars."""

import streamlit as st

from dhu_core.ui import cached, knowledge_view, practice_view

st.title("Digital Health Uptake")
st.markdown(
    "Find digital health practices that already work in Europe, see where they are taken up, "
    "and transfer them across borders instead of reinventing them."
)

figures = cached.headline_figures()
columns = st.columns(4)
columns[0].metric("Published practices", f"{figures.published_practices:,}")
columns[1].metric("Countries covered", f"{figures.countries_covered:,}")
columns[2].metric("Organisations", f"{figures.organisations:,}")
columns[3].metric("Twinnings", f"{figures.twinnings:,}")
columns[3].caption(f"{figures.completed_twinnings:,} completed")

spotlights = cached.spotlights()[:3]
if spotlights:
    st.subheader("Spotlights on mature solutions")
    knowledge_view.spotlight_grid(spotlights, first_paragraph_only=True)
    st.page_link(
        "app_pages/knowledge.py",
        label="More in the knowledge community",
        icon=":material/menu_book:",
    )

st.subheader("Newest practices")
for practice in cached.newest_practices(limit=5):
    practice_view.card(practice)

st.subheader("Three pillars")
radar, community, accelerator = st.columns(3)
radar.markdown(
    "**RADAR** · A living repository of digital health practices — policies, strategies, apps, "
    "services, assessment frameworks and models — at every maturity level, registered by their "
    "owners and checked by coordinators, with their uptake by country."
)
community.markdown(
    "**Knowledge community** · Plain-language digests on priority topics, spotlights on mature "
    "solutions, and a meeting place for health authorities and providers (demand) with "
    "developers and researchers (supply)."
)
accelerator.markdown(
    "**Accelerator** · Twinning: an adopter states a need, the platform ranks practices whose "
    "owners are willing to transfer them and explains every score, and coordinators follow each "
    "twinning to completion."
)
