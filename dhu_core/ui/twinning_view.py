"""The parts of the twinning page: needs, ranked candidates, twinnings, call allocation."""

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from dhu_core import chart_alternatives, charts, db, geo, matching, params, taxonomy, twinning
from dhu_core.accounts import PermissionDenied
from dhu_core.i18n import N_, _, format_date, format_number, format_percent, ngettext
from dhu_core.models import (
    NEED_TAG_FIELDS,
    FieldError,
    StateConflict,
    TwinningNeedCreate,
    User,
    field_errors,
)
from dhu_core.spreadsheet import XLSX_MIME
from dhu_core.text import lower_first, md_escape
from dhu_core.ui import cached, chart_view, forms, practice_view

NEED_FORM = "need"
WEIGHTS = "twinning_weights"
#: Session keys: the tags suggested from the words (kept until the need is stated), and those
#: waiting to be put into the form's fields on the next run.
SUGGESTED = "need_suggested"
SUGGESTING = "need_suggesting"
#: The need's fields whose tags are suggested from its words.
SUGGESTED_FIELDS = ("practice_types", "health_domains", "dhi_codes")


def _weights() -> dict[str, float]:
    return st.session_state.setdefault(WEIGHTS, dict(matching.DEFAULT_WEIGHTS))


def _done(message: str) -> None:
    st.session_state["twinning_message"] = message
    st.rerun()


def _need_label(need: matching.NeedProfile | twinning.NeedChoice) -> str:
    statement = need.problem_statement
    short = statement if len(statement) <= 90 else statement[:87] + "…"
    return f"{need.organisation} ({need.country}) · {short}"


# --- owners ------------------------------------------------------------------------------


def owner_needs(user: User) -> None:
    """The owner's needs, each with its ranked candidate practices."""
    with db.read_scope() as session:
        needs = twinning.own_needs(session=session, actor=user)
    if not needs:
        st.info(_("Your organisation has stated no need yet: use “State a need”."))
        return
    by_id = {n.id: n for n in needs}
    need_id = st.selectbox(
        _("Need"), options=list(by_id), format_func=lambda i: _need_label(by_id[i]), key="own_need"
    )
    _candidates(user, by_id[need_id], action=_("I am interested"))


NEED_LABELS = {
    "problem_statement": N_("Problem statement"),
    "country": N_("Country where it will be adopted"),
    "twinning_type": N_("Twinning type"),
    "timeline": N_("Timeline"),
    "practice_types": N_("Types of practice wanted"),
    "health_domains": N_("Health domains"),
    "dhi_codes": N_("WHO digital health interventions"),
    "languages": N_("Languages you work in"),
    "standards": N_("Standards already in place"),
}


def need_form(user: User) -> None:
    """State a need: what the organisation wants to take up, with messages next to fields."""
    if st.session_state.pop("need_stated", False):
        # Start the next need from an empty form: the one stated is under "My needs".
        for field in NEED_LABELS:
            st.session_state.pop(f"need_{field}", None)
    _fill_in_suggestions()
    forms.revalidate(NEED_FORM, _need_values())
    with st.form(NEED_FORM):
        st.text_area(
            _("Problem statement *"),
            key="need_problem_statement",
            help=_("What do you want to solve, for whom? At least 20 characters."),
        )
        forms.field_error(NEED_FORM, "problem_statement")
        suggest = st.form_submit_button(
            _("Suggest tags from my text"),
            icon=":material/auto_awesome:",
            help=_(
                "Health domains, WHO DHI categories and types of practice of the registered "
                "practices most like your words. They only count if you keep them."
            ),
        )
        left, right = st.columns(2)
        left.selectbox(
            _("Country where it will be adopted *"),
            options=list(geo.countries()),
            format_func=geo.country_name,
            index=None,
            key="need_country",
        )
        with left:
            forms.field_error(NEED_FORM, "country")
        right.radio(
            _("Twinning type *"),
            options=list(taxonomy.TWINNING_TYPES),
            format_func=taxonomy.TWINNING_TYPES.label,
            key="need_twinning_type",
        )
        right.text_input(
            _("Timeline"), key="need_timeline", placeholder=_("e.g. start in spring 2027")
        )
        for field, code_list in (
            ("practice_types", taxonomy.PRACTICE_TYPES),
            ("health_domains", taxonomy.HEALTH_DOMAINS),
            ("dhi_codes", taxonomy.DHI_CODES),
            ("languages", taxonomy.LANGUAGES),
            ("standards", taxonomy.STANDARDS),
        ):
            st.multiselect(
                _(NEED_LABELS[field]),
                options=list(code_list),
                format_func=lambda code, c=code_list: _tag_label(c, code),
                key=f"need_{field}",
            )
            _suggestion_note(field, code_list)
            forms.field_error(NEED_FORM, field)
        submitted = st.form_submit_button(_("State this need"), type="primary")
        forms.error_summary(NEED_FORM, {name: _(label) for name, label in NEED_LABELS.items()})
    if suggest:
        _suggest(st.session_state.need_problem_statement)
    if not submitted:
        return
    state = st.session_state
    values = _need_values()
    try:
        data = TwinningNeedCreate(**values)
        with db.session_scope() as session:
            twinning.create_need(
                session=session,
                actor=user,
                data=data,
                suggested=state.get(SUGGESTED, {}).get("codes"),
            )
    except (ValidationError, FieldError) as error:
        forms.show_errors_and_rerun(
            NEED_FORM, field_errors(error), model=TwinningNeedCreate, values=values
        )
    except PermissionDenied as denied:  # no organisation (any more) to state it for
        forms.show_errors_and_rerun(NEED_FORM, {"form": str(denied)})
    forms.clear_errors(NEED_FORM)
    st.session_state["need_stated"] = True
    state.pop(SUGGESTED, None)
    _done(_("Need stated. See the practices that fit it under “My needs”."))


