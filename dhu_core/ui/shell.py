"""The app shell: database start-up, sign-in, navigation per role and the demo banner."""

import functools
import gc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from pydantic import ValidationError

from dhu_core import demo_logins, errors, taxonomy
from dhu_core.bootstrap import DatabaseNotReady, prepare_database
from dhu_core.config import (
    UnsafeSetting,
    cookie_key,
    get_settings,
    settings_problems,
    trusted_proxies,
)
from dhu_core.i18n import N_, _
from dhu_core.models import User
from dhu_core.notifications import background
from dhu_core.text import md_escape
from dhu_core.ui import auth, cached, language

#: Shipped with the app: an icon given by name would be fetched from Google's font servers.
ICON = str(Path(__file__).parent / "assets" / "icon.png")
STYLESHEET = Path(__file__).parent / "assets" / "app.css"
VISITOR = "visitor"
#: Run once per browser tab, and again whenever Streamlit redraws part of the page:
#: - the sign-in cookie's component is an iframe of no height, which the Tab key stopped on with
#:   nothing to show (WCAG 2.4.7): out of the tab order;
#: - a form field's message (forms.field: the block `st-key-field-…` holds the control and the
#:   error under it) is tied to its control with aria-describedby and aria-invalid, which
#:   Streamlit cannot set (WCAG 3.3.1, 1.3.1); they go when the message does;
#: - a table (st.table) too wide or too long for its box scrolls by keyboard too (WCAG 2.1.1).
PAGE_SCRIPT = """<script>
(() => {
  if (window.dhuPageScript) return;
  window.dhuPageScript = true;
  const CONTROLS = "input:not([type=hidden]):not([type=radio]):not([type=checkbox]), textarea, "
    + "[role=radiogroup], [data-testid=stCheckbox] input";
  const frames = () => document.querySelectorAll("iframe[data-testid=stCustomComponentV1]")
    .forEach(frame => {
      if (frame.getBoundingClientRect().height < 1 && frame.tabIndex !== -1) frame.tabIndex = -1;
    });
  const describe = () => document.querySelectorAll("[class*='st-key-field-']").forEach(block => {
    const key = [...block.classList].find(name => name.startsWith("st-key-field-"));
    const id = "dhu-" + key.slice("st-key-".length) + "-error";
    // The message's text, without the name of its icon.
    const texts = block.querySelectorAll("[data-testid=stAlert] [data-testid=stMarkdownContainer]");
    const alert = [...texts].pop();
    if (alert && alert.id !== id) alert.id = id;
    block.querySelectorAll(CONTROLS).forEach(control => {
      const ids = (control.getAttribute("aria-describedby") || "").split(/\\s+/)
        .filter(token => token && token !== id);
      if (alert) ids.push(id);
      const described = ids.join(" ");
      if ((control.getAttribute("aria-describedby") || "") !== described) {
        if (described) control.setAttribute("aria-describedby", described);
        else control.removeAttribute("aria-describedby");
      }
      if (alert && control.getAttribute("aria-invalid") !== "true") {
        control.setAttribute("aria-invalid", "true");
        control.dataset.dhuInvalid = "true";
      } else if (!alert && control.dataset.dhuInvalid) {
        control.removeAttribute("aria-invalid");
        delete control.dataset.dhuInvalid;
      }
    });
  });
  const scrollers = () => document.querySelectorAll("[data-testid=stTable] > div")
    .forEach(box => {
      const scrolls = box.scrollWidth > box.clientWidth + 1
        || box.scrollHeight > box.clientHeight + 1;
      if (scrolls && box.tabIndex !== 0) box.tabIndex = 0;
      else if (!scrolls && box.hasAttribute("tabindex")) box.removeAttribute("tabindex");
    });
  let queued = false;
  const update = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; frames(); describe(); scrollers(); });
  };
  window.addEventListener("resize", update);
  new MutationObserver(update).observe(document.body, {
    childList: true, subtree: true, attributes: true,
    attributeFilter: ["aria-describedby", "aria-invalid"],
  });
  update();
})();
</script>"""
PLATFORM = "DHU Platform"


@dataclass(frozen=True)
class PageSpec:
    """A page of the app and who sees it in the menu."""

    path: str
    title: str
    icon: str
    url_path: str
    roles: frozenset[str]
    section: str = N_("Platform")
    #: Reached by links only (an invitation), never listed in the menu.
    hidden: bool = False
    #: A view for a projector: no demo banner above it (it says so itself, and hides the rest).
    full_screen: bool = False


EVERYONE = frozenset({VISITOR, "owner", "evaluator", "coordinator", "admin"})
SIGNED_IN = frozenset({"owner", "coordinator", "admin"})

