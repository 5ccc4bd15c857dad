"""Views of a call's award: the coordinators' ranking, proposed award and award button
(`/calls?call=ID&tab=award`), the outcomes and exports; each applicant's decision on the call's
page and in the inbox."""

import pandas as pd
import streamlit as st

from dhu_core import db, i18n
from dhu_core.accounts import PermissionDenied
from dhu_core.calls import award, calls, exports
from dhu_core.i18n import N_, _, ngettext
from dhu_core.models import CallPublic, FieldError, StateConflict, User
from dhu_core.spreadsheet import XLSX_MIME
from dhu_core.text import md_escape, md_escape_paragraphs
from dhu_core.ui import cached, forms

#: The value of the `tab` query parameter that opens a call's award view.
TAB = "award"
AWARD_FORM = "call_award"
AWARD_LABELS = {"awarded": N_("Awarded applications"), "reserve": N_("Reserve list")}
#: The tables a call exports, named on their download buttons.
TABLE_NAMES = {
    "applications": N_("Applications"),
    "scores": N_("Scores"),
    "awards": N_("Awards"),
}
NO_PLACE = 0


def link(call_id: int) -> None:
    """A link from a call's page to its award view (coordinators)."""
    st.page_link(
        "app_pages/calls.py",
        label=_("Ranking and award"),
        icon=":material/emoji_events:",
        query_params={"call": str(call_id), "tab": TAB},
    )


def award_page(user: User | None, call_id: int) -> None:
    """The award view of a call: coordinators and administrators only."""
    if not calls.is_coordinator(user):
        st.warning(_("Only coordinators award a call."), icon=":material/lock:")
        return
    with db.read_scope() as session:
        try:
            call = calls.get_call(session=session, actor=user, call_id=call_id)
        except LookupError:
            st.warning(_("There is no call at this address."), icon=":material/search:")
            return
        found = free = None
        if calls.phase(call) == calls.CLOSED:
            found = award.ranking(
                session=session, actor=user, call_id=call_id, index=cached.matching_index()
            )
        decided = award.outcomes(session=session, actor=user, call_id=call_id)
        if call.awarded_at is not None:
            free = award.free_places(session, call)
    st.header(_("Award: {title}").format(title=md_escape(call.title)))
    st.page_link(
        "app_pages/calls.py", label=_("The call's page"), icon=":material/arrow_back:",
        query_params={"call": str(call_id)},
    )  # fmt: skip
    if call.status != "published" or calls.phase(call) != calls.CLOSED:
        st.info(
            _("The call is awarded after it closes, on {moment} UTC.").format(
                moment=calls.moment_text(call.closes_at)
            ),
            icon=":material/schedule:",
        )
    elif call.awarded_at is None:
        ranking_table(found)
        award_form(user, call, found)
    else:
        st.success(_("Awarded on {moment} UTC.").format(moment=calls.moment_text(call.awarded_at)))
        outcomes_table(decided)
        promotion(user, call, found, decided, free)
    downloads(user, call)


def _practices(entry: award.RankedApplication) -> str:
    return "; ".join(
        f"{f.title} ({'—' if f.matching is None else i18n.format_percent(f.matching)})"
        for f in entry.practices
    )


def ranking_table(found: award.Ranking) -> None:
    """The scored applications by consensus total, with the matching score of each confirmed
    practice beside it; the unscored ones apart."""
    st.subheader(_("Ranking"))
    st.caption(
        _(
            "By the evaluators' consensus (0 to 100); beside it, each confirmed practice with "
            "the platform's matching score for the need (— when it is not open for twinning)."
        )
    )
    if not found.ranked:
        st.info(_("No application has a consensus score yet."))
    else:
        rank, consensus = _("Rank"), _("Consensus")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        rank: entry.rank,
                        _("Applicant"): entry.organisation,
                        consensus: round(entry.total, 1),
                        _("Practices (matching)"): _practices(entry),
                        _("Need"): entry.need,
                    }
                    for entry in found.ranked
                ]
            ),
            hide_index=True,
            width="stretch",
            column_config={
                rank: st.column_config.NumberColumn(width="small"),
                consensus: st.column_config.NumberColumn(width="small", format="%.1f"),
            },
        )
    if found.unscored:
        st.markdown(_("**Not yet scored** (they cannot be awarded until they have a consensus)"))
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
    st.subheader(_("Proposed award"))
    st.caption(
        ngettext(
            "{count} place, {grant} {currency} each. Proposed in rank order within each "
            "originator's free capacity; change it as you decide.",
            "{count} places, {grant} {currency} each. Proposed in rank order within each "
            "originator's free capacity; change it as you decide.",
            call.places,
        ).format(
            count=call.places,
            grant=i18n.format_number(call.grant_per_place),
            currency=call.currency,
        )
    )
    names = {e.application_id: f"{e.rank}. {e.organisation}" for e in found.ranked}
    awarded = {}
    with forms.field(AWARD_FORM, "awarded"):
        for entry in found.ranked:
            titles = {NO_PLACE: _("No place"), **{f.practice_id: _fit(f) for f in entry.practices}}
            key = f"{prefix}-{entry.application_id}"
            state.setdefault(key, proposal.awarded.get(entry.application_id, NO_PLACE))
            chosen = st.selectbox(
                names[entry.application_id], options=list(titles), format_func=titles.get, key=key
            )
            if chosen != NO_PLACE:
                awarded[entry.application_id] = chosen
    st.caption(
        ngettext(
            "{count} of {places} place awarded.",
            "{count} of {places} places awarded.",
            call.places,
        ).format(count=len(awarded), places=call.places)
    )
    with forms.field(AWARD_FORM, "reserve"):
        key = f"{prefix}-reserve"
        state.setdefault(key, proposal.reserve)
        reserve = st.multiselect(
            _("Reserve list, in order"), options=list(names), format_func=names.get, key=key,
            help=_("A place that frees up goes to the reserve list in this order."),
        )  # fmt: skip
    sure = st.checkbox(
        _("The award is final: every applicant gets its decision at once."), key=f"{prefix}-sure"
    )
    clicked = st.button(
        _("Award the call"), type="primary", key=f"{prefix}-award", disabled=not sure
    )
    forms.error_summary(AWARD_FORM, {name: _(label) for name, label in AWARD_LABELS.items()})
    if clicked:
        _award(user, call.id, awarded, reserve, seen)


