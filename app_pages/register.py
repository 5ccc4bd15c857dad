"""Register a practice: owners describe their practice, save drafts and submit for review."""

import streamlit as st
from pydantic import ValidationError

from dhu_core import db, i18n, practices, taxonomy
from dhu_core.accounts import PermissionDenied
from dhu_core.i18n import _
from dhu_core.models import FieldError, PracticeCreate, PracticeDraft, field_errors
from dhu_core.text import md_escape
from dhu_core.ui import cached, forms, practice_form, shell

NEW = 0
user = shell.page_for_role("owner")
st.title(_("Register a practice"))
st.markdown(
    _(
        "Describe a digital health practice of your organisation so that others can find, judge "
        "and reuse it. Save a draft at any time; submit it for review when it is complete. "
        "Fields marked * are needed for review."
    )
)
if message := st.session_state.pop("register_message", None):
    st.success(message)
if user.organisation_id is None:
    st.info(
        _(
            "Your account acts for no organisation, and practices belong to organisations. Ask "
            "to join yours on My organisation, or claim a practice of yours from its page in "
            "RADAR."
        ),
        icon=":material/info:",
    )
    st.page_link("app_pages/organisation.py", label=_("My organisation"), icon=":material/groups:")
    st.stop()

with db.read_scope() as session:
    mine = practices.own_practices(session=session, actor=user)
# An archived practice is restored (on My practices) before it is edited.
by_id = {p.id: p for p in mine if p.status != "archived"}
with st.expander(
    _("My organisation's practices ({count})").format(count=len(mine)), expanded=bool(mine)
):
    for p in mine:
        line = f"**{md_escape(p.title)}** · {taxonomy.PRACTICE_STATUSES.label(p.status)}"
        if p.revision_pending:
            line += " · " + _("an edit is waiting for review")
        st.markdown(line)
        if p.status == "rejected" and p.rejection_reason:
            st.caption(_("Rejected: {reason}").format(reason=md_escape(p.rejection_reason)))
        if p.revision_rejection:
            st.caption(_("Edit rejected: {reason}").format(reason=md_escape(p.revision_rejection)))
        if p.status == "archived":
            st.caption(_("Archived: restore it on My practices to edit it."))

if "register_next" in st.session_state:  # after a save: keep working on the saved practice
    st.session_state["register_choice"] = st.session_state["register_loaded"] = (
        st.session_state.pop("register_next")
    )
chosen = st.selectbox(
    _("Work on"),
    options=[NEW, *by_id],
    format_func=lambda i: _("A new practice") if i == NEW else by_id[i].title,
    key="register_choice",
)
if st.session_state.get("register_loaded") != chosen:
    if chosen == NEW:
        practice_form.load(None)
    else:
        with db.read_scope() as session:
            practice_form.load(
                practices.practice_form(session=session, actor=user, practice_id=chosen)
            )
    st.session_state["register_loaded"] = chosen

current = by_id.get(chosen)
published = current is not None and current.status == "published"
if published:
    st.info(
        _(
            "This practice is published. Your changes go to a coordinator for review; until "
            "then the published version stays visible."
        ),
        icon=":material/info:",
    )

form_column, similar_column = st.columns([3, 1])
with form_column:
    practice_form.draw()
with similar_column:
    st.markdown("**" + _("Similar practices") + "**")
    values = practice_form.values()
    if values["title"] and values["summary"]:
        similar = cached.similar_to_text(values["title"], values["summary"], exclude=chosen)
        if not similar:
            st.caption(_("Nothing similar found."))
        for practice_id, title, score in similar:
            share = i18n.format_percent(score)
            st.markdown(f"[{md_escape(title)}](/radar?practice={practice_id}) · {share}")
        st.caption(_("Already exists? Consider joining or reusing it instead of duplicating."))
    else:
        st.caption(_("Give a title and a summary to see practices like yours."))

save, submit = st.columns(2)
save_clicked = save.button(_("Save draft"), disabled=published, icon=":material/save:")
submit_clicked = submit.button(
    _("Submit changes for review") if published else _("Submit for review"),
    type="primary",
    icon=":material/send:",
)
forms.error_summary(practice_form.FORM, practice_form.labels())

if save_clicked or submit_clicked:
    model = PracticeCreate if submit_clicked else PracticeDraft
    try:
        data = model(**practice_form.values())
        with db.session_scope() as session:
            if submit_clicked:
                saved = practices.submit_practice(
                    session=session, data=data, actor=user, practice_id=chosen or None
                )
            else:
                saved = practices.save_draft(
                    session=session, data=data, actor=user, practice_id=chosen or None
                )
            saved_id = saved.id
    except (ValidationError, FieldError) as error:
        forms.show_errors_and_rerun(
            practice_form.FORM, field_errors(error), model=model, values=practice_form.values()
        )
    except PermissionDenied as denied:  # left the organisation in another window meanwhile
        forms.show_errors_and_rerun(practice_form.FORM, {"form": str(denied)})
    forms.clear_errors(practice_form.FORM)
    st.session_state["register_message"] = (
        _("Submitted for review. A coordinator will look at it soon.")
        if submit_clicked
        else _("Draft saved.")
    )
    st.session_state["register_next"] = saved_id
    st.rerun()
