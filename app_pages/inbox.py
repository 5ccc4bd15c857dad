"""Inbox: applications to twinning calls waiting for your organisation's answer, expressions of
interest addressed to your organisation (and, for coordinators, to the coordinators), and the
ones you sent."""

import streamlit as st

from dhu_core import db, exchange
from dhu_core.i18n import _, format_date, format_number, ngettext
from dhu_core.text import md_escape, md_escape_paragraphs
from dhu_core.ui import call_award_view, call_view, shell

user = shell.page_for_role("owner", "coordinator", "admin")
coordinator = user.role in exchange.COORDINATORS
st.title(_("Inbox"))

with db.read_scope() as session:
    received = exchange.inbox(session=session, actor=user)
    for_coordinators = (
        exchange.coordinators_inbox(session=session, actor=user) if coordinator else []
    )
    sent = exchange.sent(session=session, actor=user)


def about(item: exchange.InterestItem) -> str:
    """What an expression of interest is about, linking to a practice."""
    title = md_escape(item.about_title)
    if item.about == "practice":
        return _("the practice [{title}]({link})").format(
            title=title, link=f"/radar?practice={item.about_id}"
        )
    return _("the need “{title}”").format(title=title)


def show_received(items: list[exchange.InterestItem], *, addressee: bool) -> None:
    """Received expressions of interest, the unread ones marked New and with "Mark as read"."""
    unread = sum(item.read_at is None for item in items)
    st.caption(
        ngettext("{count} received", "{count} received", len(items)).format(
            count=format_number(len(items))
        )
        + " · "
        + ngettext("{count} unread", "{count} unread", unread).format(count=format_number(unread))
    )
    for item in items:
        with st.container(border=True):
            badge = ":blue-badge[{new}] ".format(new=_("New")) if item.read_at is None else ""
            organisation = (
                f" · {md_escape(item.sender_organisation)}" if item.sender_organisation else ""
            )
            st.markdown(
                f"{badge}**{md_escape(item.sender)}**{organisation} · "
                f"{md_escape(item.sender_email)}"
            )
            to = (
                ""
                if addressee
                else _("To **{organisation}**").format(
                    organisation=md_escape(item.recipient_organisation)
                )
                + " · "
            )
            st.caption(
                to
                + _("About {subject}").format(subject=about(item))
                + f" · {format_date(item.created_at)} {item.created_at:%H:%M} UTC"
            )
            st.markdown(md_escape_paragraphs(item.text))
            if item.read_at is None and st.button(_("Mark as read"), key=f"read-{item.id}"):
                with db.session_scope() as session:
                    exchange.mark_read(session=session, actor=user, interest_id=item.id)
                st.rerun()


if user.organisation_id is not None:
    call_view.waiting_answers(user)
    call_award_view.decisions_inbox(user)
    show_received(received, addressee=True)
elif not coordinator:
    st.info(_("Your account belongs to no organisation, so nothing can be addressed to it."))

if coordinator:
    st.subheader(_("Addressed to the coordinators"))
    st.caption(
        _(
            "Expressions of interest for organisations that have no member on the platform: "
            "nobody there can read them, so pass them on to the organisation's contact."
        )
    )
    show_received(for_coordinators, addressee=False)

st.subheader(_("Sent by you"))
if not sent:
    st.caption(_("Express interest in a need or a practice on the knowledge community's board."))
for item in sent:
    st.markdown(
        _("To **{organisation}**, about {subject}").format(
            organisation=md_escape(item.recipient_organisation), subject=about(item)
        )
        + f" · {format_date(item.created_at)}"
    )
