"""Views of a call's award: the coordinators' ranking, proposed award and award button
(`/calls?call=ID&tab=award`), the outcomes and exports; each applicant's decision on the call's
page and in the inbox."""

import pandas as pd
import streamlit as st

from dhu_core import db, twinning
from dhu_core.accounts import PermissionDenied
from dhu_core.calls import award, calls, exports
from dhu_core.models import CallPublic, FieldError, StateConflict, User
from dhu_core.spreadsheet import XLSX_MIME
from dhu_core.text import md_escape, md_escape_paragraphs
from dhu_core.ui import cached, forms

#: The value of the `tab` query parameter that opens a call's award view.
TAB = "award"
AWARD_FORM = "call_award"
AWARD_LABELS = {"awarded": "Awarded applications", "reserve": "Reserve list"}
NO_PLACE = 0


def link(call_id: int) -> None:
    """A link from a call's page to its award view (coordinators)."""
    st.page_link(
        "app_pages/calls.py",
        label="Ranking and award",
        icon=":material/emoji_events:",
        query_params={"call": str(call_id), "tab": TAB},
    )


def award_page(user: User | None, call_id: int) -> None:
    """The award view of a call: coordinators and administrators only."""
    if not calls.is_coordinator(user):
        st.warning("Only coordinators award a call.", icon=":material/lock:")
        return
    with db.read_scope() as session:
        try:
            call = calls.get_call(session=session, actor=user, call_id=call_id)
        except LookupError:
            st.warning("There is no call at this address.", icon=":material/search:")
            return
        found = free = None
        if calls.phase(call) == calls.CLOSED:
            found = award.ranking(
                session=session, actor=user, call_id=call_id, index=cached.matching_index()
            )
        decided = award.outcomes(session=session, actor=user, call_id=call_id)
        if call.awarded_at is not None:
            free = award.free_places(session, call)
    st.header(f"Award: {md_escape(call.title)}")
    st.page_link(
        "app_pages/calls.py", label="The call's page", icon=":material/arrow_back:",
        query_params={"call": str(call_id)},
    )  # fmt: skip
    if call.status != "published" or calls.phase(call) != calls.CLOSED:
        st.info(
            f"The call is awarded after it closes, on {call.closes_at:%d %B %Y at %H:%M} UTC.",
            icon=":material/schedule:",
        )
    elif call.awarded_at is None:
        ranking_table(found)
        award_form(user, call, found)
    else:
        st.success(f"Awarded on {call.awarded_at:%d %B %Y at %H:%M} UTC.")
        outcomes_table(decided)
        promotion(user, call, found, decided, free)
    downloads(user, call)


def _practices(entry: award.RankedApplication) -> str:
    return "; ".join(
        f"{f.title} ({'—' if f.matching is None else twinning.percent(f.matching)})"
        for f in entry.practices
    )


def ranking_table(found: award.Ranking) -> None:
    """The scored applications by consensus total, with the matching score of each confirmed
    practice beside it; the unscored ones apart."""
    st.subheader("Ranking")
    st.caption(
        "By the evaluators' consensus (0 to 100); beside it, each confirmed practice with the "
        "platform's matching score for the need (— when it is not open for twinning)."
    )
    if not found.ranked:
        st.info("No application has a consensus score yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Rank": entry.rank,
                        "Applicant": entry.organisation,
                        "Consensus": round(entry.total, 1),
                        "Practices (matching)": _practices(entry),
                        "Need": entry.need,
                    }
                    for entry in found.ranked
                ]
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "Rank": st.column_config.NumberColumn(width="small"),
                "Consensus": st.column_config.NumberColumn(width="small", format="%.1f"),
            },
        )
    if found.unscored:
        st.markdown("**Not yet scored** (they cannot be awarded until they have a consensus)")
        for entry in found.unscored:
            st.markdown(f"- {md_escape(entry.organisation)}: {md_escape(_practices(entry))}")


