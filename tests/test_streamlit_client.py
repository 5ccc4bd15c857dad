"""The pieces of the browserless Streamlit session that `dhu bench-workshop`'s audience uses:
the messages it sends and what it reads from the messages it receives."""

import json

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from dhu_core.ui import streamlit_client as client
from dhu_core.ui.streamlit_client import Page, ProtocolError


def _delta(kind: str, **fields) -> ForwardMsg:
    """A delta that draws a new element of proto field `kind` with `fields`."""
    message = ForwardMsg()
    element = getattr(message.delta.new_element, kind)
    element.SetInParent()
    for name, value in fields.items():
        if isinstance(value, list):
            getattr(element, name).extend(value)
        else:
            setattr(element, name, value)
    return message


def _form_page() -> Page:
    """A page that received the run of a small form, as the server sends it."""
    page = Page()
    page.take(ForwardMsg(new_session={"page_script_hash": "main"}))
    page.take(ForwardMsg(navigation={"page_script_hash": "capture-hash"}))
    page.take(_delta("markdown", body="Register"))
    page.take(_delta("component_instance", id="$$ID-c-init", component_name="cookies"))
    page.take(_delta("text_input", id="$$ID-t-title", label="Title *", form_id="f"))
    page.take(
        _delta("selectbox", id="$$ID-s-country", label="Country *", options=["France", "Germany"])
    )
    page.take(_delta("button", id="$$ID-b-send", label="Send", is_form_submitter=True))
    page.take(ForwardMsg(script_finished=ForwardMsg.FINISHED_SUCCESSFULLY))
    return page


def test_the_stream_is_asked_for_at_the_apps_address_over_ws_or_wss():
    assert client.stream_url("http://127.0.0.1:8501") == "ws://127.0.0.1:8501/_stcore/stream"
    assert client.stream_url("https://dhu.example.org/") == "wss://dhu.example.org/_stcore/stream"


def test_the_first_run_names_the_page_by_its_path_as_the_frontend_does():
    message = BackMsg.FromString(
        client.rerun(url="http://127.0.0.1:8501/capture", page_name="capture")
    )

    assert message.WhichOneof("type") == "rerun_script"
    state = message.rerun_script
    assert (state.page_name, state.page_script_hash) == ("capture", "")
    assert list(state.widget_states.widgets) == []
    assert state.context_info.url == "http://127.0.0.1:8501/capture"
    assert state.context_info.HasField("is_embedded") and not state.context_info.is_embedded
    assert state.context_info.locale == "en-US"


def test_a_page_keeps_the_script_hash_the_widgets_by_label_and_the_texts_of_a_run():
    page = _form_page()

    assert page.page_script_hash == "capture-hash"
    assert set(page.widgets) == {"Title *", "Country *", "Send"}
    assert set(page.components) == {"cookies"}
    assert page.shows("Register") and not page.shows("Thank you")
    assert page.finished == ForwardMsg.FINISHED_SUCCESSFULLY


def test_a_sent_form_carries_texts_an_option_by_its_label_the_submit_trigger_and_json():
    page = _form_page()
    widgets = [
        page.widget("Title *", "A practice"),
        page.widget("Country *", "Germany"),
        page.widget("Send", True),
        client.widget_state("component_instance", page.components["cookies"], {}),
    ]
    state = BackMsg.FromString(
        client.rerun(url="u", page_script_hash=page.page_script_hash, widgets=widgets)
    ).rerun_script

    assert state.page_script_hash == "capture-hash" and state.page_name == ""
    sent = {w.id: (w.WhichOneof("value"), w) for w in state.widget_states.widgets}
    assert sent["$$ID-t-title"][1].string_value == "A practice"
    assert sent["$$ID-s-country"][1].string_value == "Germany"
    assert sent["$$ID-b-send"][0] == "trigger_value" and sent["$$ID-b-send"][1].trigger_value
    assert json.loads(sent["$$ID-c-init"][1].json_value) == {}


def test_an_option_the_select_box_does_not_offer_or_a_missing_widget_is_refused():
    page = _form_page()

    with pytest.raises(ProtocolError, match="no option 'Narnia'"):
        page.widget("Country *", "Narnia")
    with pytest.raises(ProtocolError, match="no widget labelled 'E-mail'"):
        page.widget("E-mail", "a@example.org")
    with pytest.raises(ProtocolError, match="no widget state"):
        page.widget("Send", "yes")


def test_a_new_run_forgets_the_texts_of_the_last_one_and_a_reference_is_resolved():
    page = _form_page()
    thanks = _delta("alert", body="Thank you!")
    thanks.hash = "thanks-hash"

    page.take(ForwardMsg(new_session={}))
    assert not page.shows("Register") and page.finished is None
    page.take(thanks)
    assert page.shows("Thank you!")
    page.take(ForwardMsg(new_session={}))
    page.take(ForwardMsg(ref_hash="thanks-hash"))
    assert page.texts == ["Thank you!"]
    with pytest.raises(ProtocolError, match="never received"):
        page.take(ForwardMsg(ref_hash="unknown"))


def test_an_exception_on_the_page_is_an_error_of_the_session():
    page = Page()

    with pytest.raises(ProtocolError, match="ValueError: broken"):
        page.take(_delta("exception", type="ValueError", message="broken"))
