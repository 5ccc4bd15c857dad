"""Freshness on the pages: the "may be outdated" badge, the archived notice, the one-click
confirmation, and the count of a detail page's views."""

from datetime import datetime

import streamlit as st

from dhu_core import db, freshness, i18n, overview
from dhu_core.accounts import PermissionDenied
from dhu_core.i18n import N_, _
from dhu_core.models import PracticePublic, StateConflict, User, is_listed

OUTDATED = N_("May be outdated")
_MESSAGE = "freshness_message"
_COUNTED = "freshness_views_counted"


def day(moment: datetime | None) -> str:
    """A date as people read it: 3 March 2026, 3. März 2026."""
    if not moment:
        return "—"
    if i18n.current() == i18n.DEFAULT:
        return f"{moment.day} {moment:%B %Y}"
    return i18n.format_date(moment, form="long")


def outdated_badge(last_confirmed_at: datetime | None) -> None:
    """The "may be outdated" badge, for a practice not confirmed for the reminder period."""
    if freshness.may_be_outdated(last_confirmed_at):
        st.badge(_(OUTDATED), icon=":material/history:", color="orange")


def confirmed_line(practice: PracticePublic) -> str:
    """When the practice was last confirmed as current, as a line of text."""
    on = day(practice.last_confirmed_at)
    return ":material/verified: " + _("Last confirmed as current on {date}").format(date=on)


def status_line(practice: PracticePublic) -> None:
    """When the practice was last confirmed, with the badge when that is long ago."""
    confirmed = confirmed_line(practice)
    if is_listed(practice.status) and freshness.may_be_outdated(practice.last_confirmed_at):
        months = freshness.Periods.configured().reminder_months
        st.caption(
            _("{confirmed}, more than {months} months ago").format(
                confirmed=confirmed, months=months
            )
        )
        outdated_badge(practice.last_confirmed_at)
    else:
        st.caption(confirmed)


def archived_notice(practice: PracticePublic) -> None:
    """What an archived practice's page says above everything else."""
    st.warning(
        _(
            "**This practice is archived** (since {date}): its organisation did not confirm "
            "after a reminder that it is still current, so it is no longer listed in the "
            "catalogue, counted on the uptake map or suggested for twinning. Its details below "
            "may be out of date. Its organisation or a coordinator can restore it with one "
            "confirmation."
        ).format(date=day(practice.archived_at)),
        icon=":material/inventory_2:",
    )


def confirm_button(practice_id: int, status: str, viewer: User, *, key: str) -> None:
    """ "Still current" (or "Restore") for whoever may confirm the practice; the outcome is
    shown after the page reruns."""
    if (message := st.session_state.get(_MESSAGE)) and message[0] == practice_id:
        st.session_state.pop(_MESSAGE)
        (st.success if message[1] else st.error)(message[2])
    restore = status == "archived"
    clicked = st.button(
        _("Restore: it is current") if restore else _("Confirm it is still current"),
        key=key,
        icon=":material/unarchive:" if restore else ":material/verified:",
        type="primary" if restore else "secondary",
    )
    if clicked:
        st.session_state[_MESSAGE] = (practice_id, *_confirm(practice_id, viewer, restore))
        st.rerun()


def _confirm(practice_id: int, viewer: User, restore: bool) -> tuple[bool, str]:
    try:
        with db.session_scope() as session:
            freshness.confirm(session=session, practice_id=practice_id, actor=viewer)
    except (PermissionDenied, StateConflict, LookupError) as error:
        return False, str(error)
    if restore:
        return True, _("Restored: the practice is listed again, confirmed as current today.")
    return True, _("Confirmed as current today. Thank you.")


def may_confirm(viewer: User | None, organisation_id: int) -> bool:
    """True when `viewer` may confirm the practices of `organisation_id`."""
    if viewer is None:
        return False
    with db.read_scope() as session:
        return freshness.can_confirm(session, viewer, organisation_id)


def count_view(practice: PracticePublic, viewer: User | None) -> None:
    """Count the opening of a practice's detail page once per browser session (reruns of the
    page, such as a click on a button, are no new view)."""
    counted = st.session_state.setdefault(_COUNTED, set())
    if practice.id in counted:
        return
    counted.add(practice.id)
    overview.record_view(
        practice_id=practice.id,
        owner_organisation_id=practice.owner_organisation_id,
        viewer=viewer,
    )
