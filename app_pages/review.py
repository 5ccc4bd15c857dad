"""Review: coordinators approve or reject submitted practices and edits of published ones,
requests to join organisations and claims of practices."""

import streamlit as st

from dhu_core import db, i18n, practices
from dhu_core.i18n import _, ngettext
from dhu_core.models import FieldError, StateConflict
from dhu_core.text import md_escape
from dhu_core.ui import claim_view, membership_view, practice_form, practice_view, shell

coordinator = shell.page_for_role("coordinator", "admin")
st.title(_("Review"))
if message := st.session_state.pop("review_message", None):
    st.success(message)

with st.expander(_("Requests to join an organisation"), icon=":material/group_add:"):
    membership_view.join_requests_panel(coordinator)
claim_view.claims_panel(coordinator)
if message := st.session_state.pop("organisation_message", None):
    st.success(message)

with db.read_scope() as session:
    queue = practices.review_entries(session=session, actor=coordinator)
st.caption(
    ngettext("{count} waiting, oldest first.", "{count} waiting, oldest first.", len(queue)).format(
        count=i18n.format_number(len(queue))
    )
)
if not queue:
    st.success(_("Nothing is waiting for review."), icon=":material/done_all:")

if not queue:
    st.stop()

chosen = st.selectbox(
    _("Waiting for review"),
    options=range(len(queue)),
    format_func=lambda i: " · ".join(
        (
            queue[i].title,
            _("new practice") if queue[i].kind == "new" else _("edit"),
            i18n.format_date(queue[i].submitted_at),
        )
    ),
)
with db.read_scope() as session:
    item = practices.review_item(session=session, actor=coordinator, entry=queue[chosen])
key = f"{item.kind}-{item.practice_id}"
label = _("New practice") if item.kind == "new" else _("Edit of a published practice")
with st.container(border=True):
    st.caption(
        _("{kind} · submitted {date} {time} UTC").format(
            kind=label,
            date=i18n.format_date(item.submitted_at),
            time=f"{item.submitted_at:%H:%M}",
        )
    )
    practice_view.detail(item.proposed)
    if item.current is not None:
        changed = practices.changed_fields(item.current, item.proposed)
        st.markdown(_("**What the edit changes**"))
        st.dataframe(
            {
                _("field"): [_(practice_form.LABELS.get(name, name)) for name in changed],
                _("published now"): [str(old) for old, _new in changed.values()],
                _("proposed"): [str(new) for _old, new in changed.values()],
            },
            hide_index=True,
        )
    with st.expander(_("History")), db.read_scope() as session:
        for event in practices.history(
            session=session, actor=coordinator, practice_id=item.practice_id
        ):
            st.caption(
                f"{event.at:%Y-%m-%d %H:%M} · {md_escape(event.actor_name or _('system'))} · "
                f"{event.action}"
            )

approve, reject = st.columns([1, 2])
if approve.button(_("Approve"), key=f"approve-{key}", type="primary", icon=":material/check:"):
    try:
        with db.session_scope() as session:
            practices.approve_practice(
                session=session, practice_id=item.practice_id, actor=coordinator
            )
    except StateConflict as conflict:
        approve.warning(str(conflict), icon=":material/sync_problem:")
    else:
        st.session_state["review_message"] = _("Approved: {title}").format(
            title=md_escape(item.proposed.title)
        )
        st.rerun()
with reject:
    reason = st.selectbox(
        _("Reason for rejecting"),
        options=practices.REJECTION_REASONS,
        format_func=_,
        index=None,
        placeholder=_("Choose a reason…"),
        key=f"reason-{key}",
    )
    note = st.text_area(_("Note to the owner"), key=f"note-{key}")
    if st.button(_("Reject"), key=f"reject-{key}", icon=":material/close:"):
        try:
            with db.session_scope() as session:
                practices.reject_practice(
                    session=session,
                    practice_id=item.practice_id,
                    actor=coordinator,
                    reason=reason or "",
                    note=note,
                )
        except FieldError as error:
            message = str(error)  # capitalize() would lower-case the nouns of German
            st.error(message[:1].upper() + message[1:])
        except StateConflict as conflict:
            st.warning(str(conflict), icon=":material/sync_problem:")
        else:
            st.session_state["review_message"] = _("Rejected: {title}").format(
                title=md_escape(item.proposed.title)
            )
            st.rerun()
