""" "My practices": each practice of the organisation, with its status, freshness, views,
expressions of interest and twinnings, and the button that confirms it as current."""

import streamlit as st

from dhu_core import db, freshness, i18n, overview, taxonomy
from dhu_core.i18n import _
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
            _("Your account acts for no organisation yet: join one on My organisation."),
            icon=":material/groups:",
        )
        st.page_link("app_pages/organisation.py", label=_("My organisation"))
        return
    lines = overview_of(user)
    periods = freshness.Periods.configured()
    st.caption(
        _(
            "Views count the openings of each detail page in the last {days} days by people "
            "outside your organisation. A practice not confirmed as current for {reminder} "
            "months may be outdated; {archive} months after its last confirmation, and after a "
            "reminder, it is archived until you confirm it."
        ).format(
            days=overview.VIEW_DAYS,
            reminder=periods.reminder_months,
            archive=periods.archive_months,
        )
    )
    if not lines:
        st.info(_("Your organisation has no practice yet."), icon=":material/inventory_2:")
        st.page_link("app_pages/register.py", label=_("Register a practice"))
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
            status += " · " + _("an edit waits for review")
        st.caption(_("Status: {status}").format(status=status))
        if line.confirmable:
            _freshness(line)
        views, interests, twinnings = st.columns(3)
        views.metric(
            _("Views, last {days} days").format(days=overview.VIEW_DAYS),
            i18n.format_number(line.views),
        )
        interests.metric(_("Expressions of interest"), i18n.format_number(line.interests))
        twinnings.metric(_("Twinnings"), i18n.format_number(line.twinnings))
        if line.confirmable:
            freshness_view.confirm_button(line.id, line.status, user, key=f"confirm-{line.id}")


def _freshness(line: overview.OwnedPractice) -> None:
    confirmed = freshness_view.day(line.last_confirmed_at)
    if line.status == "archived":
        st.caption(
            ":material/inventory_2: "
            + _(
                "Archived on {archived}, last confirmed on {confirmed}: not listed until you "
                "restore it."
            ).format(archived=freshness_view.day(line.archived_at), confirmed=confirmed)
        )
    elif line.may_be_outdated:
        st.caption(":material/history: " + _("Last confirmed on {day}").format(day=confirmed))
        freshness_view.outdated_badge(line.last_confirmed_at)
    else:
        st.caption(":material/verified: " + _("Last confirmed on {day}").format(day=confirmed))
