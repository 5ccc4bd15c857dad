"""The JSON API in process (SQLite and PostgreSQL): only listed data, the catalogue's results,
cursors, entity tags, the rate limit and JSON errors."""

import dataclasses
import json
import random
import re
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert
from sqlmodel import select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient
from streamlit.web.server.starlette.starlette_path_security_middleware import (
    PathSecurityMiddleware,
)

from dhu_core import api, catalogue, db, demo, geo, taxonomy, uptake
from dhu_core.api import cursors, readiness
from dhu_core.api.http import ApiMiddleware, TokenBuckets
from dhu_core.catalogue import CatalogueQuery
from dhu_core.config import Settings, get_settings
from dhu_core.models import LISTED_STATUS, Digest, DigestPractice, Practice, User
from dhu_core.open_data import download
from dhu_core.ui import catalogue_results

PRACTICES = 120
#: Fields that must never leave through the API, at any depth of an answer.
PRIVATE_FIELDS = {"contact_email", "email", "status", "password_hash", "username", "author"}


def _app(settings: Settings) -> Starlette:
    """The API alone, with the rate limit and proxies of `settings`."""
    return Starlette(
        routes=api.routes(),
        middleware=[Middleware(ApiMiddleware, settings=settings)],
        lifespan=api.lifespan,
    )


def _client(settings: Settings) -> TestClient:
    return TestClient(_app(settings))


@pytest.fixture(scope="module")
def seeded(migrated_engine: Engine, tmp_path_factory) -> Iterator[Engine]:
    """The demo data set (every status of practice) in the test database, which the API reads
    through DATABASE_URL."""
    demo.seed_demo(engine=migrated_engine, practices=PRACTICES)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", migrated_engine.url.render_as_string(hide_password=False))
        patch.setenv("DHU_DATA_DIR", str(tmp_path_factory.mktemp("api-data")))
        patch.setattr(readiness, "_ready", False)
        get_settings.cache_clear()
        yield migrated_engine
    get_settings.cache_clear()
    with db.session_scope(migrated_engine) as session:
        db.delete_all_rows(session)


@pytest.fixture(scope="module")
def client(seeded) -> Iterator[TestClient]:
    settings = Settings(dhu_api_rate_limit=1_000_000, dhu_api_rate_burst=1_000_000)
    with _client(settings) as test_client:
        yield test_client


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


def _all_pages(client: TestClient, address: str) -> list[dict]:
    pages = [client.get(address).json()]
    while pages[-1]["links"]["next"]:
        pages.append(client.get(pages[-1]["links"]["next"]).json())
    return pages


def test_only_listed_practices_and_no_personal_data_leave(client, seeded):
    with db.session_scope(seeded) as session:
        statuses = dict(session.exec(select(Practice.id, Practice.status)).all())
        unlisted = {i for i, status in statuses.items() if status != LISTED_STATUS}
        archived = next(i for i, status in statuses.items() if status == "archived")
        digest_id = session.exec(select(Digest.id).where(Digest.status == "published")).first()
        # A digest that still points to a practice archived since.
        session.execute(insert(DigestPractice).values(digest_id=digest_id, practice_id=archived))
        emails = set(session.exec(select(User.email)).all())
        emails |= set(session.exec(select(Practice.contact_email)).all()) - {None}
    assert {"draft", "rejected", "archived", "submitted"} <= set(statuses.values())

    pages = _all_pages(client, "/api/v1/practices?limit=100&facets=true")
    listed = [practice["id"] for page in pages for practice in page["data"]]
    assert sorted(listed) == sorted(set(statuses) - unlisted)
    for practice_id in sorted(unlisted):
        answer = client.get(f"/api/v1/practices/{practice_id}")
        assert answer.status_code == 404, practice_id
    digests = client.get("/api/v1/digests").json()
    linked = {p["id"] for d in digests["data"] for p in d["practices"]}
    assert linked and not linked & unlisted
    detail = client.get(f"/api/v1/digests/{digest_id}").json()
    assert archived not in {p["id"] for p in detail["practices"]}

    answers = [*pages, digests, detail, client.get(f"/api/v1/practices/{listed[0]}").json()]
    answers += [client.get(f"/api/v1/{path}").json() for path in ("countries", "code-lists")]
    assert not _keys(answers) & PRIVATE_FIELDS
    text = json.dumps(answers).casefold()
    assert emails and not [email for email in emails if email.casefold() in text]