def _need_values() -> dict:
    """What the need form holds now, as input for TwinningNeedCreate."""
    state = st.session_state
    return {
        "problem_statement": state.get("need_problem_statement"),
        "country": state.get("need_country") or "",
        "twinning_type": state.get("need_twinning_type"),
        "timeline": state.get("need_timeline"),
        **{f: state.get(f"need_{f}") for f in NEED_TAG_FIELDS.values()},
    }


def _tag_label(code_list: taxonomy.CodeList, code: str) -> str:
    """A tag as the need form shows it: DHI codes with their number."""
    label = code_list.label(code)
    return f"{code} {label}" if code_list is taxonomy.DHI_CODES else label


def _suggest(statement: str) -> None:
    """Suggest tags from the problem statement; the next run puts them into the fields."""
    suggested = twinning.suggest_need_tags(statement=statement, index=cached.matching_index())
    st.session_state[SUGGESTING] = suggested
    st.rerun()


def _fill_in_suggestions() -> None:
    """Add the tags just suggested to the fields (before the widgets exist, as Streamlit
    requires), next to what the adopter chose; remember them to label them."""
    suggested = st.session_state.pop(SUGGESTING, None)
    if suggested is None:
        return
    codes = {field: list(getattr(suggested, field)) for field in SUGGESTED_FIELDS}
    for field, new in codes.items():
        chosen = st.session_state.get(f"need_{field}", [])
        st.session_state[f"need_{field}"] = [*chosen, *(c for c in new if c not in chosen)]
    st.session_state[SUGGESTED] = {"codes": codes, "confidence": suggested.confidence}
    if not any(codes.values()):
        st.info(
            _(
                "No tags to suggest: no registered practice is close enough to these words. "
                "Describe the problem in more detail, or choose the tags yourself."
            ),
            icon=":material/auto_awesome:",
        )


def _suggestion_note(field: str, code_list: taxonomy.CodeList) -> None:
    """Under a field: which of its tags were suggested from the text, and how surely."""
    suggested = st.session_state.get(SUGGESTED)
    codes = suggested["codes"].get(field) if suggested else None
    if not codes:
        return
    shares = suggested["confidence"].get(field, {})
    listed = ", ".join(
        f"{md_escape(_tag_label(code_list, code))} {format_percent(shares.get(code, 0.0))}"
        for code in codes
    )
    st.caption(
        ":material/auto_awesome: "
        + _(
            "Suggested from your text, with the share of the most similar practices that have "
            "it: {listed}. Keep them or remove any that do not fit."
        ).format(listed=listed)
    )


# --- candidates --------------------------------------------------------------------------


