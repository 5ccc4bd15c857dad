"""Form helpers: messages next to their field, a summary next to the button, focus on the first
field to correct; a message goes as soon as its field is valid."""

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from pydantic import BaseModel, ValidationError

from dhu_core.i18n import _, ngettext
from dhu_core.models import field_errors

#: Numbers the failed submits, so that each one's focus script is new to the browser and runs.
_ATTEMPTS = itertools.count(1)


def errors(form: str) -> dict[str, str]:
    """The field messages of `form` from its last submit."""
    return st.session_state.get(f"_errors_{form}", {})


def show_errors_and_rerun(
    form: str,
    messages: dict[str, str],
    *,
    model: type[BaseModel] | None = None,
    values: dict | None = None,
) -> None:
    """Keep `messages` for the next run of `form` and rerun so they show next to the fields.

    Given the `model` that checked the submitted `values`, `revalidate` renews the messages as
    the fields change. The next `error_summary` moves the focus to the first field to correct.
    """
    state = st.session_state
    state[f"_errors_{form}"] = messages
    state[f"_submitted_{form}"] = (model, values) if model is not None else None
    state[f"_focus_{form}"] = next(_ATTEMPTS)
    st.rerun()


def clear_errors(form: str) -> None:
    """Forget the messages of `form` (after a successful submit)."""
    for name in ("errors", "submitted", "focus"):
        st.session_state.pop(f"_{name}_{form}", None)


def revalidate(form: str, values: dict) -> None:
    """Before `form` is drawn: check each field that has a message again with the model of the
    failed submit, so its message goes (or changes) as soon as its value does, without another
    click. A message from the service (about a value the model cannot judge) goes when that
    value is changed; the message about the whole form waits for the next click."""
    submitted = st.session_state.get(f"_submitted_{form}")
    messages = errors(form)
    if not submitted or not messages or values == submitted[1]:
        return
    model, before = submitted
    try:
        model(**values)
        now: dict[str, str] = {}
    except ValidationError as error:
        now = field_errors(error)
    renewed = dict(messages)
    for field in messages:
        if field == "form":
            continue
        if field in now:
            renewed[field] = now[field]
        elif values.get(field) != before.get(field):
            del renewed[field]
    st.session_state[f"_errors_{form}"] = renewed


@contextmanager
def field(form: str, name: str, label: str | None = None) -> Iterator[None]:
    """The widgets of one field of `form`, with its message right under them; the block is
    where `error_summary` moves the focus. Given its `label`, the message names the field
    (shell.PAGE_SCRIPT ties it to the field's control with aria-describedby)."""
    with st.container(key=_field_key(form, name)):
        yield
        field_error(form, name, label)


def field_error(form: str, field: str, label: str | None = None) -> None:
    """The message for `field`, if any, right under its widget; it starts with the field's
    `label` (without its required mark; by default the label `error_summary` last had for it)
    when it does not name the field already."""
    message = errors(form).get(field)
    if message:
        label = label or st.session_state.get(f"_labels_{form}", {}).get(field)
        st.error(named(message, label), icon=":material/error:")


def named(message: str, label: str | None) -> str:
    """`message` about a field, naming the field by its `label` if it does not already."""
    label = (label or "").removesuffix("*").strip()
    # A sentence, capitalised (German's "Nennen Sie …" needs it, after the label too).
    sentence = message[0].upper() + message[1:]
    if not label or label.lower() in message.lower():
        return sentence
    return _("{label}: {message}").format(label=label, message=sentence)


def error_summary(form: str, labels: dict[str, str]) -> None:
    """Next to the button that was pressed: which fields need a correction, by their labels,
    and the message about the whole form (key "form"), if any. Right after a failed submit,
    the focus moves to the first of those fields drawn with `field`."""
    # For the fields' messages in the next run, drawn before the summary.
    st.session_state[f"_labels_{form}"] = labels
    field_error(form, "form")
    messages = errors(form)
    wrong = [name for name in labels if name in messages]
    wrong += [name for name in messages if name not in labels and name != "form"]
    if wrong:
        named = list(dict.fromkeys(labels.get(name, name.replace("_", " ")) for name in wrong))
        st.error(
            ngettext(
                "Please correct {count} field: {fields}",
                "Please correct {count} fields: {fields}",
                len(named),
            ).format(count=len(named), fields=", ".join(named)),
            icon=":material/error:",
        )
    attempt = st.session_state.pop(f"_focus_{form}", None)
    if wrong and attempt:
        _focus(_field_key(form, wrong[0]), attempt)


def _field_key(form: str, name: str) -> str:
    return f"field-{form}-{name}"


#: Streamlit has no focus API: this script, run once after a failed submit, focuses the first
#: control of the field's block (and so scrolls it into view). It waits for the block to be
#: drawn, for at most two seconds.
_FOCUS_SCRIPT = """<script>
(() => {
  const selector = %s;
  const attempt = %d;
  const started = Date.now();
  const focus = () => {
    const block = document.querySelector(selector);
    const control = block && block.querySelector(
      "input:not([type=hidden]), textarea, [role=combobox], [tabindex='0']"
    );
    if (control) {
      control.focus();
      control.scrollIntoView({block: "center"});
    } else if (Date.now() - started < 2000) {
      setTimeout(focus, 50);
    }
  };
  setTimeout(focus, 0);
  return attempt;
})();
</script>"""


def _focus(key: str, attempt: int) -> None:
    selector = json.dumps(f".st-key-{key}").replace("</", "<\\/")
    st.html(_FOCUS_SCRIPT % (selector, attempt), unsafe_allow_javascript=True)


def keep(keys: list[str]) -> None:
    """Keep widget values across pages: Streamlit forgets a widget's state once it is not drawn.

    Call at the top of the page, before the widgets are drawn.
    """
    state = st.session_state
    for key in keys:
        kept = f"_kept_{key}"
        if key in state:
            state[kept] = state[key]
        elif kept in state:
            state[key] = state[kept]


def load(values: dict) -> None:
    """Put `values` into the widgets with those keys (before they are drawn)."""
    for key, value in values.items():
        st.session_state[key] = value
        st.session_state[f"_kept_{key}"] = value
