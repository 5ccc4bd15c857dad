"""The coordinators' part of the quick-capture page: complete a capture with its real owner."""

import streamlit as st
from pydantic import ValidationError

from dhu_core import db, geo, i18n, live, taxonomy
from dhu_core.i18n import N_, _, ngettext
from dhu_core.models import (
    CaptureOwner,
    FieldError,
    PracticeCreate,
    StateConflict,
    User,
    field_errors,
)
from dhu_core.text import md_escape
from dhu_core.ui import cached, forms, practice_form

OWNER_FORM = "capture-owner"
LISTED, NEW = "listed", "new"
#: CaptureOwner field -> label, for the summary next to the button.
OWNER_LABELS = {
    "organisation_id": N_("Organisation"),
    "organisation_name": N_("New organisation's name"),
    "organisation_country": N_("New organisation's country"),
}
state = st.session_state


def _when(capture: live.Capture) -> str:
    moment = capture.created_at
    if i18n.current() == i18n.DEFAULT:
        return f"{moment:%d %b %Y, %H:%M}"
    return f"{i18n.format_date(moment)}, {moment:%H:%M}"


def _owner_labels() -> dict[str, str]:
    return {name: _(label) for name, label in OWNER_LABELS.items()}


def owner_fields(form: str, key: str, country: str) -> dict:
    """Who owns the practice: an organisation of the list, or a new one registered now (its
    country starts as `country`); the values for CaptureOwner."""
    how = st.radio(
        _("Owner of the practice *"),
        options=[LISTED, NEW],
        format_func={LISTED: _("An organisation of the list"), NEW: _("A new organisation")}.get,
        horizontal=True,
        key=f"{key}_how",
    )
    if how == LISTED:
        choices = cached.organisation_choices()
        chosen = st.selectbox(
            _("Organisation *"),
            options=list(choices),
            format_func=choices.get,
            index=None,
            placeholder=_("Type to find the organisation…"),
            key=f"{key}_id",
        )
        forms.field_error(form, "organisation_id")
        return {"organisation_id": chosen}
    state.setdefault(f"{key}_country", country)
    name, kind, where = st.columns(3)
    with name:
        st.text_input(_("New organisation's name *"), key=f"{key}_name")
        forms.field_error(form, "organisation_name")
    with kind:
        st.selectbox(
            _("Type"),
            options=list(taxonomy.ORGANISATION_TYPES),
            format_func=taxonomy.ORGANISATION_TYPES.label,
            key=f"{key}_type",
        )
    with where:
        st.selectbox(
            _("New organisation's country *"),
            options=list(geo.countries()),
            format_func=geo.country_name,
            index=None,
            key=f"{key}_country",
        )
        forms.field_error(form, "organisation_country")
    return {
        "new": True,
        "organisation_name": state.get(f"{key}_name"),
        "organisation_type": state.get(f"{key}_type"),
        "organisation_country": state.get(f"{key}_country"),
    }


def _validated(owner: dict) -> tuple[PracticeCreate, CaptureOwner]:
    """The completed practice and its owner; every problem of both at once, else a rerun."""
    problems: dict[str, str] = {}
    data = whose = None
    try:
        data = PracticeCreate(**practice_form.values())
    except ValidationError as error:
        problems |= field_errors(error)
    try:
        whose = CaptureOwner(**owner)
    except ValidationError as error:
        problems |= field_errors(error)
    if problems:
        forms.show_errors_and_rerun(practice_form.FORM, problems)
    return data, whose


