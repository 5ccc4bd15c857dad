"""Knowledge community: spotlights on mature solutions, digests by topic, demand meets supply."""

import streamlit as st

from dhu_core import geo, knowledge, params, taxonomy
from dhu_core.i18n import _, format_number, ngettext
from dhu_core.text import md_escape, md_escape_paragraphs
from dhu_core.ui import (
    auth,
    cached,
    follow_up_view,
    interest_form,
    knowledge_forms,
    knowledge_view,
    practice_view,
)

user = auth.current_user()
coordinator = user is not None and user.role in knowledge.COORDINATORS
state = st.session_state

st.title(_("Knowledge community"))
st.markdown(
    _(
        "Plain-language digests on priority topics, spotlights on mature solutions, and the "
        "place where those looking for a solution meet those offering one."
    )
)
if message := state.pop(knowledge_forms.MESSAGE, None):
    st.success(message)

opened_case = params.identifier(st.query_params.get_all("case"))
if opened_case is not None:
    follow_up_view.case(cached.published_case(opened_case))
    st.page_link(
        "app_pages/knowledge.py", label=_("Knowledge community"), icon=":material/arrow_back:"
    )
    # Written even when unchanged: a link to this page leaves the address bar as it was.
    st.query_params.from_dict({"case": str(opened_case)})
    st.stop()

spotlights = cached.spotlights()
if spotlights:
    st.subheader(_("Spotlights on mature solutions"))
    knowledge_view.spotlight_grid(spotlights[:3])
    if more := spotlights[3:]:
        more_label = ngettext("{count} more spotlight", "{count} more spotlights", len(more))
        with st.expander(more_label.format(count=format_number(len(more)))):
            knowledge_view.spotlight_grid(more)

tabs = [_("Digests"), _("Demand and supply"), _("Lessons from twinnings")]
if coordinator:
    tabs += [_("Write a digest"), _("Manage spotlights"), _("Newsletter")]
digests_tab, board_tab, lessons_tab, *coordinator_tabs = st.tabs(tabs)

with digests_tab:
    opened = params.identifier(st.query_params.get_all("digest"))
    if opened is not None:
        knowledge_view.opened_digest(cached.published_digest(opened))
        st.page_link("app_pages/knowledge.py", label=_("All digests"), icon=":material/arrow_back:")
        # Written even when unchanged: a link to this page leaves the address bar as it was.
        st.query_params.from_dict({"digest": str(opened)})
    else:
        topics = cached.digest_topics()
        if "kn_topic" not in state or state["kn_topic"] not in (None, *topics):
            wanted = st.query_params.get("topic")
            state["kn_topic"] = wanted if wanted in topics else None
            state["kn_text"] = st.query_params.get("q", "")
        topic_column, text_column = st.columns([1, 2])
        topic = topic_column.selectbox(
            _("Topic"),
            options=list(topics),
            format_func=lambda t: f"{t} ({topics[t]})",
            index=None,
            placeholder=_("All topics"),
            key="kn_topic",
        )
        text = text_column.text_input(_("Search the digests"), key="kn_text").strip()
        st.query_params.from_dict(
            {name: value for name, value in (("topic", topic), ("q", text)) if value}
        )
        digests = cached.published_digests(topic, text)
        count = len(digests)
        st.caption(
            ngettext("{count} digest", "{count} digests", count).format(count=format_number(count))
        )
        for digest in digests:
            with st.expander(md_escape(digest.title), expanded=len(digests) == 1):
                knowledge_view.digest(digest)

with board_tab:
    if user is None:
        st.info(_("Sign in to see who is looking for what, and to express your interest."))
    else:
        board_text = st.text_input(_("Search the board"), key="board_text").strip()
        looking, offering = st.columns(2)
        with looking:
            st.subheader(_("Looking for"), anchor=False)
            st.caption(_("Open twinning needs of health authorities and providers."))
            for need in cached.open_needs(board_text):
                with st.container(border=True):
                    st.markdown(f"**{md_escape(need.organisation)}**")
                    st.caption(
                        f"{geo.country_name(need.country)} · "
                        f"{taxonomy.TWINNING_TYPES.label(need.twinning_type)}"
                        + (f" · {md_escape(need.timeline)}" if need.timeline else "")
                    )
                    st.markdown(md_escape_paragraphs(need.problem_statement))
                    if need.organisation_id != user.organisation_id:
                        interest_form.interest_button(user, need_id=need.id)
        with offering:
            st.subheader(_("Offering"), anchor=False)
            st.caption(_("Published practices whose owners are willing to transfer them."))
            for practice in cached.offerings(board_text):
                practice_view.card(practice)
                if practice.owner_organisation_id != user.organisation_id:
                    interest_form.interest_button(user, practice_id=practice.id)

with lessons_tab:
    follow_up_view.lessons_section()

if coordinator:
    write_tab, spotlight_tab, newsletter_tab = coordinator_tabs
    with write_tab:
        knowledge_forms.digest_editor(user)
    with spotlight_tab:
        knowledge_forms.spotlight_editor(user)
    with newsletter_tab:
        knowledge_forms.newsletter_composer(user)
