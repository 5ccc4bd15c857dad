"""AppTest of Register a practice: messages next to the fields, a summary next to the buttons,
and messages that go as soon as their field is valid."""

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button, Error

from dhu_core.ui import practice_form
from tests.apptest import APP, sign_in


@pytest.fixture
def register(embedded_app) -> AppTest:
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-owner")
    at.switch_page("app_pages/register.py").run()
    assert not at.exception
    return at


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _submit(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Submit for review").click().run()
    return at


def test_a_failed_submit_names_the_fields_to_correct_next_to_the_buttons(register):
    register.text_input(key="pf_title").input("ab").run()
    _submit(register)

    summary = _errors(register)[-1]
    assert summary == (
        "Please correct 5 fields: Title, Summary, Type of practice, Maturity, "
        "Countries of deployment"
    )
    assert "Title needs at least 3 characters" in _errors(register)
    # Right under the buttons: the next button or message after them is the summary.
    shown = [
        node.label if isinstance(node, Button) else node.value
        for node in register.main
        if isinstance(node, Button | Error)
    ]
    after = shown.index("Submit for review") + 1
    assert shown[after] == summary


def test_a_corrected_field_loses_its_message_without_another_click(register):
    register.text_input(key="pf_title").input("ab").run()
    _submit(register)
    assert "Title needs at least 3 characters" in _errors(register)

    register.text_input(key="pf_title").input("Heart failure telemonitoring").run()
    assert "Title needs at least 3 characters" not in _errors(register)
    assert "Summary needs at least 10 characters" in _errors(register)
    assert _errors(register)[-1].startswith("Please correct 4 fields: Summary,")

    # Still wrong after a change: the message follows the new value.
    register.text_area(key="pf_summary").input("Too short").run()
    assert "Summary needs at least 10 characters" in _errors(register)
    register.text_area(key="pf_summary").input("Nurses follow patients at home.").run()
    assert not [m for m in _errors(register) if m.startswith("Summary")]
    # Fields nobody touched keep their messages until the next click.
    assert "Choose the type of practice" in _errors(register)


def test_every_form_field_has_a_label_for_the_summary():
    assert list(practice_form.LABELS) == list(practice_form.KEYS)
    assert set(practice_form.REQUIRED) <= set(practice_form.LABELS)