def award_form(user: User, call: CallPublic, found: award.Ranking) -> None:
    """The proposed award to adjust: a practice (or none) per application, the reserve list,
    and the Award button with its confirmation."""
    if not found.ranked:
        return
    proposal = award.proposal(found)
    state, prefix = st.session_state, f"award-{call.id}"
    # The consensus versions of the ranking the coordinator saw before clicking (the click
    # reruns the page, which reads the ranking anew).
    seen = state.get(f"{prefix}-seen", found.versions())
    state[f"{prefix}-seen"] = found.versions()
    st.subheader("Proposed award")
    st.caption(
        f"{call.places} places, {call.grant_per_place:,} {call.currency} each. Proposed in rank "
        "order within each originator's free capacity; change it as you decide."
    )
    names = {e.application_id: f"{e.rank}. {e.organisation}" for e in found.ranked}
    awarded = {}
    with forms.field(AWARD_FORM, "awarded"):
        for entry in found.ranked:
            titles = {NO_PLACE: "No place", **{f.practice_id: _fit(f) for f in entry.practices}}
            key = f"{prefix}-{entry.application_id}"
            state.setdefault(key, proposal.awarded.get(entry.application_id, NO_PLACE))
            chosen = st.selectbox(
                names[entry.application_id], options=list(titles), format_func=titles.get, key=key
            )
            if chosen != NO_PLACE:
                awarded[entry.application_id] = chosen
    st.caption(f"{len(awarded)} of {call.places} places awarded.")
    with forms.field(AWARD_FORM, "reserve"):
        key = f"{prefix}-reserve"
        state.setdefault(key, proposal.reserve)
        reserve = st.multiselect(
            "Reserve list, in order", options=list(names), format_func=names.get, key=key,
            help="A place that frees up goes to the reserve list in this order.",
        )  # fmt: skip
    sure = st.checkbox(
        "The award is final: every applicant gets its decision at once.", key=f"{prefix}-sure"
    )
    clicked = st.button("Award the call", type="primary", key=f"{prefix}-award", disabled=not sure)
    forms.error_summary(AWARD_FORM, AWARD_LABELS)
    if clicked:
        _award(user, call.id, awarded, reserve, seen)


def _fit(fit: award.PracticeFit) -> str:
    matching = "not open for twinning" if fit.matching is None else twinning.percent(fit.matching)
    return f"{fit.title} ({fit.originator}) · matching {matching} · free places {fit.free_capacity}"


def _award(user: User, call_id: int, awarded: dict, reserve: list, versions: dict) -> None:
    _run(
        lambda session: award.award(
            session=session,
            actor=user,
            call_id=call_id,
            awarded=awarded,
            reserve=reserve,
            expected=versions,
            index=cached.matching_index(),
        ),  # fmt: skip
        "The call is awarded: every applicant has its decision.",
    )


def _run(action, message: str) -> None:
    """Run one award step in a write transaction: a field's problem is shown next to it and
    summarised by the button, a refusal by the button; success reruns with `message`."""
    try:
        with db.session_scope() as session:
            action(session)
    except FieldError as error:
        # The messages name organisations and practices: user text.
        forms.show_errors_and_rerun(AWARD_FORM, {error.field: md_escape(str(error))})
    except (StateConflict, PermissionDenied, LookupError) as refusal:
        st.warning(str(refusal), icon=":material/sync_problem:")
    else:
        forms.clear_errors(AWARD_FORM)
        # The call page's message (call_view.MESSAGE), shown above it after the rerun.
        st.session_state["call_message"] = message
        st.rerun()


def outcomes_table(decided: list[award.Decision]) -> None:
    """Every application's outcome once the call is awarded."""
    st.subheader("Outcomes")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Outcome": d.outcome_label,
                    "Rank": d.rank,
                    "Reserve": d.reserve_position,
                    "Applicant": d.organisation,
                    "Practice": d.practice or "",
                    "Grant": f"{d.grant:,} {d.currency}" if d.grant else "",
                }
                for d in decided
            ]
        ),  # fmt: skip
        hide_index=True,
        width="stretch",
    )


