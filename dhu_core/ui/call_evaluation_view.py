"""Views of a call's evaluation: an evaluator's list and score form (/evaluation), and on a
closed call's page, for coordinators, the assignment controls, the disagreement between
evaluators and the consensus form."""

from collections.abc import Callable

import streamlit as st
from sqlmodel import Session

from dhu_core import db, geo, i18n
from dhu_core.accounts import PermissionDenied
from dhu_core.calls import evaluation
from dhu_core.calls.evaluation import ApplicationEvaluation, Mark, ScoreProblems
from dhu_core.i18n import _, ngettext
from dhu_core.models import SCORE_RANGE, CallPublic, FieldError, StateConflict, User, field_errors
from dhu_core.text import md_escape, md_escape_paragraphs
from dhu_core.ui import call_view, forms, shell

MESSAGE = "evaluation_message"
SCORE_FORM = "evaluation_scores"
CONFLICT_FORM = "evaluation_conflict"
LOW, HIGH = SCORE_RANGE


def _run(action: Callable[[Session], object], message: str, *, form: str, key: str) -> None:
    """Run one service call in a write transaction: field messages next to the fields, a
    refusal in a warning, success in `key`'s message after a rerun."""
    try:
        with db.session_scope() as session:
            action(session)
    except ScoreProblems as problems:
        forms.show_errors_and_rerun(form, {k: md_escape(v) for k, v in problems.errors.items()})
    except FieldError as error:
        forms.show_errors_and_rerun(form, {k: md_escape(v) for k, v in field_errors(error).items()})
    except (StateConflict, PermissionDenied, LookupError) as refusal:
        st.warning(str(refusal), icon=":material/sync_problem:")
    else:
        forms.clear_errors(form)
        st.session_state[key] = message
        st.rerun()


def _field(number: int) -> str:
    """A criterion's field name in a form (criteria names are free text)."""
    return f"criterion-{number}"


def _by_field(errors: dict[str, str], names: list[str]) -> dict[str, str]:
    fields = {name: _field(number) for number, name in enumerate(names)}
    return {fields.get(name, name): message for name, message in errors.items()}


def _marks_form(
    prefix: str, form: str, names: list[str], start: dict[str, Mark], guidance: list[str]
) -> dict[str, Mark]:
    """A score (0-5) and a comment for each criterion, started from `start` the first time."""
    state = st.session_state
    marks = {}
    for number, (name, hint) in enumerate(zip(names, guidance, strict=True)):
        score_key, comment_key = f"{prefix}-score-{number}", f"{prefix}-comment-{number}"
        if score_key not in state:
            state[score_key] = start.get(name, Mark(None, "")).score
            state[comment_key] = start.get(name, Mark(None, "")).comment
        with st.container(border=True), forms.field(form, _field(number)):
            st.markdown(f"**{md_escape(name)}**")
            if hint:
                st.caption(md_escape(hint))
            score = st.number_input(
                _("Score of {criterion} ({low} to {high})").format(
                    criterion=md_escape(name), low=LOW, high=HIGH
                ),
                min_value=LOW, max_value=HIGH, step=1, key=score_key,
                placeholder=_("not scored yet"),
            )  # fmt: skip
            comment = st.text_area(
                _("Comment on {criterion}").format(criterion=md_escape(name)),
                key=comment_key, height=90,
                max_chars=evaluation.MAX_COMMENT,
            )  # fmt: skip
        marks[name] = Mark(None if score is None else int(score), comment)
    return marks


# --- the evaluator's page ------------------------------------------------------------------


def assignment_list(user: User) -> None:
    """The applications assigned to the evaluator, with how far their scoring is."""
    with db.read_scope() as session:
        assigned = evaluation.my_assignments(session=session, actor=user)
    if not assigned:
        st.info(_("No application is assigned to you now."), icon=":material/inbox:")
        return
    for item in assigned:
        with st.container(border=True):
            st.page_link(
                "app_pages/evaluation.py",
                label=f"**{md_escape(item.organisation)}**",
                query_params={"application": str(item.application_id)},
            )
            done = _("submitted") if item.status == evaluation.SUBMITTED else _("to score")
            scored = ngettext(
                "{scored} of {count} criterion scored",
                "{scored} of {count} criteria scored",
                item.criteria,
            ).format(scored=item.scored, count=item.criteria)
            st.caption(f"{md_escape(item.call_title)} · {done} · {scored}")


