"""Forms of the knowledge community: writing digests, featuring practices, composing the
newsletter."""

from datetime import timedelta

import streamlit as st
from pydantic import ValidationError

from dhu_core import db, i18n, knowledge
from dhu_core.catalogue import CatalogueQuery
from dhu_core.i18n import N_, _
from dhu_core.knowledge import DigestView
from dhu_core.models import (
    DigestInput,
    FieldError,
    SpotlightInput,
    StateConflict,
    User,
    field_errors,
    utcnow,
)
from dhu_core.open_data import newsletter
from dhu_core.text import md_escape
from dhu_core.ui import addresses, cached, forms, knowledge_view, practice_form, practice_view

MESSAGE = "knowledge_message"
DIGEST_FORM = "digest"
SPOTLIGHT_FORM = "spotlight"
NEW = 0
#: Digest field -> widget key.
DIGEST_KEYS = {
    "title": "kd_title",
    "language": "kd_language",
    "topics": "kd_topics",
    "body": "kd_body",
    "practice_ids": "kd_practices",
}
DIGEST_LABELS = {
    "title": N_("Title"),
    "language": N_("Written in"),
    "topics": N_("Topics"),
    "body": N_("Text"),
    "practice_ids": N_("Linked practices"),
}
SPOTLIGHT_LABELS = {"practice_id": N_("Practice"), "analysis": N_("Analysis")}
#: The newsletter period offered first: the last four weeks.
NEWSLETTER_DAYS = 28
#: Pixels of the newsletter's code blocks; its preview gets twice as many.
NEWSLETTER_HEIGHT = 320


def digest_editor(actor: User) -> None:
    """Write or change a digest with a live preview; save it as a draft or publish it."""
    state = st.session_state
    forms.keep(["kd_choice", *DIGEST_KEYS.values(), "kd_search"])
    with db.read_scope() as session:
        digests = {d.id: d for d in knowledge.all_digests(session=session, actor=actor)}
    if "kd_next" in state:  # after a save: keep working on the saved digest
        state["kd_choice"] = state.pop("kd_next")
    chosen = st.selectbox(
        _("Work on"),
        options=[NEW, *digests],
        format_func=lambda i: _("A new digest") if i == NEW else _digest_label(digests[i]),
        key="kd_choice",
    )
    if state.get("kd_loaded") != chosen or DIGEST_KEYS["title"] not in state:
        _load_digest(digests.get(chosen))
        state["kd_loaded"] = chosen

    forms.revalidate(DIGEST_FORM, _digest_values())
    editor, preview = st.columns(2)
    with editor:
        with forms.field(DIGEST_FORM, "title"):
            st.text_input(_("Title *"), key="kd_title")
        practice_form.text_language_select(DIGEST_FORM, DIGEST_KEYS["language"])
        with forms.field(DIGEST_FORM, "topics"):
            st.multiselect(
                _("Topics *"),
                options=sorted(set(cached.digest_topics()) | set(state["kd_topics"])),
                accept_new_options=True,
                placeholder=_("Choose or type a topic, such as ehds"),
                key="kd_topics",
            )
        with forms.field(DIGEST_FORM, "body"):
            st.text_area(
                _("Text *"),
                height=320,
                key="kd_body",
                help=_(
                    "Markdown: **bold**, *italic*, ## headings, lists, [links](https://…), "
                    "tables. HTML and pictures are not shown."
                ),
            )
        with forms.field(DIGEST_FORM, "practice_ids"):
            _practice_picker()
    with preview:
        st.markdown(_("**Preview**"))
        with st.container(border=True):
            st.markdown("#### " + (md_escape(state["kd_title"]) or _("Untitled")))
            knowledge_view.digest(
                DigestView(
                    id=NEW,
                    title=state["kd_title"],
                    body=state["kd_body"],
                    status="draft",
                    topics=state["kd_topics"],
                    practice_ids=state["kd_practices"],
                    author=actor.display_name,
                    created_at=utcnow(),
                    published_at=None,
                    language=state["kd_language"],
                )
            )

    is_published = chosen != NEW and digests[chosen].status == "published"
    save, publish = st.columns(2)
    save_clicked = save.button(
        _("Save changes") if is_published else _("Save draft"), icon=":material/save:"
    )
    publish_clicked = not is_published and publish.button(
        _("Publish"), type="primary", icon=":material/publish:"
    )
    forms.error_summary(DIGEST_FORM, {name: _(label) for name, label in DIGEST_LABELS.items()})
    if save_clicked or publish_clicked:
        try:
            data = DigestInput(**_digest_values())
            with db.session_scope() as session:
                saved = knowledge.save_digest(
                    session=session, actor=actor, data=data, digest_id=chosen or None
                )
                if publish_clicked:
                    knowledge.publish_digest(session=session, actor=actor, digest_id=saved.id)
                saved_id = saved.id
        except (ValidationError, FieldError) as error:
            forms.show_errors_and_rerun(
                DIGEST_FORM, field_errors(error), model=DigestInput, values=_digest_values()
            )
        except StateConflict as conflict:
            st.warning(str(conflict), icon=":material/sync_problem:")
            st.stop()
        forms.clear_errors(DIGEST_FORM)
        done = _("Published: {title}") if publish_clicked else _("Saved: {title}")
        state[MESSAGE] = done.format(title=md_escape(data.title))
        state["kd_next"] = saved_id
        st.rerun()