def promotion(
    user: User,
    call: CallPublic,
    found: award.Ranking,
    decided: list[award.Decision],
    free: int,
) -> None:
    """A place freed by a declined awarded twinning, given to an application in reserve."""
    waiting = [d for d in decided if d.outcome == award.RESERVE]
    if not waiting or free <= 0:
        return
    st.subheader("Promote from the reserve list")
    st.caption(f"{free} place{'s' if free != 1 else ''} free: an awarded twinning was declined.")
    names = {d.application_id: f"{d.reserve_position}. {d.organisation}" for d in waiting}
    chosen = st.selectbox(
        "Application", options=list(names), format_func=names.get, key=f"promote-{call.id}"
    )
    fits = next(a.practices for a in found.ranked if a.application_id == chosen)
    titles = {f.practice_id: _fit(f) for f in fits}
    with forms.field(AWARD_FORM, "awarded"):
        practice_id = st.selectbox(
            "With the practice", options=list(titles), format_func=titles.get,
            key=f"promote-{call.id}-{chosen}",
        )  # fmt: skip
    clicked = st.button("Give it the place", key=f"promote-{call.id}-go")
    forms.error_summary(AWARD_FORM, {"awarded": "Practice"})
    if clicked:
        _run(
            lambda session: award.promote(
                session=session,
                actor=user,
                call_id=call.id,
                application_id=chosen,
                practice_id=practice_id,
                index=cached.matching_index(),
            ),  # fmt: skip
            f"{names[chosen].split('. ', 1)[1]} has the place and is told.",
        )


def downloads(user: User, call: CallPublic) -> None:
    """The call's applications, scores and awards as CSV and XLSX files."""
    st.subheader("Exports for reporting")
    for table in exports.TABLES:
        left, right = st.columns(2)
        for column, fmt, mime in ((left, "csv", "text/csv"), (right, "xlsx", XLSX_MIME)):
            column.download_button(
                f"{table.capitalize()} as {fmt.upper()}",
                data=lambda table=table, fmt=fmt: _export(user, call.id, table, fmt),
                file_name=f"dhu-call-{call.id}-{table}.{fmt}",
                mime=mime,
                on_click="ignore",
                key=f"call-{call.id}-{table}-{fmt}",
            )


def _export(user: User, call_id: int, table: str, fmt: str) -> bytes:
    with db.session_scope() as session:
        return exports.export(session=session, actor=user, call_id=call_id, table=table, fmt=fmt)


# --- decisions ----------------------------------------------------------------------------


def decision(found: award.Decision) -> None:
    """One decision with its consensus scores and comments (all user text escaped)."""
    with st.container(border=True):
        outcome = f"**{found.outcome_label}**"
        if found.rank:
            outcome += f" · rank {found.rank}"
        if found.reserve_position:
            outcome += f" · number {found.reserve_position} on the reserve list"
        if found.total is not None:
            outcome += f" · consensus score {found.total:.1f} of 100"
        st.markdown(outcome)
        if found.practice:
            grant = f", with a grant of {found.grant:,} {found.currency}" if found.grant else ""
            st.markdown(f"Your twinning with **{md_escape(found.practice)}** is agreed{grant}.")
        for score in found.scores:
            comment = f": {md_escape(score.comment)}" if score.comment else ""
            st.markdown(
                f"- **{md_escape(score.criterion)}** {md_escape(str(score.score))}{comment}"
            )
        if found.comment:
            st.markdown(md_escape_paragraphs(found.comment))
        st.caption(f"Decided on {found.decided_at:%d %B %Y}")


def own_decision(user: User, call_id: int) -> None:
    """The decision on the viewer's organisation's application to a call, once awarded."""
    with db.read_scope() as session:
        found = award.decisions(session=session, actor=user, call_id=call_id)
    for one in found:
        st.markdown("**Decision**")
        decision(one)


def decisions_inbox(user: User) -> None:
    """In the inbox: the decisions on the organisation's applications to twinning calls."""
    with db.read_scope() as session:
        found = award.decisions(session=session, actor=user)
    if not found:
        return
    st.subheader("Decisions on your applications to twinning calls")
    for one in found:
        st.page_link(
            "app_pages/calls.py", label=f"**{md_escape(one.call_title)}**",
            query_params={"call": str(one.call_id)},
        )  # fmt: skip
        decision(one)