def _candidates(user: User, need: matching.NeedProfile, *, action: str) -> None:
    """The ranked practices for `need`, each explained, with one action button."""
    weights = _weights()
    with db.read_scope() as session:
        suggestions = twinning.suggest_practices(
            session=session,
            actor=user,
            need_id=need.id,
            weights=weights,
            index=cached.matching_index(),
        )
    count = len(suggestions)
    st.caption(
        ngettext(
            "{count} best practice open for twinning, best first.",
            "{count} best practices open for twinning, best first.",
            count,
        ).format(count=format_number(count))
    )
    for rank, suggestion in enumerate(suggestions, start=1):
        practice = suggestion.practice
        with st.container(border=True):
            practice_view.link(
                practice.id,
                practice.title,
                note=" · "
                + _("score {score}").format(score=twinning.percent(suggestion.candidate.score)),
            )
            origin = geo.country_name(practice.country)
            st.caption(f"#{rank} · {md_escape(practice.organisation)}, {origin}")
            reasons, chart = st.columns([3, 2])
            reasons.markdown("\n".join(f"- {md_escape(reason)}" for reason in suggestion.reasons))
            rows = matching.breakdown_rows(suggestion.candidate, weights)
            with chart:
                st.vega_lite_chart(
                    spec=charts.in_language(charts.score_breakdown(rows)), width="stretch"
                )
                chart_view.alternative(chart_alternatives.score_breakdown(rows))
            if st.button(action, key=f"act-{need.id}-{practice.id}"):
                _act(user, need, suggestion)


def _act(user: User, need: matching.NeedProfile, suggestion: twinning.Suggestion) -> None:
    try:
        message = _shortlist_or_show_interest(user, need, suggestion)
    except (StateConflict, ValueError) as refusal:
        st.warning(str(refusal), icon=":material/sync_problem:")
    else:
        _done(message)


def _shortlist_or_show_interest(
    user: User, need: matching.NeedProfile, suggestion: twinning.Suggestion
) -> str:
    with db.session_scope() as session:
        if user.role in twinning.COORDINATORS:
            twinning.shortlist(
                session=session,
                actor=user,
                need_id=need.id,
                practice_id=suggestion.practice.id,
                score=suggestion.candidate.score,
                breakdown=suggestion.candidate.breakdown,
                source="candidates",
            )
            message = _("Shortlisted. Follow it under “Twinnings”.")
        else:
            twinning.express_interest(
                session=session,
                actor=user,
                need_id=need.id,
                practice_id=suggestion.practice.id,
                index=cached.matching_index(),
            )
            message = _("Your interest is recorded; a coordinator will follow up.")
    return message


# --- coordinators ------------------------------------------------------------------------


def coordinator_needs(user: User) -> None:
    """Open needs, filtered by country, organisation, progress and words, with the chosen
    need's ranked candidates to shortlist; the filter and the need are in the URL."""
    raw = {key: st.query_params.get_all(key) for key in st.query_params}
    query = _need_filter(twinning.NeedQuery.from_params(raw))
    with db.read_scope() as session:
        needs = twinning.find_need_choices(session=session, actor=user, query=query)
    chosen = params.known([params.last(raw.get("need"))], int)
    st.query_params.from_dict(
        {**_other_params(raw), **query.to_params(), **({"need": chosen[0]} if chosen else {})}
    )
    if not needs:
        st.info(_("No open need matches this filter."))
        return
    by_id = {n.id: n for n in needs}
    st.caption(
        ngettext("{count} open need matches.", "{count} open needs match.", len(needs)).format(
            count=format_number(len(needs))
        )
    )
    need_id = st.selectbox(
        _("Need"),
        options=list(by_id),
        index=list(by_id).index(chosen[0]) if chosen and chosen[0] in by_id else 0,
        format_func=lambda i: _need_label(by_id[i]),
        key="any_need",
    )
    st.query_params["need"] = need_id
    with db.read_scope() as session:
        need = next(iter(matching.load_needs(session, [need_id])), None)
    if need is None:  # closed since the list was read
        st.info(_("No open need matches this filter."))
        return
    st.markdown(md_escape(need.problem_statement))
    st.caption(
        _("{type} · timeline: {timeline}").format(
            type=taxonomy.TWINNING_TYPES.label(need.twinning_type),
            timeline=md_escape(need.timeline) or "—",
        )
    )
    _candidates(user, need, action=_("Shortlist"))


