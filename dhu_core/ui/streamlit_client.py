"""A Streamlit session without a browser, for load generators (`dhu bench-workshop`'s audience).

It speaks the protocol of the installed Streamlit's frontend (1.67) over `/_stcore/stream`, as
recorded from Chromium on `/capture`: the WebSocket asks for the subprotocol "streamlit" (its
second entry, the XSRF token, only matters for a signed-in user's cookie, so a visitor leaves it
out); the first message is a `rerun_script` BackMsg naming the page by its URL path
(`page_name`) with no widget states; the server answers with ForwardMsgs (`new_session`,
`navigation` naming the page's script hash, one `delta` per element) until `script_finished`.
Each later rerun names the page by that hash and carries the state of every widget drawn: a
text input's text and a select box's chosen option (its label as drawn, `string_value`) as
strings, a form's submit button as a trigger, a custom component's value as JSON.
No JavaScript runs here: nothing is drawn, no static file is loaded, a custom component
(an iframe in a browser) sends only the value it is given.
"""

import asyncio
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

STREAM_PATH = "/_stcore/stream"
SUBPROTOCOL = "streamlit"
#: What Chromium reported about itself on a phone-sized page of the recording.
CONTEXT = {"timezone": "UTC", "timezone_offset": 0, "locale": "en-US", "color_scheme": "light"}
_FINISHED = ForwardMsg.ScriptFinishedStatus
#: Elements whose text a page shows (their proto field holding it).
_TEXTS = {"markdown": "body", "alert": "body", "text": "body", "heading": "body"}


class ProtocolError(RuntimeError):
    """The server answered what a browser would not expect, or the page raised."""


def stream_url(base_url: str) -> str:
    """The WebSocket address of the app at `base_url` (http://host:port)."""
    scheme, rest = base_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}{STREAM_PATH}"


def rerun(
    *,
    url: str,
    page_name: str = "",
    page_script_hash: str = "",
    widgets: Iterable[WidgetState] = (),
) -> bytes:
    """The `rerun_script` BackMsg that asks for a run of the page at `url`: by its URL path
    (`page_name`) for the first run of a session, by its script hash afterwards."""
    message = BackMsg()
    state = message.rerun_script
    state.page_name = page_name
    state.page_script_hash = page_script_hash
    state.widget_states.widgets.extend(widgets)
    state.context_info.url = url
    state.context_info.is_embedded = False
    for name, value in CONTEXT.items():
        setattr(state.context_info, name, value)
    return message.SerializeToString()


def widget_state(kind: str, element: Any, value: Any) -> WidgetState:
    """The state a browser sends for the drawn `element` (of proto field `kind`) set to `value`:
    a text, an option of a select box (by its label as drawn), True for a submit button or any
    JSON value for a custom component."""
    state = WidgetState(id=element.id)
    if kind in ("text_input", "text_area"):
        state.string_value = value
    elif kind == "selectbox":
        if value not in element.options:
            raise ProtocolError(f"{element.label!r} offers no option {value!r}")
        state.string_value = value
    elif kind == "button" and value is True:
        state.trigger_value = True
    elif kind == "component_instance":
        state.json_value = json.dumps(value)
    else:
        raise ProtocolError(f"no widget state for a {kind} set to {value!r}")
    return state


@dataclass
class Page:
    """What the runs of a session have delivered so far: the page's script hash, its widgets
    (by label), its custom components (by name), the texts shown, how the last run ended."""

    page_script_hash: str = ""
    widgets: dict[str, tuple[str, Any]] = field(default_factory=dict)
    components: dict[str, Any] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    finished: int | None = None
    _seen: dict[str, ForwardMsg] = field(default_factory=dict, repr=False)

    def take(self, message: ForwardMsg) -> None:
        """Take one ForwardMsg into account (a reference to an earlier one included)."""
        kind = message.WhichOneof("type")
        if kind == "ref_hash":
            if message.ref_hash not in self._seen:
                raise ProtocolError(f"a reference to a message never received: {message.ref_hash}")
            message = self._seen[message.ref_hash]
            kind = message.WhichOneof("type")
        elif message.hash:
            self._seen[message.hash] = message
        if kind == "new_session":  # the start of each run
            self.finished, self.texts = None, []
        elif kind == "navigation" and message.navigation.page_script_hash:
            self.page_script_hash = message.navigation.page_script_hash
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            self._element(message.delta.new_element)
        elif kind == "script_finished":
            self.finished = message.script_finished

    def shows(self, text: str) -> bool:
        return any(text in shown for shown in self.texts)

    def widget(self, label: str, value: Any) -> WidgetState:
        """The state of the widget labelled `label` set to `value`."""
        if label not in self.widgets:
            raise ProtocolError(f"the page has no widget labelled {label!r}")
        kind, element = self.widgets[label]
        return widget_state(kind, element, value)

    def _element(self, element: Any) -> None:
        kind = element.WhichOneof("type")
        if kind is None:
            return
        inner = getattr(element, kind)
        if kind == "exception":
            raise ProtocolError(f"the page raised {inner.type}: {inner.message}")
        if kind == "component_instance":
            self.components[inner.component_name] = inner
        elif kind in _TEXTS:
            self.texts.append(getattr(inner, _TEXTS[kind]))
        elif getattr(inner, "id", "") and getattr(inner, "label", ""):
            self.widgets[inner.label] = (kind, inner)


class Session:
    """One browser tab's session of the app at `base_url`, over a WebSocket of its own."""

    def __init__(self, base_url: str, *, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.page = Page()
        self._socket = None

    async def __aenter__(self) -> "Session":
        from websockets.asyncio.client import connect

        self._socket = await connect(
            stream_url(self.base_url),
            subprotocols=[SUBPROTOCOL],
            origin=self.base_url,
            max_size=None,
            open_timeout=self.timeout,
            compression=None,
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._socket.close()

    async def run(self, message: bytes, *, until: Callable[[Page], bool] | None = None) -> Page:
        """Send `message` (a `rerun`) and take the ForwardMsgs until a run finished successfully
        and `until(page)` holds (a run may end early for a rerun that `st.rerun` asks for)."""
        await self._socket.send(message)
        self.page.finished = None
        async with asyncio.timeout(self.timeout):
            while True:
                forward = ForwardMsg()
                forward.ParseFromString(await self._socket.recv())
                self.page.take(forward)
                if self.page.finished == _FINISHED.FINISHED_WITH_COMPILE_ERROR:
                    raise ProtocolError("the page's script does not compile")
                if self.page.finished == _FINISHED.FINISHED_SUCCESSFULLY and (
                    until is None or until(self.page)
                ):
                    return self.page