def completion(user: User) -> None:
    """Captures waiting: each completed with its owner and published, or discarded."""
    st.subheader(_("Captures to complete"))
    if message := state.pop("capture_message", None):
        st.success(message)
    with db.read_scope() as session:
        captures = {c.id: c for c in live.open_captures(session=session, actor=user)}
    st.caption(
        _(
            "Complete a capture with the owner's help: the organisation that owns the practice, "
            "chosen from the list or registered here, is its owner once published. Discard what "
            "is no practice."
        )
    )
    chosen = st.selectbox(
        _("Capture"),
        options=list(captures),
        format_func=lambda i: (
            f"{captures[i].title} · {geo.country_name(captures[i].country)} · "
            f"{captures[i].contact_email} · {_when(captures[i])}"
        ),
        index=None,
        placeholder=ngettext(
            "{count} waiting: choose one…", "{count} waiting: choose one…", len(captures)
        ).format(count=len(captures)),
        key="qc_complete",
    )
    if chosen is not None:
        _complete(user, captures[chosen])
    _published_without_owner(user)


def _complete(user: User, capture: live.Capture) -> None:
    if state.get("qc_loaded") != capture.id:
        with db.read_scope() as session:
            practice_form.load(
                live.capture_form(session=session, actor=user, practice_id=capture.id)
            )
        state["qc_loaded"] = capture.id
    practice_form.draw()
    st.subheader(_("6 · Owner"))
    owner = owner_fields(practice_form.FORM, "qc_owner", capture.country)
    publish, discard = st.columns(2)
    if publish.button(_("Publish"), type="primary", icon=":material/publish:"):
        data, whose = _validated(owner)
        try:
            with db.session_scope() as session:
                live.complete_capture(
                    session=session, actor=user, practice_id=capture.id, data=data, owner=whose
                )
        except FieldError as error:
            forms.show_errors_and_rerun(practice_form.FORM, field_errors(error))
        except StateConflict as conflict:
            publish.warning(str(conflict), icon=":material/sync_problem:")
            st.stop()
        forms.clear_errors(practice_form.FORM)
        _done(_("Published: {title}").format(title=md_escape(data.title)))
    with publish:
        forms.error_summary(practice_form.FORM, _owner_labels())
    if discard.button(_("Discard"), icon=":material/delete:"):
        try:
            with db.session_scope() as session:
                live.discard_capture(session=session, actor=user, practice_id=capture.id)
        except StateConflict as conflict:
            discard.warning(str(conflict), icon=":material/sync_problem:")
            st.stop()
        _done(_("Discarded: {title}").format(title=md_escape(capture.title)))


def _done(message: str) -> None:
    state["capture_message"] = message
    del state["qc_complete"]
    st.rerun()


def _published_without_owner(user: User) -> None:
    """Captures published before an owner was required: each gets its real owner here."""
    with db.read_scope() as session:
        waiting = {c.id: c for c in live.published_captures(session=session, actor=user)}
    if not waiting:
        return
    st.subheader(_("Published captures without their owner"))
    st.caption(
        _(
            "These captures were published while the workshop's holding organisation still "
            "stood as their owner. Give each the organisation that really owns it."
        )
    )
    chosen = st.selectbox(
        _("Published capture"),
        options=list(waiting),
        format_func=lambda i: f"{waiting[i].title} · {geo.country_name(waiting[i].country)}",
        index=None,
        placeholder=ngettext(
            "{count} without their owner: choose one…",
            "{count} without their owner: choose one…",
            len(waiting),
        ).format(count=len(waiting)),
        key="qc_unowned",
    )
    if chosen is None:
        return
    owner = owner_fields(OWNER_FORM, "qc_assign", waiting[chosen].country)
    if st.button(_("Give it this owner"), type="primary", icon=":material/domain:"):
        try:
            whose = CaptureOwner(**owner)
            with db.session_scope() as session:
                live.assign_capture_owner(
                    session=session, actor=user, practice_id=chosen, owner=whose
                )
        except (ValidationError, FieldError) as error:
            forms.show_errors_and_rerun(OWNER_FORM, field_errors(error))
        except StateConflict as conflict:
            st.warning(str(conflict), icon=":material/sync_problem:")
            st.stop()
        forms.clear_errors(OWNER_FORM)
        state["capture_message"] = _("Owner given: {title}").format(
            title=md_escape(waiting[chosen].title)
        )
        del state["qc_unowned"]
        st.rerun()
    forms.error_summary(OWNER_FORM, _owner_labels())