def score_page(user: User, application_id: int) -> None:
    """One assigned application: what it says, and the evaluator's score form."""
    try:
        with db.read_scope() as session:
            sheet = evaluation.open_application(
                session=session, actor=user, application_id=application_id
            )
    except PermissionDenied as refusal:
        st.warning(str(refusal), icon=":material/block:")
        return
    found = sheet.application
    shell.tab_title(found.organisation, _("Evaluation"))
    st.header(md_escape(found.organisation))
    st.caption(
        _("{country} · application to {call}").format(
            country=geo.country_name(sheet.adopter_country), call=md_escape(sheet.call_title)
        )
    )
    st.subheader(_("The need"))
    st.markdown(md_escape_paragraphs(sheet.need))
    st.subheader(_("Motivation"))
    st.markdown(
        md_escape_paragraphs(found.motivation) or "_{none}_".format(none=_("No motivation given."))
    )
    st.subheader(_("Chosen practices"))
    for practice in found.practices:
        st.markdown(
            "- "
            + _("{practice} · originator {originator}: {answer}").format(
                practice=md_escape(practice.title),
                originator=md_escape(practice.originator),
                answer=call_view.answer_label(practice.status),
            )
        )
    st.subheader(_("Your scores"))
    if sheet.status == evaluation.SUBMITTED or sheet.settled:
        _read_only(sheet)
        return
    _score_form(user, application_id, sheet)
    _conflict_form(user, application_id)


def _read_only(sheet: evaluation.EvaluationSheet) -> None:
    st.info(
        _("The consensus is recorded: the scores are settled.")
        if sheet.settled
        else _("You submitted your scores: they are final."),
        icon=":material/lock:",
    )
    for criterion in sheet.criteria:
        mark = sheet.marks.get(criterion.name, Mark(None, ""))
        score = (
            _("not scored")
            if mark.score is None
            else _("{score} of {high}").format(score=mark.score, high=HIGH)
        )
        comment = md_escape(mark.comment) or _("no comment")
        st.markdown(f"- **{md_escape(criterion.name)}**: {score} · {comment}")


def _score_form(user: User, application_id: int, sheet: evaluation.EvaluationSheet) -> None:
    names = [c.name for c in sheet.criteria]
    st.caption(
        _(
            "Score every criterion from {low} to {high} and explain each score in a comment. "
            "Save a draft at any time; submitted scores are final."
        ).format(low=LOW, high=HIGH)
    )
    marks = _marks_form(
        f"eval-{application_id}",
        SCORE_FORM,
        names,
        sheet.marks,
        [c.guidance for c in sheet.criteria],
    )
    left, right = st.columns(2)
    save = left.button(_("Save draft"), key=f"eval-{application_id}-save")
    submit = right.button(
        _("Submit the scores"), type="primary", key=f"eval-{application_id}-submit"
    )
    forms.error_summary(SCORE_FORM, {_field(i): name for i, name in enumerate(names)})
    if save or submit:
        _run(
            lambda session: _save(session, user, application_id, marks, submit, names),
            _("Your scores are submitted.") if submit else _("Your draft is saved."),
            form=SCORE_FORM,
            key=MESSAGE,
        )


def _save(session, user, application_id, marks, submit, names) -> None:
    try:
        evaluation.save_scores(
            session=session, actor=user, application_id=application_id, marks=marks, submit=submit
        )
    except ScoreProblems as problems:
        raise ScoreProblems(_by_field(problems.errors, names)) from None


def _conflict_form(user: User, application_id: int) -> None:
    with st.expander(_("Declare a conflict of interest"), icon=":material/front_hand:"):
        st.caption(
            _(
                "If you cannot judge this application impartially, say why: it is taken from you "
                "and the coordinators see your reason."
            )
        )
        with forms.field(CONFLICT_FORM, "reason"):
            reason = st.text_area(
                _("Reason *"), key=f"conflict-{application_id}-reason",
                max_chars=evaluation.MAX_COMMENT,
            )  # fmt: skip
        if st.button(_("Declare the conflict"), key=f"conflict-{application_id}-declare"):
            _run(
                lambda session: evaluation.declare_conflict(
                    session=session, actor=user, application_id=application_id, reason=reason
                ),
                _("Your conflict of interest is declared: the application is no longer yours."),
                form=CONFLICT_FORM,
                key=MESSAGE,
            )


