"""Making user text safe to show: every user-given string passes through here before Markdown."""

import re

# CommonMark lets a backslash escape any ASCII punctuation; Streamlit adds $ (LaTeX) and
# :colour[...] directives, which the same escapes neutralise.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&\"'=])")


def md_escape(text: str | None) -> str:
    """`text` as literal Markdown: no formatting, links, images, HTML or LaTeX; one line."""
    if not text:
        return ""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