def _need_filter(current: twinning.NeedQuery) -> twinning.NeedQuery:
    """The filter widgets above the needs, started from the URL's filter."""
    organisations = cached.organisation_choices()
    text, country, organisation, progress = st.columns([3, 2, 3, 2])
    return twinning.NeedQuery(
        text=text.text_input(_("Words in the need or organisation"), value=current.text).strip(),
        countries=tuple(
            country.multiselect(
                _("Country"),
                options=list(geo.countries()),
                default=list(current.countries),
                format_func=geo.country_name,
            )
        ),
        organisation_ids=tuple(
            organisation.multiselect(
                _("Organisation"),
                options=list(organisations),
                default=[i for i in current.organisation_ids if i in organisations],
                format_func=organisations.get,
            )
        ),
        progress=progress.selectbox(
            _("Progress"),
            options=list(twinning.NEED_PROGRESS),
            index=list(twinning.NEED_PROGRESS).index(current.progress)
            if current.progress
            else None,
            format_func=lambda code: _(twinning.NEED_PROGRESS.label(code)),
            placeholder=_("Any"),
        ),
    )


def _other_params(raw: dict) -> dict:
    """URL parameters that are not the needs filter's (kept as they are)."""
    ours = {"need", "need_q", "need_country", "need_org", "need_progress"}
    return {key: value for key, value in raw.items() if key not in ours}


def twinnings(user: User) -> None:
    """The matches the user may see, the status of one changed with a note, and exports."""
    with db.read_scope() as session:
        entries = twinning.twinning_matches(session=session, actor=user)
    if not entries:
        st.info(_("No twinning yet."))
        return
    # Status and score first: on a narrow screen they stay in view, the long texts scroll.
    st.dataframe(
        pd.DataFrame(
            {
                "status": [taxonomy.MATCH_STATUSES.label(e.status) for e in entries],
                "score": [twinning.percent(e.score) for e in entries],
                "practice": [e.practice for e in entries],
                "adopter": [f"{e.adopter_organisation} ({e.adopter_country})" for e in entries],
                "originator": [
                    f"{e.originator_organisation} ({e.originator_country})" for e in entries
                ],
                "interest": [e.interest for e in entries],
                "updated": [e.updated_at.strftime("%Y-%m-%d") for e in entries],
            }
        ),
        hide_index=True,
        column_config={
            "status": st.column_config.TextColumn(_("Status"), pinned=True, width="small"),
            "score": st.column_config.TextColumn(_("Score"), width="small"),
            "practice": st.column_config.TextColumn(_("Practice"), width="medium"),
            "adopter": st.column_config.TextColumn(_("Adopter")),
            "originator": st.column_config.TextColumn(_("Originator")),
            "interest": st.column_config.CheckboxColumn(_("Interest shown")),
            "updated": st.column_config.TextColumn(_("Updated")),
        },
    )
    st.page_link(
        "app_pages/follow_up.py",
        label=_("Follow the agreed twinnings: milestones, reports and lessons learned"),
        icon=":material/flag:",
    )
    if user.role not in twinning.COORDINATORS:
        return
    _export(user)
    by_id = {e.id: e for e in entries}
    match_id = st.selectbox(
        _("Twinning to follow"),
        options=list(by_id),
        key="twinning_match",
        format_func=lambda i: (
            f"{by_id[i].practice} → {by_id[i].adopter_organisation} "
            f"({taxonomy.MATCH_STATUSES.label(by_id[i].status)})"
        ),
    )
    entry = by_id[match_id]
    if entry.status in taxonomy.TWINNING_STATUSES:
        st.page_link(
            "app_pages/follow_up.py",
            label=_("This twinning's follow-up"),
            query_params={"twinning": str(match_id)},
            icon=":material/flag:",
        )
    following = twinning.TRANSITIONS[entry.status]
    if following:
        with st.form(f"status-{match_id}"):
            status = st.selectbox(
                _("Next status"),
                options=following,
                format_func=taxonomy.MATCH_STATUSES.label,
                key="next_status",
            )
            note = st.text_area(_("Note"), key="status_note")
            if st.form_submit_button(_("Change status"), type="primary"):
                try:
                    with db.session_scope() as session:
                        twinning.set_match_status(
                            session=session,
                            actor=user,
                            match_id=match_id,
                            status=status,
                            note=note,
                            expected=entry.status,
                        )
                except FieldError as error:
                    st.error(_first_up(str(error)))
                except StateConflict as conflict:
                    st.warning(str(conflict), icon=":material/sync_problem:")
                else:
                    label = taxonomy.MATCH_STATUSES.label(status)
                    _done(_("Now {status}.").format(status=lower_first(label)))
    with st.expander(_("History")), db.read_scope() as session:
        for event in twinning.match_history(session=session, actor=user, match_id=match_id):
            actor = event.actor_name or _("system")
            st.caption(
                f"{format_date(event.at)} {event.at:%H:%M} · {md_escape(actor)} · "
                f"{md_escape(twinning.describe(event))}"
            )