# --- the coordinators' section of a closed call ---------------------------------------------


def coordinator_section(user: User, call: CallPublic, message_key: str) -> None:
    """Assignments, disagreement and consensus for each submitted application of the call."""
    with db.read_scope() as session:
        found = evaluation.call_evaluation(session=session, actor=user, call_id=call.id)
        choices = {
            e.application_id: evaluation.evaluators(
                session=session, actor=user, application_id=e.application_id
            )
            for e in found
        }
    st.subheader(_("Evaluation"))
    short = sum(e.needs_evaluators for e in found)
    split = sum(e.disagreement for e in found)
    agreed = sum(e.consensus is not None for e in found)
    st.caption(
        ngettext(
            "{count} submitted application · {short} with fewer than {least} evaluators · "
            "{split} with disagreement · {agreed} with a consensus. Scores {spread} or more "
            "apart are flagged.",
            "{count} submitted applications · {short} with fewer than {least} evaluators · "
            "{split} with disagreement · {agreed} with a consensus. Scores {spread} or more "
            "apart are flagged.",
            len(found),
        ).format(
            count=len(found),
            short=short,
            least=evaluation.MIN_EVALUATORS,
            split=split,
            agreed=agreed,
            spread=evaluation.DISAGREEMENT_SPREAD,
        )
    )
    names = [c.name for c in call.criteria]
    for item in found:
        with st.container(border=True):
            _status(item)
            _assignments(user, item, choices[item.application_id], message_key)
            _disagreement(item)
            if item.ready_for_consensus:
                _consensus_form(user, item, names, call, message_key)


def _status(item: ApplicationEvaluation) -> None:
    badges = []
    if item.needs_evaluators:
        missing = evaluation.MIN_EVALUATORS - len(item.evaluators)
        needs = ngettext(
            "Needs {count} more evaluator", "Needs {count} more evaluators", missing
        ).format(count=missing)
        badges.append(f":orange-badge[{needs}]")
    if item.disagreement:
        badges.append(":red-badge[{text}]".format(text=_("Disagreement")))
    if item.consensus is not None:
        total = i18n.format_number(item.consensus.total)
        badges.append(
            ":green-badge[{text}]".format(text=_("Consensus {total} / 100").format(total=total))
        )
    st.markdown(f"**{md_escape(item.organisation)}** {' '.join(badges)}")
    evaluators = ", ".join(f"{md_escape(n)} ({_progress(s)})" for n, s in item.evaluators.items())
    st.caption(
        _("Evaluators: {evaluators} · {count} submitted").format(
            evaluators=evaluators or _("none yet"), count=item.submitted
        )
    )
    for name, reason in item.conflicts.items():
        st.caption(
            _("Conflict of interest declared by {name}: {reason}").format(
                name=md_escape(name), reason=md_escape(reason)
            )
        )


def _progress(status: str) -> str:
    """An evaluator's progress on an application in words of the page's language."""
    return _("submitted") if status == evaluation.SUBMITTED else _("assigned")


def _assignments(
    user: User, item: ApplicationEvaluation, choices: list[evaluation.Evaluator], message_key: str
) -> None:
    if item.consensus is not None:
        return
    key = f"assign-{item.application_id}"
    form = f"assign-{item.application_id}"
    free = {e.id: e.username for e in choices if e.conflict is None}
    free = {i: name for i, name in free.items() if name not in item.evaluators}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left, forms.field(form, "evaluator_id"):
        chosen = st.selectbox(
            _("Evaluator to assign"), options=list(free), format_func=free.get, key=key,
            index=None, placeholder=_("Choose an evaluator"),
        )  # fmt: skip
    if right.button(_("Assign"), key=f"{key}-button", disabled=chosen is None):
        assigned = _("{name} is assigned.").format(name=md_escape(free[chosen]))
        change = (evaluation.assign, chosen, assigned)
        _change_assignment(user, item.application_id, *change, form=form, key=message_key)
    blocked = [f"{md_escape(e.username)} ({md_escape(e.conflict)})" for e in choices if e.conflict]
    if blocked:
        st.caption(_("Not available: {evaluators}").format(evaluators="; ".join(blocked)))
    for name, evaluator_id in item.evaluator_ids.items():
        if st.button(
            _("Unassign {name}").format(name=md_escape(name)),
            key=f"unassign-{item.application_id}-{evaluator_id}",
        ):
            unassigned = _("{name} is unassigned.").format(name=md_escape(name))
            change = (evaluation.unassign, evaluator_id, unassigned)
            _change_assignment(user, item.application_id, *change, form=form, key=message_key)


