"""Atom feeds (RFC 4287) of newly published practices, of digests and of spotlights.

A feed is built as an element tree and serialised by ElementTree, never joined from strings,
so every text and attribute is escaped by the serialiser. Characters that XML 1.0 cannot hold
at all (most control characters) are removed first: no escape exists for them.
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import Engine

from dhu_core import catalogue, geo, knowledge, taxonomy
from dhu_core.catalogue import CatalogueQuery
from dhu_core.models import PracticePublic, in_utc
from dhu_core.open_data import rfc3339
from dhu_core.open_data.links import Licence, digest_url, practice_url

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
#: A feed holds the newest entries only; readers keep what they saw before.
FEED_SIZE = 50
#: The `updated` time of a feed without entries: fixed, so the feed does not look new each time.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)
PUBLISHER = "DHU Platform"
#: What XML 1.0 allows in a document (its production `Char`); everything else is removed.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: Catalogue parameters a feed ignores: it always holds the newest practices, on one page.
_NOT_FILTERS = ("sort", "page", "size")


def xml_text(text: str | None) -> str:
    """`text` without the characters XML cannot hold."""
    return _NOT_XML.sub("", text or "")


@dataclass(frozen=True)
class Category:
    """A code an entry is filed under, with its label and the catalogue filter of its kind."""

    term: str
    label: str
    scheme: str


@dataclass(frozen=True)
class Entry:
    """One entry of a feed; `html` is sanitised HTML (shown as the entry's content)."""

    id: str
    title: str
    link: str
    updated: datetime
    published: datetime | None = None
    author: str = ""
    summary: str = ""
    html: str = ""
    categories: tuple[Category, ...] = ()


def practices_feed(
    query: CatalogueQuery, *, base_url: str, licence: Licence, engine: Engine | None = None
) -> bytes:
    """The newest listed practices matching the catalogue filters of `query`, newest first."""
    newest = catalogue.matching_ids(replace(query, sort="newest"), engine=engine, limit=FEED_SIZE)
    # Loaded listed only: one archived since the first read stays out.
    found = knowledge.linked_practices(newest, engine=engine)
    filters = {k: v for k, v in query.to_params().items() if k not in _NOT_FILTERS}
    search = urlencode(filters, doseq=True)
    self_url = f"{base_url}/api/v1/feeds/practices.atom" + (f"?{search}" if search else "")
    return _feed(
        title="DHU RADAR: newly published practices",
        subtitle="Digital health practices as they are published in the DHU RADAR"
        + (" (filtered)" if search else ""),
        self_url=self_url,
        page_url=f"{base_url}/radar" + (f"?{search}&sort=newest" if search else "?sort=newest"),
        licence=licence,
        entries=[_practice_entry(p, base_url) for p in found],
    )


def digests_feed(*, base_url: str, licence: Licence, engine: Engine | None = None) -> bytes:
    """The newest published digests of the knowledge community."""
    digests = knowledge.published_digests(engine=engine)[:FEED_SIZE]
    entries = [
        Entry(
            id=digest_url(base_url, d.id),
            title=d.title,
            link=digest_url(base_url, d.id),
            updated=in_utc(d.published_at or d.created_at),
            published=d.published_at and in_utc(d.published_at),
            html=knowledge.render_markdown(d.body),
            categories=tuple(
                Category(topic, topic, f"{base_url}/knowledge?topic=") for topic in d.topics
            ),
        )
        for d in digests
    ]
    return _feed(
        title="DHU knowledge community: digests",
        subtitle="Plain-language digests on priority topics of digital health",
        self_url=f"{base_url}/api/v1/feeds/digests.atom",
        page_url=f"{base_url}/knowledge",
        licence=licence,
        entries=entries,
    )


def spotlights_feed(*, base_url: str, licence: Licence, engine: Engine | None = None) -> bytes:
    """The practices most recently put in the spotlight, with the coordinators' analyses."""
    entries = [
        replace(
            _practice_entry(spotlight.practice, base_url),
            # Not the practice's own id: a reader of both feeds keeps both entries.
            id=practice_url(base_url, spotlight.practice.id) + "#spotlight",
            updated=spotlight.featured_at,
            html=knowledge.render_markdown(spotlight.practice.featured_analysis),
        )
        for spotlight in knowledge.dated_spotlights(engine=engine)[:FEED_SIZE]
    ]
    return _feed(
        title="DHU knowledge community: spotlights on mature solutions",
        subtitle="Mature digital health practices, with an analysis of why they work",
        self_url=f"{base_url}/api/v1/feeds/spotlights.atom",
        page_url=f"{base_url}/knowledge",
        licence=licence,
        entries=entries,
    )


def _practice_entry(practice: PracticePublic, base_url: str) -> Entry:
    published = in_utc(practice.published_at or practice.created_at)
    radar = f"{base_url}/radar?"
    categories = [
        Category(code, taxonomy.PRACTICE_TYPES.label(code), radar + "type=")
        for code in filter(None, [practice.practice_type])
    ]
    categories += [
        Category(str(level), taxonomy.MATURITY_LEVELS.label(level), radar + "maturity=")
        for level in filter(None, [practice.maturity])
    ]
    categories += [
        Category(code, taxonomy.HEALTH_DOMAINS.label(code), radar + "domain=")
        for code in practice.health_domains
    ]
    categories += [
        Category(code, geo.country_name(code), radar + "country=") for code in practice.countries
    ]
    return Entry(
        id=practice_url(base_url, practice.id),
        title=practice.title,
        link=practice_url(base_url, practice.id),
        updated=published,
        published=published,
        author=practice.owner_organisation,
        summary=practice.summary,
        categories=tuple(categories),
    )


def _feed(
    *,
    title: str,
    subtitle: str,
    self_url: str,
    page_url: str,
    licence: Licence,
    entries: list[Entry],
) -> bytes:
    feed = ET.Element("feed", {"xmlns": ATOM_NAMESPACE, _XML_LANG: "en"})
    _text(feed, "id", self_url)
    _text(feed, "title", title)
    _text(feed, "subtitle", subtitle)
    updated = max((entry.updated for entry in entries), default=EMPTY_FEED_UPDATED)
    _text(feed, "updated", rfc3339(updated))
    _text(ET.SubElement(feed, "author"), "name", PUBLISHER)
    _text(feed, "generator", PUBLISHER)
    _link(feed, self_url, rel="self", type="application/atom+xml")
    _link(feed, page_url, rel="alternate", type="text/html")
    if licence.url:
        _link(feed, licence.url, rel="license", title=licence.name)
    _text(feed, "rights", f"{licence.name} {licence.url}".strip())
    for entry in entries:
        _entry(feed, entry)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _entry(feed: ET.Element, entry: Entry) -> None:
    element = ET.SubElement(feed, "entry")
    _text(element, "id", entry.id)
    _text(element, "title", entry.title)
    _link(element, entry.link, rel="alternate", type="text/html")
    _text(element, "updated", rfc3339(entry.updated))
    if entry.published:
        _text(element, "published", rfc3339(entry.published))
    if entry.author:
        _text(ET.SubElement(element, "author"), "name", entry.author)
    for category in entry.categories:
        ET.SubElement(
            element,
            "category",
            {
                "term": xml_text(category.term),
                "label": xml_text(category.label),
                "scheme": xml_text(category.scheme),
            },
        )
    if entry.summary:
        _text(element, "summary", entry.summary)
    if entry.html:
        _text(element, "content", entry.html).set("type", "html")


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = xml_text(text)
    return element


def _link(parent: ET.Element, href: str, **attributes: str) -> None:
    ET.SubElement(
        parent,
        "link",
        {"href": xml_text(href), **{k: xml_text(v) for k, v in attributes.items()}},
    )