def test_practice_json_has_every_public_field_with_labels(client):
    practice = client.get("/api/v1/practices?limit=1").json()["data"][0]
    assert practice["url"] == f"http://testserver/radar?practice={practice['id']}"
    code = practice["practice_type"]["code"]
    assert practice["practice_type"]["label"] == taxonomy.PRACTICE_TYPES.label(code)
    assert practice["maturity"]["label"] == taxonomy.MATURITY_LEVELS.label(
        practice["maturity"]["code"]
    )
    assert all(c["label"] == geo.country_name(c["code"]) for c in practice["countries"])
    assert set(practice["owner_organisation"]) == {"name", "country"}
    assert practice["published_at"].endswith("Z")
    assert practice["text_language"] == {"code": "en", "label": "English"}


def _random_params(rng: random.Random, words: list[str]) -> dict[str, list[str]]:
    """A catalogue search as URL parameters: real codes, words of the data, any order."""
    choices = {
        "type": list(taxonomy.PRACTICE_TYPES),
        "maturity": [str(level) for level in taxonomy.MATURITY_LEVELS],
        "country": ["DE", "FR", "EE", "ES", "IT", "NL", "PL", "SE"],
        "domain": list(taxonomy.HEALTH_DOMAINS),
        "dhi": [*taxonomy.DHI_GROUPS, "1.4", "2.4", "2.4.1", "4.4.1"],
        "standard": list(taxonomy.STANDARDS),
        "language": ["en", "de", "fr", "et", "es"],
    }
    params: dict[str, list[str]] = {}
    for name in rng.sample(list(choices), rng.randint(0, 2)):
        params[name] = rng.sample(choices[name], rng.randint(1, 2))
    if rng.random() < 0.5:
        params["q"] = [" ".join(rng.sample(words, rng.randint(1, 2)))]
    for name, values in (
        ("transferable", ["yes", "no"]),
        ("freshness", list(catalogue.FRESHNESS)),
        ("sort", list(catalogue.SORTS)),
    ):
        if rng.random() < 0.25:
            params[name] = [rng.choice(values)]
    return params


def test_the_api_and_the_catalogue_page_agree_on_50_searches(client, seeded):
    titles = [p["title"] for p in client.get("/api/v1/practices?limit=100").json()["data"]]
    words = sorted({w for t in titles for w in catalogue._WORD.findall(t.casefold()) if len(w) > 3})
    rng = random.Random(13)
    for _ in range(50):
        params = _random_params(rng, words)
        limit = rng.choice([3, 10, 25])
        answer = client.get(
            "/api/v1/practices", params={**params, "limit": limit, "facets": "true"}
        )
        assert answer.status_code == 200, (params, answer.text)
        found = answer.json()
        # The catalogue page reads the same parameters from its address.
        query = CatalogueQuery.from_params({**params, "size": str(limit)})
        page = catalogue.search(query)
        assert found["total"] == page.total, params
        assert [p["id"] for p in found["data"]] == [p.id for p in page.practices], params
        assert found["facets"] == page.facets, params
        if found["next_cursor"]:
            second = client.get(found["links"]["next"]).json()
            following = catalogue.search(
                CatalogueQuery.from_params({**params, "size": str(limit), "page": "2"})
            )
            assert [p["id"] for p in second["data"]] == [p.id for p in following.practices]


def test_cursors_walk_the_whole_result_once_in_order(client, seeded):
    pages = _all_pages(client, "/api/v1/practices?limit=7&sort=title")
    walked = [practice["id"] for page in pages for practice in page["data"]]
    assert walked == catalogue.matching_ids(CatalogueQuery(sort="title"))
    assert {page["total"] for page in pages} == {len(walked)}
    assert pages[-1]["next_cursor"] is None and "facets" not in pages[-1]


def test_a_cursor_past_the_end_gives_an_empty_last_page(client):
    # The result can shrink between two pages (a practice archived meanwhile).
    answer = client.get(f"/api/v1/practices?limit=20&cursor={cursors.make(10_000)}").json()
    assert answer["data"] == [] and answer["total"] > 0
    assert answer["next_cursor"] is None and answer["links"]["next"] is None


@pytest.mark.parametrize(
    ("address", "field"),
    [
        ("/api/v1/practices?type=spaceship", "type"),
        ("/api/v1/practices?country=Atlantis", "country"),
        ("/api/v1/practices?maturity=9", "maturity"),
        ("/api/v1/practices?sort=cheapest", "sort"),
        ("/api/v1/practices?sort=title&sort=newest", "sort"),
        ("/api/v1/practices?limit=0", "limit"),
        ("/api/v1/practices?limit=101", "limit"),
        ("/api/v1/practices?limit=ten", "limit"),
        # More digits than Python reads into a number (4,300).
        pytest.param("/api/v1/practices?limit=" + "9" * 5000, "limit", id="limit-5000-digits"),
        ("/api/v1/practices?facets=maybe", "facets"),
        ("/api/v1/practices?page=2", "page"),
        ("/api/v1/practices?q=" + "a" * 201, "q"),
        ("/api/v1/countries?indicator=GDP", "indicator"),
        ("/api/v1/code-lists?lang=fr", "lang"),
    ],
)
def test_a_bad_parameter_is_400_naming_it(client, address, field):
    answer = client.get(address)
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == field
    assert answer.headers["access-control-allow-origin"] == "*"