def _change_assignment(
    user: User, application_id: int, action, evaluator_id: int, message: str, **where: str
) -> None:
    """Assign or unassign (`action`) an evaluator of an application."""
    _run(
        lambda session: action(
            session=session, actor=user, application_id=application_id, evaluator_id=evaluator_id
        ),
        message,
        **where,
    )


def _disagreement(item: ApplicationEvaluation) -> None:
    """Each criterion's scores by evaluator, their spread and mean, flagged when far apart;
    a list rather than a table, so that it reads at 390 px too."""
    if not any(c.scores for c in item.criteria):
        return
    lines = []
    for criterion in item.criteria:
        scores = " · ".join(f"{md_escape(n)} {s}" for n, s in criterion.scores.items())
        flag = (
            " :red-badge[{text}]".format(text=_("Scores far apart"))
            if criterion.disagreement
            else ""
        )
        mean = "–" if criterion.mean is None else i18n.format_number(criterion.mean, decimals=1)
        lines.append(
            "- "
            + _(
                "**{criterion}** (weight {weight}): {scores} · spread {spread} · mean {mean}"
            ).format(
                criterion=md_escape(criterion.criterion),
                weight=i18n.format_number(criterion.weight),
                scores=scores or _("no scores yet"),
                spread=criterion.spread,
                mean=mean,
            )
            + flag
        )
    st.markdown("\n".join(lines))
    with st.expander(_("Evaluators' comments")):
        for criterion in item.criteria:
            for name, comment in criterion.comments.items():
                said = f"{md_escape(name)}: {md_escape(comment)}"
                st.markdown(f"**{md_escape(criterion.criterion)}** · {said}")


def _consensus_form(
    user: User, item: ApplicationEvaluation, names: list[str], call: CallPublic, message_key: str
) -> None:
    """The agreed scores, started from the recorded consensus or the evaluators' mean."""
    found = item.consensus
    if found is not None:
        start = {n: Mark(v["score"], v["comment"]) for n, v in found.scores.items()}
    else:
        start = {c.criterion: Mark(round(c.mean), "") for c in item.criteria if c.mean is not None}
    form = f"consensus-{item.application_id}"
    prefix = f"consensus-{item.application_id}"
    with st.expander(
        _("Change the consensus") if found else _("Record the consensus"), expanded=found is None
    ):
        marks = _marks_form(prefix, form, names, start, [c.guidance for c in call.criteria])
        overall_key = f"{prefix}-overall"
        if overall_key not in st.session_state:
            st.session_state[overall_key] = found.comment if found else ""
        with forms.field(form, "comment"):
            comment = st.text_area(
                _("Overall comment"), key=overall_key, max_chars=evaluation.MAX_COMMENT
            )
        pressed = st.button(_("Record the consensus"), type="primary", key=f"{prefix}-record")
        labels = {_field(i): name for i, name in enumerate(names)}
        labels["comment"] = _("Overall comment")
        forms.error_summary(form, labels)
    if pressed:
        _run(
            lambda session: _record(session, user, item, marks, comment, names),
            _("The consensus of {organisation} is recorded.").format(
                organisation=md_escape(item.organisation)
            ),
            form=form,
            key=message_key,
        )


def _record(session, user, item: ApplicationEvaluation, marks, comment, names) -> None:
    try:
        evaluation.record_consensus(
            session=session, actor=user, application_id=item.application_id, marks=marks,
            comment=comment, expected_version=item.consensus.version if item.consensus else None,
        )  # fmt: skip
    except ScoreProblems as problems:
        raise ScoreProblems(_by_field(problems.errors, names)) from None
