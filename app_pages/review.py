"""Review: coordinators approve or reject submitted practices and edits of published ones,
requests to join organisations and claims of practices."""

import streamlit as st

from dhu_core import db, practices
from dhu_core.models import FieldError, StateConflict
from dhu_core.text import md_escape
from dhu_core.ui import claim_view, membership_view, practice_view, shell

coordinator = shell.page_for_role("coordinator", "admin")
st.title("Review")
if message := st.session_state.pop("review_message", None):
    st.success(message)

with st.expander("Requests to join an organisation", icon=":material/group_add:"):
    membership_view.join_requests_panel(coordinator)
claim_view.claims_panel(coordinator)
if message := st.session_state.pop("organisation_message", None):
    st.success(message)

with db.read_scope() as session:
    queue = practices.review_queue(session=session, actor=coordinator)
st.caption(f"{len(queue)} waiting, oldest first.")
if not queue:
    st.success("Nothing is waiting for review.", icon=":material/done_all:")

if not queue:
    st.stop()

chosen = st.selectbox(
    "Waiting for review",
    options=range(len(queue)),
    format_func=lambda i: (
        f"{queue[i].proposed.title} · "
        f"{'new practice' if queue[i].kind == 'new' else 'edit'} · {queue[i].submitted_at:%Y-%m-%d}"
    ),
)
item = queue[chosen]
key = f"{item.kind}-{item.practice_id}"
label = "New practice" if item.kind == "new" else "Edit of a published practice"
with st.container(border=True):
    st.caption(f"{label} · submitted {item.submitted_at:%Y-%m-%d %H:%M} UTC")
    practice_view.detail(item.proposed)
    if item.current is not None:
        changed = practices.changed_fields(item.current, item.proposed)
        st.markdown("**What the edit changes**")
        st.dataframe(
            {
                "field": list(changed),
                "published now": [str(old) for old, _ in changed.values()],
                "proposed": [str(new) for _, new in changed.values()],
            },
            hide_index=True,
        )
    with st.expander("History"), db.read_scope() as session:
        for event in practices.history(
            session=session, actor=coordinator, practice_id=item.practice_id
        ):
            st.caption(
                f"{event.at:%Y-%m-%d %H:%M} · {md_escape(event.actor_name or 'system')} · "
                f"{event.action}"
            )

approve, reject = st.columns([1, 2])
if approve.button("Approve", key=f"approve-{key}", type="primary", icon=":material/check:"):
    try:
        with db.session_scope() as session:
            practices.approve_practice(
                session=session, practice_id=item.practice_id, actor=coordinator
            )
    except StateConflict as conflict:
        approve.warning(str(conflict), icon=":material/sync_problem:")
    else:
        st.session_state["review_message"] = f"Approved: {md_escape(item.proposed.title)}"
        st.rerun()
with reject:
    reason = st.selectbox(
        "Reason for rejecting",
        options=practices.REJECTION_REASONS,
        index=None,
        placeholder="Choose a reason…",
        key=f"reason-{key}",
    )
    note = st.text_area("Note to the owner", key=f"note-{key}")
    if st.button("Reject", key=f"reject-{key}", icon=":material/close:"):
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
            st.error(str(error).capitalize())
        except StateConflict as conflict:
            st.warning(str(conflict), icon=":material/sync_problem:")
        else:
            st.session_state["review_message"] = f"Rejected: {md_escape(item.proposed.title)}"
            st.rerun()
