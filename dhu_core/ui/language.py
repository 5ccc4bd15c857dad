"""The interface language of a session: chosen from the menu on every page, kept in the address
(`?lang=de`) and remembered by the browser (a cookie), else the browser's own language."""

import json

import streamlit as st

from dhu_core import accounts, db, i18n, taxonomy
from dhu_core.i18n import _
from dhu_core.ui import auth

#: The address's parameter that names the language (a shared link opens in it).
QUERY = "lang"
#: The browser remembers the language chosen from the menu for a year.
COOKIE = "dhu_lang"
COOKIE_SECONDS = 365 * 24 * 3600
_CHOSEN = "dhu_language"
_MENU = "dhu_language_menu"

# The page's language on its <html> element (screen readers, hyphenation, translation tools)
# and, once chosen from the menu, in the browser's cookie.
_SCRIPT = """<script>
(() => {
  const language = %s;
  document.documentElement.lang = language;
  if (%s) {
    document.cookie = "%s=" + language + "; path=/; max-age=%d; SameSite=Lax";
  }
})();
</script>"""


def choose() -> str:
    """Set the language of this page run, and return it."""
    asked = st.query_params.get(QUERY)
    remembered = st.session_state.get(_CHOSEN) or st.context.cookies.get(COOKIE)
    language = i18n.chosen(asked=asked, remembered=remembered, browser=st.context.locale)
    if i18n.supported(asked) or i18n.supported(remembered):
        # Chosen, not guessed from the browser: it stays in the address of every page.
        st.session_state[_CHOSEN] = language
    i18n.use(language)
    keep_in_address()
    return language


def keep_in_address() -> None:
    """Put a chosen language back in the address (a page may have rewritten its parameters)."""
    language = st.session_state.get(_CHOSEN)
    if language and st.query_params.get(QUERY) != language:
        st.query_params[QUERY] = language


def menu() -> None:
    """The language menu at the top of the sidebar; choosing one redraws the page in it."""
    language = i18n.current()
    remember = st.session_state.pop(_MENU + "_changed", False)
    # The menu shows the page's language also when a link's `?lang=` changed it.
    st.session_state[_MENU] = language
    with st.sidebar:
        st.selectbox(
            _("Language"),
            options=list(i18n.LANGUAGES),
            format_func=i18n.LANGUAGES.__getitem__,
            key=_MENU,
            on_change=_switched,
        )
        st.html(
            _SCRIPT
            % (json.dumps(language), "true" if remember else "false", COOKIE, COOKIE_SECONDS),
            unsafe_allow_javascript=True,
        )


def _switched() -> None:
    language = st.session_state[_MENU]
    st.session_state[_CHOSEN] = language
    st.session_state[_MENU + "_changed"] = True
    st.query_params[QUERY] = language
    # A signed-in account keeps the choice: its e-mails are written in it from now on.
    user = auth.current_user()
    if user is not None:
        # Bookkeeping: no cached page shows an account's language.
        with db.session_scope(bookkeeping=True) as session:
            accounts.set_language(session=session, actor=user, language=language)


def written_in_badge(code: str) -> None:
    """A badge saying which language a practice or digest is written in, when it is not the
    interface's: its content is shown as written."""
    if code and code != i18n.current():
        label = taxonomy.LANGUAGES.label(code)
        st.badge(
            _("Written in {language}").format(language=label),
            icon=":material/translate:",
            color="gray",
        )