PAGES = (
    PageSpec("app_pages/home.py", N_("Home"), ":material/home:", "", EVERYONE),
    PageSpec("app_pages/map.py", N_("Uptake map"), ":material/public:", "map", EVERYONE),
    PageSpec("app_pages/radar.py", N_("RADAR"), ":material/radar:", "radar", EVERYONE),
    PageSpec("app_pages/knowledge.py", N_("Knowledge"), ":material/menu_book:", "knowledge",
             EVERYONE),
    PageSpec("app_pages/live.py", N_("Live"), ":material/live_tv:", "live", EVERYONE,
             full_screen=True),
    PageSpec("app_pages/calls.py", N_("Twinning calls"), ":material/campaign:", "calls",
             EVERYONE),
    PageSpec("app_pages/capture.py", N_("Quick capture"), ":material/qr_code_2:", "capture",
             EVERYONE),
    PageSpec("app_pages/register.py", N_("Register a practice"), ":material/edit_note:", "register",
             frozenset({"owner"}), N_("Work")),
    PageSpec("app_pages/my_practices.py", N_("My practices"), ":material/inventory_2:",
             "my-practices", SIGNED_IN, N_("Work")),
    PageSpec("app_pages/twinning.py", N_("Twinning"), ":material/handshake:", "twinning",
             SIGNED_IN, N_("Work")),
    PageSpec("app_pages/evaluation.py", N_("Evaluation"), ":material/rate_review:", "evaluation",
             frozenset({"evaluator"}), N_("Work")),
    PageSpec("app_pages/follow_up.py", N_("Twinning follow-up"), ":material/flag:", "follow-up",
             SIGNED_IN, N_("Work")),
    PageSpec("app_pages/review.py", N_("Review"), ":material/fact_check:", "review",
             frozenset({"coordinator", "admin"}), N_("Work")),
    PageSpec("app_pages/admin.py", N_("Administration"), ":material/admin_panel_settings:", "admin",
             frozenset({"admin"}), N_("Work")),
    PageSpec("app_pages/sign_in.py", N_("Sign in"), ":material/login:", "sign-in",
             frozenset({VISITOR}), N_("Account")),
    PageSpec("app_pages/sign_up.py", N_("Create an account"), ":material/person_add:", "sign-up",
             frozenset({VISITOR}), N_("Account")),
    PageSpec("app_pages/account.py", N_("My account"), ":material/account_circle:", "account",
             SIGNED_IN | {"evaluator"}, N_("Account")),
    PageSpec("app_pages/organisation.py", N_("My organisation"), ":material/groups:",
             "organisation", SIGNED_IN, N_("Account")),
    PageSpec("app_pages/join.py", N_("Join an organisation"), ":material/group_add:", "join",
             EVERYONE, N_("Account"), hidden=True),
    PageSpec("app_pages/inbox.py", N_("Inbox"), ":material/inbox:", "inbox", SIGNED_IN,
             N_("Account")),
    PageSpec("app_pages/unsubscribe.py", N_("Unsubscribe"), ":material/unsubscribe:", "unsubscribe",
             EVERYONE, N_("Account"), hidden=True),
    PageSpec("app_pages/forgot_password.py", N_("Forgot password"), ":material/lock_reset:",
             "forgot-password", frozenset({VISITOR}), N_("Account"), hidden=True),
    PageSpec("app_pages/reset_password.py", N_("Set a new password"), ":material/lock_reset:",
             "reset-password", EVERYONE, N_("Account"), hidden=True),
    PageSpec("app_pages/about.py", N_("About"), ":material/info:", "about", EVERYONE, N_("About")),
    PageSpec("app_pages/help.py", N_("Help"), ":material/help:", "help", EVERYONE, N_("About")),
    PageSpec("app_pages/data_api.py", N_("Data and API"), ":material/api:", "data-and-api",
             EVERYONE, N_("About")),
    PageSpec("app_pages/privacy.py", N_("Privacy notice"), ":material/privacy_tip:", "privacy",
             EVERYONE, N_("About")),
    PageSpec("app_pages/accessibility.py", N_("Accessibility statement"),
             ":material/accessibility_new:", "accessibility", EVERYONE, N_("About")),
)  # fmt: skip
#: The pages linked from the footer of every page, with the footer's short labels.
FOOTER_LINKS = {
    "about": N_("About"),
    "help": N_("Help"),
    "data-and-api": N_("Data and API"),
    "privacy": N_("Privacy"),
    "accessibility": N_("Accessibility"),
}


@st.cache_resource(show_spinner="Preparing the database…")
def _prepared() -> bool:
    settings = get_settings()
    cookie_key(settings)
    trusted_proxies(settings)
    prepare_database(settings)
    background.start()
    cached.start_indexes()
    # The ~130,000 objects of the loaded libraries live as long as the server: keep them out
    # of CPython's full collections, which otherwise add ~60 ms to every few requests.
    gc.freeze()
    return True


def prepare() -> None:
    """Get the database and keys ready once per process; stop with a clear message if not.

    A database with enabled demo accounts is checked on every run, so disabling them (or a
    demo reset bringing them back) counts at once.
    """
    try:
        _prepared()
        demo_logins.check_exposure(
            server_address=st.get_option("server.address"),
            enabled=cached.enabled_demo_accounts(),
            settings=get_settings(),
        )
    except (DatabaseNotReady, UnsafeSetting) as error:
        st.error(str(error))
        st.stop()
    except ValidationError as error:
        st.error(settings_problems(error))
        st.stop()