def _first_up(message: str) -> str:
    """A service's message as a sentence: its first letter capital, the rest as written."""
    return message[:1].upper() + message[1:]


def _export(user: User) -> None:
    left, right = st.columns(2)
    for column, (fmt, label, mime) in zip(
        (left, right),
        (("csv", _("Twinnings as CSV"), "text/csv"), ("xlsx", _("Twinnings as XLSX"), XLSX_MIME)),
        strict=True,
    ):
        column.download_button(
            label,
            data=lambda fmt=fmt: _export_bytes(user, fmt),
            file_name=f"dhu-twinnings.{fmt}",
            mime=mime,
            on_click="ignore",
            key=f"twinnings-{fmt}",
        )


def _export_bytes(user: User, fmt: str) -> bytes:
    with db.read_scope() as session:
        return twinning.twinnings_export(session=session, actor=user, fmt=fmt)


def call_allocation(user: User) -> None:
    """Propose the best set of pairs for a call's places; accept them pair by pair."""
    places = st.number_input(_("Twinning places in the call"), min_value=1, max_value=500, value=8)
    if st.button(_("Propose an allocation"), type="primary"):
        with db.read_scope() as session:
            st.session_state["allocation"] = twinning.propose_allocation(
                session=session,
                actor=user,
                places=int(places),
                weights=_weights(),
                index=cached.matching_index(),
            )
    proposal = st.session_state.get("allocation")
    if proposal is None:
        return
    st.caption(
        ngettext(
            "{count} pair with the highest total score ({total}); each need at most once, each "
            "practice within its originator's free capacity.",
            "{count} pairs with the highest total score ({total}); each need at most once, each "
            "practice within its originator's free capacity.",
            len(proposal),
        ).format(
            count=format_number(len(proposal)),
            total=format_number(sum(p.candidate.score for p in proposal), decimals=2),
        )
    )
    for pair in proposal:
        with st.container(border=True):
            st.markdown(
                f"**{md_escape(pair.practice.title)}** ({md_escape(pair.practice.organisation)}, "
                f"{pair.practice.country}) → {md_escape(pair.need.organisation)} "
                f"({pair.need.country}) · "
                + _("score {score}").format(score=twinning.percent(pair.candidate.score))
            )
            if st.button(_("Accept this pair"), key=f"accept-{pair.need.id}-{pair.practice.id}"):
                try:
                    with db.session_scope() as session:
                        twinning.shortlist(
                            session=session,
                            actor=user,
                            need_id=pair.need.id,
                            practice_id=pair.practice.id,
                            score=pair.candidate.score,
                            breakdown=pair.candidate.breakdown,
                            source="allocation",
                        )
                except StateConflict as conflict:
                    st.warning(str(conflict), icon=":material/sync_problem:")
                else:
                    st.session_state["allocation"] = [p for p in proposal if p is not pair]
                    _done(_("Pair accepted and shortlisted."))


def weights_editor(user: User) -> None:
    """Adjust how much each criterion counts; save and load named profiles."""
    weights = _weights()
    with db.read_scope() as session:
        profiles = {
            p.name: p.weights for p in twinning.weight_profiles(session=session, actor=user)
        }
    chosen = st.selectbox(
        _("Load a profile"), options=[None, *profiles], format_func=lambda n: n or "—"
    )
    if chosen and st.button(_("Load")):
        weights.update(profiles[chosen])
        _done(_("Loaded the profile “{name}”.").format(name=chosen))
    columns = st.columns(3)
    for index, (criterion, label) in enumerate(matching.CRITERIA.items()):
        weights[criterion] = columns[index % 3].slider(
            _(label), 0.0, matching.MAX_WEIGHT, float(weights[criterion]), step=0.5
        )
    name = st.text_input(_("Save these weights as"))
    if st.button(_("Save profile")):
        try:
            with db.session_scope() as session:
                twinning.save_weight_profile(
                    session=session, actor=user, name=name, weights=weights
                )
        except FieldError as error:
            st.error(_first_up(str(error)))
        else:
            _done(_("Saved the profile “{name}”.").format(name=name.strip()))
