"""Every text the pages give Streamlit is marked for translation (issue 16): a literal string (or
the literal part of an f-string) passed as the text, label, help or placeholder of a Streamlit
element in `app_pages/` or `dhu_core/ui/` is an English text no catalogue can translate.

The browser test of the German pages finds the catalogue's English left on a page; this one finds
the English that never reached the catalogue."""

import ast
import re

from tests.browser import ROOT

FOLDERS = ("app_pages", "dhu_core/ui")
#: Streamlit's elements that show a text given as their first argument or a keyword below.
ELEMENTS = {
    "title", "header", "subheader", "markdown", "caption", "info", "success", "warning", "error",
    "button", "text_input", "text_area", "selectbox", "multiselect", "radio", "checkbox",
    "toggle", "number_input", "date_input", "time_input", "slider", "select_slider", "expander",
    "metric", "page_link", "toast", "form_submit_button", "download_button", "link_button",
    "file_uploader", "pills", "segmented_control", "write", "popover", "tabs", "status",
    "spinner", "text", "column_config",
}  # fmt: skip
KEYWORDS = {"label", "help", "placeholder", "caption"}
#: Names written the same in every language (the product's, formats').
NAMES = set((ROOT / "tests" / "data" / "names_not_translated.txt").read_text().split())
_ICON = re.compile(r":material/[a-z_0-9]+:")
_WORD = re.compile(r"[A-Za-z]{2,}")
#: The target of a Markdown link to a page of the app: "](/radar?practice=".
_LINK = re.compile(r"\(/[\w/?=&-]*")


def _literal(node: ast.AST) -> str:
    """The literal text of an argument: a string, an f-string's fixed parts, a list's items."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.List | ast.Tuple):
        return " ".join(_literal(item) for item in node.elts)
    if isinstance(node, ast.BinOp):
        return _literal(node.left) + " " + _literal(node.right)
    return ""


def _english(text: str) -> bool:
    if text.startswith("app_pages/"):  # a page's file, for st.page_link and st.switch_page
        return False
    words = _WORD.findall(_LINK.sub(" ", _ICON.sub(" ", text)))
    return any(word not in NAMES for word in words)


def unmarked(source: str) -> list[tuple[int, str]]:
    """(line, text) of each literal English text given to a Streamlit element in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ELEMENTS:
            continue
        arguments = [*node.args[:1], *(k.value for k in node.keywords if k.arg in KEYWORDS)]
        for argument in arguments:
            text = _literal(argument)
            if _english(text):
                found.append((node.lineno, text))
    return found


def test_the_check_finds_literal_texts_and_leaves_marked_ones():
    source = """
st.title("Uptake map")
st.button(_("Save"), help="Keeps the draft")
st.markdown(f"**{name}** · due {day}")
st.caption(f"{count} · {share}")
st.page_link("app_pages/radar.py", label=_("RADAR"), icon=":material/radar:")
st.metric("RADAR", 3)
st.markdown(f"[{title}](/radar?practice={number}) · {share}")
"""
    assert unmarked(source) == [(2, "Uptake map"), (3, "Keeps the draft"), (4, "** ** · due ")]


def test_every_text_given_to_streamlit_is_marked():
    left = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            found = unmarked(path.read_text())
            if found:
                left[str(path.relative_to(ROOT))] = found
    report = "\n".join(f"{path}: {found[:5]}" for path, found in left.items())
    assert not left, f"texts not marked with _() (dhu_core/i18n.py):\n{report}"
