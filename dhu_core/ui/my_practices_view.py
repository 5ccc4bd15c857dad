""" "My practices": each practice of the organisation, with its status, freshness, views,
expressions of interest and twinnings, and the button that confirms it as current."""

import streamlit as st

from dhu_core import db, freshness, overview, taxonomy
from dhu_core.models import User
from dhu_core.text import md_escape
from dhu_core.ui import freshness_view, practice_view


def overview_of(user: User) -> list[overview.OwnedPractice]:
    """The lines of the overview for the user's organisation (read at every rerun: a
    confirmation shows at once)."""
    with db.read_scope() as session:
        return overview.my_practices(session=session, actor=user)


def show(user: User) -> None:
    """The whole overview, or what to do first when the account acts for no organisation."""
    if user.organisation_id is None:
        st.info(
            "Your account acts for no organisation yet: join one on My organisation.",
            icon=":material/groups:",
        )
        st.page_link("app_pages/organisation.py", label="My organisation")
        return
    lines = overview_of(user)
    periods = freshness.Periods.configured()
    st.caption(
        f"Views count the openings of each detail page in the last {overview.VIEW_DAYS} days "
        "by people outside your organisation. A practice not confirmed as current for "
        f"{periods.reminder_months} months may be outdated; {periods.archive_months} months "
        "after its last confirmation, and after a reminder, it is archived until you confirm it."
    )
    if not lines:
        st.info("Your organisation has no practice yet.", icon=":material/inventory_2:")
        st.page_link("app_pages/register.py", label="Register a practice")
        return
    for line in lines:
        _line(line, user)


def _line(line: overview.OwnedPractice, user: User) -> None:
    with st.container(border=True, key=f"my-practice-{line.id}"):
        if line.confirmable:
            practice_view.link(line.id, line.title)
        else:
            st.markdown(f"**{md_escape(line.title)}**")
        status = taxonomy.PRACTICE_STATUSES.label(line.status)
        if line.revision_pending:
            status += " · an edit waits for review"
        st.caption(f"Status: {status}")
        if line.confirmable:
            _freshness(line)
        views, interests, twinnings = st.columns(3)
        views.metric(f"Views, last {overview.VIEW_DAYS} days", f"{line.views:,}")
        interests.metric("Expressions of interest", f"{line.interests:,}")
        twinnings.metric("Twinnings", f"{line.twinnings:,}")
        if line.confirmable:
            freshness_view.confirm_button(line.id, line.status, user, key=f"confirm-{line.id}")


def _freshness(line: overview.OwnedPractice) -> None:
    confirmed = freshness_view.day(line.last_confirmed_at)
    if line.status == "archived":
        st.caption(
            f":material/inventory_2: Archived on {freshness_view.day(line.archived_at)}, "
            f"last confirmed on {confirmed}: not listed until you restore it."
        )
    elif line.may_be_outdated:
        st.caption(f":material/history: Last confirmed on {confirmed}")
        freshness_view.outdated_badge(line.last_confirmed_at)
    else:
        st.caption(f":material/verified: Last confirmed on {confirmed}")