def test_a_tampered_cursor_or_one_of_another_limit_is_400(client):
    cursor = client.get("/api/v1/practices?limit=5").json()["next_cursor"]
    assert client.get(f"/api/v1/practices?limit=5&cursor={cursor}").status_code == 200
    for bad in (cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"), "x" * 12, "MTA"):
        answer = client.get(f"/api/v1/practices?limit=5&cursor={bad}")
        assert (answer.status_code, answer.json()["error"]["field"]) == (400, "cursor"), bad
    answer = client.get(f"/api/v1/practices?limit=3&cursor={cursor}")
    assert (answer.status_code, answer.json()["error"]["field"]) == (400, "cursor")


def test_unknown_addresses_are_404_and_writes_405_in_json(client):
    for address in (
        "/api/v1/practices/999999",
        "/api/v1/practices/abc",
        "/api/v1/digests/0",
        "/api/v1/practices/99999999999999999999",
        "/api/v1/practices/" + "9" * 5000,
        "/api/v1/digests/" + "9" * 5000,
        "/api/v1/nothing/here",
    ):
        answer = client.get(address)
        assert answer.status_code == 404, address
        assert answer.json()["error"]["status"] == 404
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        answer = client.request(method, "/api/v1/practices")
        assert answer.status_code == 405
        assert answer.headers["allow"] == "GET, HEAD, OPTIONS"
        assert answer.json()["error"]["status"] == 405


def test_an_address_streamlit_refuses_is_answered_in_json(seeded):
    # In the app, Streamlit's own middleware comes after ours and refuses paths with '..'.
    app = Starlette(
        routes=api.routes(),
        middleware=[
            Middleware(ApiMiddleware, settings=Settings()),
            Middleware(PathSecurityMiddleware),
        ],
    )
    with TestClient(app) as streamlit_app:
        answer = streamlit_app.get("/api/v1/practices/1%2F..%2F..%2Fetc")
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"]["status"] == 400
    assert answer.headers["access-control-allow-origin"] == "*"


def test_cors_allows_reading_from_any_origin(client):
    answer = client.get("/api/v1/code-lists", headers={"Origin": "https://registry.example"})
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "Origin" in answer.headers["vary"]
    preflight = client.options(
        "/api/v1/practices",
        headers={"Origin": "https://registry.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
    assert "access-control-allow-credentials" not in preflight.headers


def test_a_failure_is_json_with_an_error_id_and_no_traceback(client, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("SELECT contact_email FROM practice")

    monkeypatch.setattr(catalogue, "search", broken)
    answer = client.get("/api/v1/practices?q=failing")
    assert answer.status_code == 500
    message = answer.json()["error"]["message"]
    assert "SELECT" not in answer.text and "Traceback" not in answer.text
    assert message.split("error ")[1].rstrip(").") in caplog.text


def test_a_conditional_request_gets_304_without_redoing_the_work(client, seeded, monkeypatch):
    first = client.get("/api/v1/practices?type=app&limit=5")
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    monkeypatch.setattr(catalogue, "search", lambda *a, **k: pytest.fail("searched again"))
    again = client.get("/api/v1/practices?limit=5&type=app", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    monkeypatch.undo()
    other = client.get("/api/v1/practices?type=model&limit=5", headers={"If-None-Match": tag})
    assert other.status_code == 200
    with db.session_scope(seeded) as session:
        db.bump_data_version(session)
    changed = client.get("/api/v1/practices?type=app&limit=5", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag


def test_if_none_match_any_tag_does_not_hide_an_error(client):
    # "*" holds only where an answer exists (RFC 9110, 13.1.2).
    for address, status in (("/api/v1/practices/999999", 404), ("/api/v1/digests?x=1", 400)):
        assert client.get(address, headers={"If-None-Match": "*"}).status_code == status


def test_the_same_request_again_is_answered_from_the_kept_answer(client, seeded, monkeypatch):
    counted = []
    real = uptake.country_uptake
    monkeypatch.setattr(
        uptake, "country_uptake", lambda *a, **k: counted.append(1) or real(*a, **k)
    )
    first = client.get("/api/v1/countries?indicator=I_IHIF")
    again = client.get("/api/v1/countries?indicator=I_IHIF")
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["etag"] == first.headers["etag"]
    assert len(counted) == 1
    with db.session_scope(seeded) as session:
        db.bump_data_version(session)
    assert client.get("/api/v1/countries?indicator=I_IHIF").status_code == 200
    assert len(counted) == 2


def test_the_rate_limit_answers_429_and_recovers(seeded):
    settings = Settings(dhu_api_rate_limit=60, dhu_api_rate_burst=3)
    with _client(settings) as limited:
        assert [limited.get("/api/v1/code-lists").status_code for _ in range(3)] == [200] * 3
        refused = limited.get("/api/v1/code-lists")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["status"] == 429
        # Without DHU_TRUSTED_PROXIES, X-Forwarded-For names no other client.
        forged = limited.get("/api/v1/code-lists", headers={"X-Forwarded-For": "203.0.113.9"})
        assert forged.status_code == 429
        time.sleep(1.05)
        assert limited.get("/api/v1/code-lists").status_code == 200


def test_other_addresses_of_one_ipv6_network_share_its_rate_limit(seeded):
    app = _app(Settings(dhu_api_rate_limit=60, dhu_api_rate_burst=3))

    def status(client: str) -> int:
        return TestClient(app, client=(client, 50000)).get("/api/v1/code-lists").status_code

    with TestClient(app, client=("2001:db8:1:1::1", 50000)) as first:
        assert [first.get("/api/v1/code-lists").status_code for _ in range(3)] == [200] * 3
        # A subscriber is given a whole /64 network: a new address in it is the same client.
        assert status("2001:db8:1:1:ffff:ffff:ffff:fffe") == 429
        assert status("2001:db8:1:2::1") == 200
        for _ in range(3):
            status("192.0.2.1")
        # The same IPv4 address, as a dual-stack socket reports it.
        assert status("::ffff:192.0.2.1") == 429


def test_idle_clients_are_forgotten():
    buckets = TokenBuckets(per_minute=60, burst=5)
    for client in range(1000):
        assert buckets.take(f"10.0.{client // 256}.{client % 256}", now=0.0) == 0
    assert len(buckets) == 1000
    assert buckets.take("10.9.9.9", now=4.0) == 0
    assert len(buckets) == 1001
    # After burst / rate = 5 s a bucket is full again, the same as a new one.
    assert buckets.take("10.9.9.8", now=5.0) == 0
    assert len(buckets) == 2


def test_a_database_without_migrations_answers_503(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.sqlite3'}")
    monkeypatch.setenv("DHU_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(readiness, "_ready", False)
    get_settings.cache_clear()
    try:
        with _client(Settings()) as fresh:
            answer = fresh.get("/api/v1/practices")
        assert answer.status_code == 503
        assert "dhu init-db" in answer.json()["error"]["message"]
    finally:
        get_settings.cache_clear()


def test_an_open_data_file_sent_while_the_next_is_written_is_never_kept_as_current(
    client, seeded, monkeypatch
):
    monkeypatch.setattr(download, "_STARTED", {})
    first = client.get("/api/v1/open-data/practices.csv")
    tag = first.headers["etag"]
    assert (
        client.get("/api/v1/open-data/practices.csv", headers={"If-None-Match": tag}).status_code
        == 304
    )
    with db.session_scope(seeded) as session:
        db.bump_data_version(session)
    stale = client.get("/api/v1/open-data/practices.csv")
    assert (stale.headers["etag"], stale.content) == (tag, first.content)
    for lock in download._WRITING.values():
        with lock:  # the new file is written
            pass
    # Neither the conditional request nor a plain one keeps getting the last file.
    fresh = client.get("/api/v1/open-data/practices.csv", headers={"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != tag
    assert client.get("/api/v1/open-data/practices.csv").headers["etag"] == fresh.headers["etag"]


def test_the_catalogue_links_its_view_as_a_feed_and_in_the_api(client, seeded):
    query = CatalogueQuery(
        text="care", practice_types=("app", "service"), maturities=(3, 4), sort="title", page=2
    )
    links = re.findall(r"\]\(([^)]+)\)", catalogue_results.following_links(query))
    feed, listing = (link for link in links if link.startswith("/api/v1/"))
    assert "page=" not in listing
    answer = client.get(listing + "&limit=10")
    expected = catalogue.search(dataclasses.replace(query, page=1, page_size=10))
    assert [p["id"] for p in answer.json()["data"]] == [p.id for p in expected.practices]
    assert client.get(feed).status_code == 200
