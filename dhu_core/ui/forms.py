"""Form helpers: messages next to their field, kept across reruns until the next submit."""

import streamlit as st


def errors(form: str) -> dict[str, str]:
    """The field messages of `form` from its last submit."""
    return st.session_state.get(f"_errors_{form}", {})


def show_errors_and_rerun(form: str, messages: dict[str, str]) -> None:
    """Keep `messages` for the next run of `form` and rerun so they show next to the fields."""
    st.session_state[f"_errors_{form}"] = messages
    st.rerun()


def clear_errors(form: str) -> None:
    """Forget the messages of `form` (after a successful submit)."""
    st.session_state.pop(f"_errors_{form}", None)


def field_error(form: str, field: str) -> None:
    """The message for `field`, if any, right under its widget."""
    message = errors(form).get(field)
    if message:
        st.error(message[0].upper() + message[1:], icon=":material/error:")


def error_summary(form: str, labels: dict[str, str]) -> None:
    """Next to the button that was pressed: which fields need a correction, by their labels,
    and the message about the whole form (key "form"), if any."""
    field_error(form, "form")
    named = [
        labels.get(field, field.replace("_", " ")) for field in errors(form) if field != "form"
    ]
    if named:
        st.error(
            f"Please correct {len(named)} field{'s' if len(named) > 1 else ''}: "
            + ", ".join(named),
            icon=":material/error:",
        )


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
