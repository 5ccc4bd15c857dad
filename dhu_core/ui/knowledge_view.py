"""How knowledge is shown: sanitised Markdown, spotlights and digests."""

import streamlit as st

from dhu_core import knowledge
from dhu_core.i18n import _
from dhu_core.knowledge import DigestView
from dhu_core.models import PracticePublic
from dhu_core.text import md_escape
from dhu_core.ui import cached, freshness_view, language, practice_view, shell


def rich_text(markdown: str | None) -> None:
    """User-written Markdown, shown only as sanitised HTML."""
    # The wrapping element also keeps st.html from taking the text for a file path.
    st.html(f'<div class="dhu-rich-text">{knowledge.render_markdown(markdown)}</div>')


def topics_line(topics: list[str]) -> str:
    """Topic tags as a caption line."""
    return " · ".join(f"#{md_escape(topic)}" for topic in topics)


def spotlight(practice: PracticePublic, *, first_paragraph_only: bool = False) -> None:
    """A featured practice: its card and the coordinators' analysis of why it is mature."""
    with st.container(border=True):
        practice_view.link(practice.id, practice.title)
        st.caption(practice_view.facts(practice))
        analysis = practice.featured_analysis or ""
        rich_text(analysis.split("\n\n")[0] if first_paragraph_only else analysis)


def spotlight_grid(practices: list[PracticePublic], *, first_paragraph_only: bool = False) -> None:
    """Spotlights three to a row."""
    columns = st.columns(3)
    for index, practice in enumerate(practices):
        with columns[index % 3]:
            spotlight(practice, first_paragraph_only=first_paragraph_only)


def digest(item: DigestView) -> None:
    """A digest's topics, author and date, its link when published, its sanitised text, and its
    practices as cards."""
    published = freshness_view.day(item.published_at) if item.published_at else _("not published")
    st.caption(f"{topics_line(item.topics)}  \n{md_escape(item.author or 'DHU')} · {published}")
    language.written_in_badge(item.language)
    if item.status == "published":
        st.page_link(
            "app_pages/knowledge.py",
            label=_("Link to this digest"),
            icon=":material/link:",
            query_params={"digest": str(item.id)},
        )
    rich_text(item.body)
    linked = cached.linked_practices(item.practice_ids)
    if linked:
        st.markdown("**" + _("Practices in this digest") + "**")
        for practice in linked:
            practice_view.card(practice)


def opened_digest(item: DigestView | None) -> None:
    """The digest a link opened (`?digest=ID`), under its title as the heading and tab title."""
    if item is None:
        st.warning(_("This digest does not exist or is not published."))
        return
    shell.tab_title(item.title, _("Knowledge"))
    st.header(md_escape(item.title), anchor=False)
    digest(item)
