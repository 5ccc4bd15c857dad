"""The interface's languages: gettext catalogues managed by Babel.

Texts of the interface are marked in the code with `_("…")`, `ngettext(singular, plural, n)`
for counted ones, and `N_("…")` for texts defined when a module is imported (page titles, code
lists), which are translated where they are shown with `_(text)`. `pybabel extract` gathers them
into `dhu_core/locale/messages.pot`, and each language has its `.po` file under
`dhu_core/locale/<code>/LC_MESSAGES/` (see the README, "Languages"). A process reads and compiles
a catalogue in memory the first time a page needs it: there is no compile step to forget.
Adding a language is adding its `.po` file and its name to LANGUAGES.

The language of the page being drawn is held per thread of execution (a `ContextVar`): each
Streamlit session runs its page in a thread of its own, and sets it at the start of every run.
Anything else (background jobs, the API, e-mails to a stated language) uses the default unless it
calls `use()`. A cached function whose result holds translated text must take the language as an
argument, or it would serve one language's text to another.
"""

import contextvars
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from gettext import NullTranslations
from io import BytesIO
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
#: The language the code's texts are written in, and the one shown when nothing else fits.
DEFAULT = "en"
#: The interface's languages, each by its own name.
LANGUAGES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "it": "Italiano",
    "es": "Español",
}

_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT)


def supported(value: str | None) -> str | None:
    """The interface language `value` asks for ("de", "de-AT", "fr_CH"), or None if none."""
    if not value:
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def chosen(*, asked: str | None, remembered: str | None, browser: str | None) -> str:
    """The language of a page: the one its address asks for (`?lang=`), else the one chosen
    before in this browser, else the browser's own language, else English."""
    for candidate in (asked, remembered, browser):
        code = supported(candidate)
        if code:
            return code
    return DEFAULT


def use(language: str) -> None:
    """Draw what follows, in this thread, in `language` (the default if it is not one)."""
    _current.set(supported(language) or DEFAULT)


def current() -> str:
    """The language of what is being drawn in this thread."""
    return _current.get()


@contextmanager
def language(code: str) -> Iterator[None]:
    """Texts within the block in `code` (an e-mail in its reader's language, say)."""
    token = _current.set(supported(code) or DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


@functools.cache
def translations(code: str) -> NullTranslations:
    """The compiled catalogue of `code` (the texts as written for the default language)."""
    if code == DEFAULT or code not in LANGUAGES:
        return NullTranslations()
    with catalogue_path(code).open("rb") as po_file:
        catalogue = read_po(po_file, locale=code, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def catalogue_path(code: str) -> Path:
    """The `.po` file of language `code`."""
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def _(message: str) -> str:
    """`message` in the language of the page being drawn."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or the plural of a counted text, by the rules of the page's language."""
    return translations(current()).ngettext(singular, plural, count)


def N_(message: str) -> str:  # noqa: N802 (gettext's own name for the marker)
    """Mark `message` for translation where it is defined; `_()` translates it where shown."""
    return message


def format_number(value: float, *, decimals: int | None = None) -> str:
    """`value` written the way the page's language writes numbers (1,234 / 1.234 / 1 234)."""
    if decimals is None:
        return numbers.format_decimal(value, locale=current())
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return numbers.format_decimal(value, format=pattern, locale=current())


def format_percent(share: float) -> str:
    """A share (0.7) as the page's language writes a percentage ("70 %", "70%")."""
    return numbers.format_percent(share, locale=current())


def format_date(value: date | datetime, *, form: str = "medium") -> str:
    """A date with its year, the way the page's language writes it (1 Dec 2026, 01.12.2026)."""
    if isinstance(value, datetime):
        value = value.date()
    return dates.format_date(value, format=form, locale=current())


def chart_locale() -> dict:
    """How Vega-Lite writes a chart's numbers in the current language: its decimal mark and
    thousands separator, from Babel (a chart's `config.locale`)."""
    symbols = Locale.parse(current()).number_symbols["latn"]
    return {
        "number": {
            "decimal": symbols["decimal"],
            "thousands": symbols["group"],
            "grouping": [3],
            "currency": ["", "\u00a0€"],
        }
    }
