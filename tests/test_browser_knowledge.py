"""Browser: digests from writing to reading, sanitised Markdown, the live view and its QR code."""

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect
from sqlmodel import select

from dhu_core import db, knowledge, practices
from dhu_core.models import DigestInput, PracticeCreate, User
from tests.browser import (
    demo_password,
    first_visit,
    is_local,
    settle,
    sign_in,
    streamlit_server,
)
from tests.test_knowledge import HOSTILE

pytestmark = pytest.mark.browser
PUBLIC_URL = "https://workshop.example.org/dhu"


@pytest.fixture(scope="module")
def workshop_server(tmp_path_factory, chromium) -> Iterator[tuple[str, Path]]:
    """The app on a new demo database, announcing a public address for the QR code."""
    data_dir = tmp_path_factory.mktemp("workshop-data")
    env = {"DHU_DATA_DIR": str(data_dir), "DATABASE_URL": "", "DHU_PUBLIC_URL": PUBLIC_URL}
    with streamlit_server(env, data_dir / "streamlit.log") as url:
        first_visit(chromium, url)
        yield url, data_dir / "dhu.sqlite3"


def _engine(database: Path):
    """The server's database, written to directly as another process would."""
    return db.get_engine(f"sqlite:///{database}")


def _user(engine, username: str) -> User:
    with db.read_scope(engine) as session:
        return session.exec(select(User).where(User.username == username)).one()


def _choose(page, label: str, option: str) -> None:
    """Pick `option` in the select box or multiselect labelled `label`."""
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.press_sequentially(option)  # opens the list, filtered (fill() would not open it)
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def test_a_published_digest_is_found_by_topic_and_links_to_its_practices(
    workshop_server, page, chromium
):
    url, database = workshop_server
    sign_in(page, url, "demo-coordinator", demo_password(database, "demo-coordinator"))
    with sqlite3.connect(database) as conn:
        linked = conn.execute(
            "SELECT id, title FROM practice WHERE status = 'published' "
            "ORDER BY published_at DESC, id DESC LIMIT 2"
        ).fetchall()
    settle(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Knowledge").click()
    page.get_by_role("heading", name="Knowledge community").wait_for()
    settle(page)
    page.get_by_role("tab", name="Write a digest").click()
    page.get_by_label("Title *").fill("Telemonitoring that lasts")
    topics = page.get_by_label("Topics *")
    topics.click()
    topics.fill("workshop-telemonitoring")
    topics.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_role("textbox", name="Text *").fill(
        "## Why it lasts\n\nNurses own the service, and **data flow back** to the GP."
    )
    for _, title in linked:
        search = page.get_by_label("Find practices to link")
        search.fill(title)
        search.press("Enter")
        page.get_by_text(f"matching “{title}”").wait_for()
        settle(page)
        _choose(page, "Linked practices", title)
    page.keyboard.press("Escape")
    page.locator(".dhu-rich-text h2", has_text="Why it lasts").wait_for()  # the preview
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Published: Telemonitoring that lasts").wait_for(timeout=30_000)

    visitor = chromium.new_context(viewport={"width": 1400, "height": 1000})
    reader = visitor.new_page()
    reader.goto(url + "/knowledge")
    settle(reader)
    _choose(reader, "Topic", "workshop-telemonitoring (1)")
    reader.locator(".dhu-rich-text h2", has_text="Why it lasts").wait_for(timeout=30_000)
    assert "topic=workshop-telemonitoring" in reader.url
    practice_id, title = linked[0]
    link = reader.get_by_role("link", name=title).first
    assert re.search(rf"radar\?practice={practice_id}$", link.get_attribute("href"))
    link.click()
    reader.get_by_role("heading", name=title).wait_for(timeout=60_000)
    assert re.search(rf"/radar\?practice={practice_id}$", reader.url)
    visitor.close()


def test_a_hostile_digest_runs_no_script_in_the_browser(workshop_server, page):
    url, database = workshop_server
    engine = _engine(database)
    coordinator = _user(engine, "demo-coordinator")
    data = DigestInput(title="Hostile digest", topics=["hostile-test"], body=HOSTILE)
    with db.session_scope(engine) as session:
        digest = knowledge.save_digest(session=session, actor=coordinator, data=data)
        knowledge.publish_digest(session=session, actor=coordinator, digest_id=digest.id)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(url + "/knowledge?topic=hostile-test")
    page.locator(".dhu-rich-text h1", has_text="Hello").wait_for(timeout=60_000)
    settle(page)
    texts = page.locator(".dhu-rich-text")  # the digest and the spotlights' analyses
    assert texts.locator("script, iframe, img, object, embed").count() == 0
    assert texts.locator("a[href^='javascript'], a[href^='data'], a[href^='vbscript']").count() == 0
    handlers = texts.evaluate_all(
        "roots => roots.flatMap(root => [root, ...root.querySelectorAll('*')])"
        ".flatMap(e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on'))"
    )
    assert handlers == []
    good = texts.get_by_role("link", name="a good link")
    assert good.get_attribute("rel") == "noopener noreferrer"
    page.wait_for_timeout(500)
    assert dialogs == []


def test_the_live_view_shows_a_new_practice_within_one_refresh(workshop_server, page):
    url, database = workshop_server
    page.goto(url + "/live?every=1")
    metric = page.get_by_test_id("stMetric").filter(has_text="Published practices")
    value = metric.get_by_test_id("stMetricValue")
    value.wait_for(timeout=60_000)
    before = int(value.inner_text().replace(",", ""))

    engine = _engine(database)
    data = PracticeCreate(
        title="Registered live in the room",
        summary="A practice registered while the presenter view was on the big screen.",
        practice_type="app",
        maturity=3,
        countries=["PT"],
    )
    owner, coordinator = _user(engine, "demo-owner"), _user(engine, "demo-coordinator")
    with db.session_scope(engine) as session:
        practice = practices.submit_practice(session=session, data=data, actor=owner)
        practices.approve_practice(session=session, practice_id=practice.id, actor=coordinator)

    # Every refresh is a second; allow a few for a busy test machine.
    page.get_by_text("Registered live in the room").wait_for(timeout=15_000)
    expect(value).to_have_text(f"{before + 1:,}", timeout=5_000)
    assert [u for u in page.requests if not is_local(u)] == []


def test_the_qr_code_on_screen_encodes_the_capture_url(workshop_server, page, tmp_path):
    url, _ = workshop_server
    page.goto(url + "/live")
    image = page.get_by_test_id("stImage").locator("img")
    image.wait_for(timeout=60_000)
    settle(page)
    image.screenshot(path=tmp_path / "qr.png")

    found = zxingcpp.read_barcodes(Image.open(tmp_path / "qr.png").convert("L"))
    assert [code.text for code in found] == [f"{PUBLIC_URL}/capture"]
    assert image.get_attribute("alt").endswith(f": {PUBLIC_URL}/capture")
    address = page.locator(".dhu-capture-url")
    assert address.inner_text().replace("\n", "") == f"{PUBLIC_URL}/capture"
    # Too long for its column: it breaks after "/" or "." only, never inside a word.
    breaks = address.evaluate(LINE_BREAKS)
    assert breaks and set(breaks) <= set("/.?&="), breaks


#: The character before each line break inside an element's text, as laid out.
LINE_BREAKS = """element => {
  const breaks = [];
  let top = null, previous = '';
  const texts = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = texts.nextNode(); node; node = texts.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const here = range.getBoundingClientRect().top;
      if (top !== null && here > top + 2) breaks.push(previous);
      top = here;
      previous = node.data[i];
    }
  }
  return breaks;
}"""
