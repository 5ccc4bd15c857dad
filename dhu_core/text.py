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


def md_escape_paragraphs(text: str | None) -> str:
    """Like `md_escape`, keeping the blank-line paragraphs of longer text."""
    paragraphs = (md_escape(p) for p in str(text or "").replace("\r\n", "\n").split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def lower_first(text: str) -> str:
    """`text` with its first letter small, the rest as written ("Online-Termine" stays)."""
    return text[:1].lower() + text[1:]


def upper_first(text: str) -> str:
    """`text` with its first letter capital, the rest as written (a refusal as a sentence)."""
    return text[:1].upper() + text[1:]
