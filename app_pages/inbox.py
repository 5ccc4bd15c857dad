"""Inbox: applications to twinning calls waiting for your organisation's answer, expressions of
interest addressed to your organisation (and, for coordinators, to the coordinators), and the
ones you sent."""

import streamlit as st

from dhu_core import db, exchange
from dhu_core.text import md_escape, md_escape_paragraphs
from dhu_core.ui import call_award_view, call_view, shell

user = shell.page_for_role("owner", "coordinator", "admin")
coordinator = user.role in exchange.COORDINATORS
st.title("Inbox")

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
        return f"the practice [{title}](/radar?practice={item.about_id})"
    return f"the need “{title}”"


def show_received(items: list[exchange.InterestItem], *, addressee: bool) -> None:
    """Received expressions of interest, the unread ones marked New and with "Mark as read"."""
    unread = sum(item.read_at is None for item in items)
    st.caption(f"{len(items)} received · {unread} unread")
    for item in items:
        with st.container(border=True):
            badge = ":blue-badge[New] " if item.read_at is None else ""
            organisation = (
                f" · {md_escape(item.sender_organisation)}" if item.sender_organisation else ""
            )
            st.markdown(
                f"{badge}**{md_escape(item.sender)}**{organisation} · "
                f"{md_escape(item.sender_email)}"
            )
            to = "" if addressee else f"To **{md_escape(item.recipient_organisation)}** · "
            st.caption(f"{to}About {about(item)} · {item.created_at:%d %b %Y %H:%M} UTC")
            st.markdown(md_escape_paragraphs(item.text))
            if item.read_at is None and st.button("Mark as read", key=f"read-{item.id}"):
                with db.session_scope() as session:
                    exchange.mark_read(session=session, actor=user, interest_id=item.id)
                st.rerun()


if user.organisation_id is not None:
    call_view.waiting_answers(user)
    call_award_view.decisions_inbox(user)
    show_received(received, addressee=True)
elif not coordinator:
    st.info("Your account belongs to no organisation, so nothing can be addressed to it.")

if coordinator:
    st.subheader("Addressed to the coordinators")
    st.caption(
        "Expressions of interest for organisations that have no member on the platform: "
        "nobody there can read them, so pass them on to the organisation's contact."
    )
    show_received(for_coordinators, addressee=False)

st.subheader("Sent by you")
if not sent:
    st.caption("Express interest in a need or a practice on the knowledge community's board.")
for item in sent:
    st.markdown(
        f"To **{md_escape(item.recipient_organisation)}**, about {about(item)} · "
        f"{item.created_at:%d %b %Y}"
    )