def pages_for(role: str) -> list[PageSpec]:
    """The pages `role` can open (VISITOR when nobody is signed in); hidden ones are not listed
    in the menu."""
    return [spec for spec in PAGES if role in spec.roles]


def navigation(user: User | None):
    """The menu for this visitor's role, grouped in sections; returns the page to run.

    The pages of the other roles stay reachable by their URL, unlisted: a link to `/review`
    opened while signed out shows the sign-in form there (`page_for_role`), and a signed-in
    user of another role is told whom the page is for, instead of "Page not found".
    """
    role = user.role if user else VISITOR
    sections: dict[str, list] = {}
    for spec in PAGES:
        if role not in spec.roles and spec.roles <= {VISITOR}:
            continue
        sections.setdefault(_(spec.section), []).append(
            st.Page(
                spec.path,
                title=_(spec.title),
                icon=spec.icon,
                url_path=spec.url_path or None,
                default=not spec.url_path,
                visibility="visible" if role in spec.roles and not spec.hidden else "hidden",
            )
        )
    # Every page of the role in view: an administrator's dozen would otherwise end in
    # "View more", hiding My account and the Inbox.
    return st.navigation(sections, expanded=True)


def sidebar(user: User | None) -> None:
    """The language menu; who is signed in, and the sign-out button."""
    language.menu()
    if user is None:
        return
    with st.sidebar:
        st.caption(
            _("Signed in as {user} · {role}").format(
                user=md_escape(user.username), role=taxonomy.ROLES.label(user.role)
            )
        )
        auth.logout_button(user)


def _full_screen(page) -> bool:
    return any(spec.full_screen and spec.url_path == page.url_path for spec in PAGES)


def demo_banner(page) -> None:
    """Say clearly when the data shown are generated demo data (full-screen pages say it)."""
    if cached.is_demo() and not _full_screen(page):
        st.info(
            _(
                "**Demo data.** The organisations, practices and twinnings shown here are "
                "generated for demonstration and do not describe real projects."
            ),
            icon=":material/science:",
        )


def run_page(page) -> None:
    """Run the page under its own tab title and the platform's stylesheet, with the footer
    under it; an unexpected error is logged with an id, and only the id is shown."""
    tab_title(page.title)  # already in the page's language (navigation)
    st.html(STYLESHEET)
    # In the sidebar, as the language menu's script: the page's content holds no script.
    st.sidebar.html(PAGE_SCRIPT, unsafe_allow_javascript=True)
    content = st.container()
    # Drawn before the page runs, under the page's container: a page that stops early (the
    # sign-in form of a protected page) or fails keeps its footer.
    if not _full_screen(page):
        footer()
    with content:
        try:
            page.run()
        except Exception as error:  # noqa: BLE001 (st.stop and st.rerun are no Exception)
            show_failure(error)
        finally:
            # Pages write their own parameters (filters, the open practice): keep ?lang= too.
            language.keep_in_address()


def footer() -> None:
    """Links to About, Help, Data and API, the privacy notice and the accessibility statement."""
    paths = {spec.url_path: spec.path for spec in PAGES}
    with st.container(horizontal=True, gap="small", key="dhu-footer"):
        for url_path, label in FOOTER_LINKS.items():
            st.page_link(paths[url_path], label=_(label))


def guarded(function: Callable[..., None]) -> Callable[..., None]:
    """`function` with the protection of run_page, for fragments, which rerun on their own."""

    @functools.wraps(function)
    def run(*args, **kwargs) -> None:
        try:
            function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 (as in run_page)
            show_failure(error)

    return run


def show_failure(error: Exception) -> None:
    """Log `error` with its traceback under a new id; tell the visitor that id, nothing more."""
    reference = errors.log_failure(error)
    st.error(
        _(
            "Something went wrong on our side, and nothing you typed was stored by this step. "
            "Please try again; if it happens again, tell the platform team the error id "
            "**{reference}**."
        ).format(reference=reference),
        icon=":material/error:",
    )


def tab_title(*parts: str) -> None:
    """The browser tab's title: `parts` (most specific first), then the platform's name."""
    st.set_page_config(page_title=" · ".join([*parts, PLATFORM]))


def page_for_role(*roles: str) -> User:
    """At the top of a protected page: the signed-in user with one of `roles`, else stop.

    A visitor gets the sign-in form in place; once signed in, the same URL opens the page.
    """
    user = auth.current_user()
    if user is None:
        st.title(_("Sign in"))
        st.info(_("Sign in to open this page."), icon=":material/lock:")
        auth.login_form()
        st.stop()
    if user.role not in roles:
        allowed = ", ".join(taxonomy.ROLES.label(role) for role in sorted(roles))
        st.warning(
            _("This page is for: {roles}. Your account's role: {role}.").format(
                roles=allowed, role=taxonomy.ROLES.label(user.role)
            ),
            icon=":material/block:",
        )
        st.stop()
    return user
