"""Escaping user text for Markdown, and small changes of shown text."""

from dhu_core.text import lower_first, md_escape, md_escape_paragraphs


def test_markdown_and_html_are_shown_literally():
    assert md_escape("<img src=x onerror=alert(1)>") == r"\<img src\=x onerror\=alert\(1\)\>"
    assert md_escape("**bold** [link](http://x) ![i](http://y)") == (
        r"\*\*bold\*\* \[link\]\(http\://x\) \!\[i\]\(http\://y\)"
    )


def test_latex_and_colour_directives_are_neutralised():
    assert md_escape("$x^2$ :red[alarm]") == r"\$x^2\$ \:red\[alarm\]"


def test_empty_text():
    assert md_escape(None) == ""
    assert md_escape("") == ""


def test_paragraphs_are_kept_and_each_escaped():
    assert md_escape_paragraphs("First *one*\r\n\r\nSecond [x](y)\n\n\n") == (
        "First \\*one\\*\n\nSecond \\[x\\]\\(y\\)"
    )


def test_only_the_first_letter_is_made_small():
    """A German noun inside a label keeps its capital ("je Million Einwohner")."""
    assert lower_first("Je Million Einwohner") == "je Million Einwohner"
    assert lower_first("Practices deployed") == "practices deployed"
    assert lower_first("") == ""