def _digest_values() -> dict:
    return {name: st.session_state[key] for name, key in DIGEST_KEYS.items()}


def _digest_label(item: DigestView) -> str:
    status = _("published") if item.status == "published" else _("draft")
    return f"{item.title} ({status})"


def _load_digest(item: DigestView | None) -> None:
    forms.load(
        {
            "kd_title": item.title if item else "",
            "kd_language": item.language if item else i18n.current(),
            "kd_topics": list(item.topics) if item else [],
            "kd_body": item.body if item else "",
            "kd_practices": list(item.practice_ids) if item else [],
            "kd_search": "",
        }
    )
    forms.clear_errors(DIGEST_FORM)


def _practice_picker() -> None:
    """Linked practices: search the catalogue, pick from the matches; picked ones stay."""
    text = st.text_input(_("Find practices to link"), key="kd_search").strip()
    found = cached.search(CatalogueQuery(text=text, page_size=20)).practices if text else []
    if text:
        st.caption(
            _("Published practices matching “{text}”: {count}.").format(
                text=md_escape(text), count=i18n.format_number(len(found))
            )
        )
    titles = cached.practice_titles(st.session_state["kd_practices"])
    titles |= {p.id: p.title for p in found}
    st.multiselect(
        _("Linked practices"),
        options=list(titles),
        format_func=lambda i: titles.get(i) or _("practice {id}").format(id=i),
        placeholder=_("Search above, then choose"),
        key="kd_practices",
    )