def _fit(fit: award.PracticeFit) -> str:
    matching = (
        _("not open for twinning") if fit.matching is None else i18n.format_percent(fit.matching)
    )
    return _("{title} ({originator}) · matching {matching} · free places {free}").format(
        title=fit.title, originator=fit.originator, matching=matching, free=fit.free_capacity
    )


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
        _("The call is awarded: every applicant has its decision."),
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
    st.subheader(_("Outcomes"))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    _("Outcome"): _(d.outcome_label),
                    _("Rank"): d.rank,
                    _("Reserve"): d.reserve_position,
                    _("Applicant"): d.organisation,
                    _("Practice"): d.practice or "",
                    _("Grant"): _grant(d) if d.grant else "",
                }
                for d in decided
            ]
        ),  # fmt: skip
        hide_index=True,
        width="stretch",
    )


def _grant(found: award.Decision) -> str:
    return f"{i18n.format_number(found.grant)} {found.currency}"


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
    st.subheader(_("Promote from the reserve list"))
    st.caption(
        ngettext(
            "{count} place free: an awarded twinning was declined.",
            "{count} places free: an awarded twinning was declined.",
            free,
        ).format(count=free)
    )
    names = {d.application_id: f"{d.reserve_position}. {d.organisation}" for d in waiting}
    chosen = st.selectbox(
        _("Application"), options=list(names), format_func=names.get, key=f"promote-{call.id}"
    )
    fits = next(a.practices for a in found.ranked if a.application_id == chosen)
    titles = {f.practice_id: _fit(f) for f in fits}
    with forms.field(AWARD_FORM, "awarded"):
        practice_id = st.selectbox(
            _("With the practice"), options=list(titles), format_func=titles.get,
            key=f"promote-{call.id}-{chosen}",
        )  # fmt: skip
    clicked = st.button(_("Give it the place"), key=f"promote-{call.id}-go")
    forms.error_summary(AWARD_FORM, {"awarded": _("Practice")})
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
            _("{organisation} has the place and is told.").format(
                organisation=names[chosen].split(". ", 1)[1]
            ),
        )


def downloads(user: User, call: CallPublic) -> None:
    """The call's applications, scores and awards as CSV and XLSX files."""
    st.subheader(_("Exports for reporting"))
    for table in exports.TABLES:
        left, right = st.columns(2)
        for column, fmt, mime in ((left, "csv", "text/csv"), (right, "xlsx", XLSX_MIME)):
            column.download_button(
                _("{table} as {format}").format(
                    table=_(TABLE_NAMES.get(table, table)), format=fmt.upper()
                ),
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
        parts = [f"**{_(found.outcome_label)}**"]
        if found.rank:
            parts.append(_("rank {rank}").format(rank=found.rank))
        if found.reserve_position:
            parts.append(
                _("number {position} on the reserve list").format(position=found.reserve_position)
            )
        if found.total is not None:
            parts.append(
                _("consensus score {total} of 100").format(
                    total=i18n.format_number(found.total, decimals=1)
                )
            )
        st.markdown(" · ".join(parts))
        if found.practice:
            practice = md_escape(found.practice)
            st.markdown(
                _("Your twinning with **{practice}** is agreed, with a grant of {grant}.").format(
                    practice=practice, grant=_grant(found)
                )
                if found.grant
                else _("Your twinning with **{practice}** is agreed.").format(practice=practice)
            )
        for score in found.scores:
            comment = f": {md_escape(score.comment)}" if score.comment else ""
            st.markdown(
                f"- **{md_escape(score.criterion)}** {md_escape(str(score.score))}{comment}"
            )
        if found.comment:
            st.markdown(md_escape_paragraphs(found.comment))
        st.caption(_("Decided on {date}").format(date=_day(found.decided_at)))


def _day(moment) -> str:
    """A date as the page's language writes it (05 March 2026 in English)."""
    if i18n.current() == i18n.DEFAULT:
        return f"{moment:%d %B %Y}"
    return i18n.format_date(moment, form="long")


def own_decision(user: User, call_id: int) -> None:
    """The decision on the viewer's organisation's application to a call, once awarded."""
    with db.read_scope() as session:
        found = award.decisions(session=session, actor=user, call_id=call_id)
    for one in found:
        st.markdown("**{decision}**".format(decision=_("Decision")))
        decision(one)


def decisions_inbox(user: User) -> None:
    """In the inbox: the decisions on the organisation's applications to twinning calls."""
    with db.read_scope() as session:
        found = award.decisions(session=session, actor=user)
    if not found:
        return
    st.subheader(_("Decisions on your applications to twinning calls"))
    for one in found:
        st.page_link(
            "app_pages/calls.py", label=f"**{md_escape(one.call_title)}**",
            query_params={"call": str(one.call_id)},
        )  # fmt: skip
        decision(one)