def spotlight_editor(actor: User) -> None:
    """The current spotlights with a button to remove each, and the form to feature one."""
    state = st.session_state
    for practice in cached.spotlights():
        title, remove = st.columns([4, 1])
        with title:
            practice_view.link(practice.id, practice.title)
        if remove.button(_("Remove"), key=f"unfeature-{practice.id}"):
            try:
                with db.session_scope() as session:
                    knowledge.unfeature_practice(
                        session=session, actor=actor, practice_id=practice.id
                    )
            except StateConflict as conflict:
                remove.warning(str(conflict), icon=":material/sync_problem:")
            else:
                state[MESSAGE] = _("Removed from the spotlights: {title}").format(
                    title=md_escape(practice.title)
                )
                st.rerun()

    st.markdown(_("**Feature a practice**"))
    text = st.text_input(_("Find a published practice at maturity 3 or higher"), key="ks_search")
    query = CatalogueQuery(text=text.strip(), maturities=(3, 4, 5), page_size=20)
    chosen = cached.linked_practices([state["ks_practice"]] if state.get("ks_practice") else [])
    options = {
        p.id: " · ".join(
            (p.title, p.owner_organisation, _("maturity {level}").format(level=p.maturity))
        )
        for p in [*chosen, *cached.search(query).practices]
    }
    forms.revalidate(SPOTLIGHT_FORM, _spotlight_values())
    with forms.field(SPOTLIGHT_FORM, "practice_id"):
        st.selectbox(
            _("Practice *"),
            options=list(options),
            format_func=options.get,
            index=None,
            placeholder=_("Choose…"),
            key="ks_practice",
        )
    with forms.field(SPOTLIGHT_FORM, "analysis"):
        st.text_area(
            _("Analysis *"),
            key="ks_analysis",
            help=_(
                "Why it is mature, the evidence of its results, and what transferring it "
                "takes. Markdown is allowed."
            ),
        )
    if state.get("ks_analysis"):
        with st.container(border=True):
            knowledge_view.rich_text(state["ks_analysis"])
    clicked = st.button(_("Feature it"), type="primary", icon=":material/star:")
    forms.error_summary(
        SPOTLIGHT_FORM, {name: _(label) for name, label in SPOTLIGHT_LABELS.items()}
    )
    if clicked:
        try:
            data = SpotlightInput(**_spotlight_values())
            with db.session_scope() as session:
                practice = knowledge.feature_practice(session=session, actor=actor, data=data)
                title = practice.title
        except (ValidationError, FieldError) as error:
            forms.show_errors_and_rerun(
                SPOTLIGHT_FORM,
                field_errors(error),
                model=SpotlightInput,
                values=_spotlight_values(),
            )
        forms.clear_errors(SPOTLIGHT_FORM)
        for key in ("ks_practice", "ks_analysis", "ks_search"):
            del state[key]
        state[MESSAGE] = _("In the spotlight now: {title}").format(title=md_escape(title))
        st.rerun()


def _spotlight_values() -> dict:
    state = st.session_state
    return {"practice_id": state.get("ks_practice") or 0, "analysis": state.get("ks_analysis")}


def newsletter_composer(actor: User) -> None:
    """A period, a button, then the newsletter as HTML and Markdown to copy or download, with a
    preview."""
    state = st.session_state
    today = utcnow().date()
    period = st.date_input(
        _("Period"),
        value=(today - timedelta(days=NEWSLETTER_DAYS), today),
        max_value=today,
        key="kn_period",
        help=_("Days in UTC, both included."),
    )
    if st.button(_("Compose the newsletter"), type="primary", icon=":material/mail:"):
        if len(period) != 2:
            st.warning(_("Choose the first and the last day of the period."))
            return
        state["kn_newsletter"] = newsletter.compose(
            actor=actor, since=period[0], until=period[1], base_url=addresses.app_url("knowledge")
        )
    letter: newsletter.Newsletter | None = state.get("kn_newsletter")
    if letter is None:
        return
    counts = letter.counts
    st.caption(
        _(
            "{practices} new practices, {digests} digests and {spotlights} spotlights. Paste "
            "the HTML into your newsletter tool as its e-mail body, or the Markdown where it "
            "takes Markdown."
        ).format(
            practices=i18n.format_number(counts["practices"]),
            digests=i18n.format_number(counts["digests"]),
            spotlights=i18n.format_number(counts["spotlights"]),
        )
    )
    html_column, markdown_column = st.columns(2)
    html_column.download_button(
        _("Download HTML"),
        letter.html,
        file_name="dhu-newsletter.html",
        mime="text/html",
        icon=":material/download:",
    )
    markdown_column.download_button(
        _("Download Markdown"),
        letter.markdown,
        file_name="dhu-newsletter.md",
        mime="text/markdown",
        icon=":material/download:",
    )
    # Fixed heights: a newsletter of 50 practices would push the preview far down the page.
    st.code(letter.html, language="html", height=NEWSLETTER_HEIGHT)
    with st.expander("Markdown"):
        st.code(letter.markdown, language="markdown", height=NEWSLETTER_HEIGHT)
    st.markdown(_("**Preview**"))
    with st.container(border=True, height=2 * NEWSLETTER_HEIGHT):
        # Its user text is escaped by the template; st.html sanitises again and runs no script.
        st.html(letter.html)
