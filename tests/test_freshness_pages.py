"""AppTest of freshness on the pages: the catalogue's facet and badge, the archived notice, and
My practices with its views and confirmation button (demo data, embedded database)."""

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import db, freshness
from dhu_core.models import Practice, PracticeViewDay, User, utcnow
from tests.apptest import APP, sign_in

LONG_AGO = utcnow() - timedelta(days=800)


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def _radar(at: AppTest, **params: str) -> AppTest:
    at.query_params.clear()
    at.query_params.update(params)
    at.switch_page("app_pages/radar.py").run()
    assert not at.exception
    return at


def _texts(at: AppTest) -> str:
    return "\n".join(element.value for element in (*at.markdown, *at.caption))


def _listed_outdated() -> int:
    with db.read_scope() as session:
        return len(
            session.exec(
                select(Practice.id).where(
                    Practice.status == "published",
                    Practice.last_confirmed_at < freshness.outdated_before(),
                )
            ).all()
        )


def _organisation_practices(username: str) -> list[Practice]:
    with db.read_scope() as session:
        organisation = session.exec(
            select(User.organisation_id).where(User.username == username)
        ).one()
        return list(
            session.exec(
                select(Practice)
                .where(Practice.owner_organisation_id == organisation)
                .order_by(Practice.id)
            ).all()
        )


def _set(practice_id: int, **values) -> None:
    with db.session_scope() as session:
        session.execute(update(Practice).where(Practice.id == practice_id).values(**values))


def test_the_freshness_facet_counts_filters_and_sits_in_the_url_and_cards_carry_the_badge(
    embedded_app,
):
    at = _radar(_app())
    outdated = _listed_outdated()
    assert outdated > 0
    pills = next(p for p in at.pills if p.label == "Freshness")
    assert f"May be outdated ({outdated:,})" in pills.options

    pills.select("outdated").run()

    assert at.query_params["freshness"] == "outdated"
    assert at.subheader[0].value.startswith(f"{outdated:,} practices")
    badges = [m.value for m in at.markdown if "May be outdated" in m.value]
    assert len(badges) == 10  # one per card of the page
    next(p for p in at.pills if p.label == "Freshness").select("current").run()
    assert at.query_params["freshness"] == "current"
    assert not any("May be outdated" in m.value for m in at.markdown)


def test_an_archived_practice_opens_by_its_address_with_a_notice_and_is_not_listed(embedded_app):
    at = _app()
    with db.read_scope() as session:
        archived = session.exec(select(Practice).where(Practice.status == "archived")).first()

    _radar(at, practice=str(archived.id))

    assert at.title[0].value.replace("\\", "") == archived.title
    assert "This practice is archived" in at.warning[0].value
    assert not any(b.label.startswith("Restore") for b in at.button)  # a visitor cannot
    _radar(at, q=archived.title)
    assert all(
        f"practice={archived.id}" not in link.proto.query_string for link in at.get("page_link")
    )


def test_my_practices_shows_views_and_freshness_and_confirms_in_one_click(embedded_app):
    at = _app()
    first, second, *_ = [
        p for p in _organisation_practices("demo-owner") if p.status == "published"
    ]
    _set(first.id, last_confirmed_at=LONG_AGO)
    _radar(at, practice=str(first.id))  # a visitor's view counts
    _radar(at, practice=str(first.id))  # the same session's rerun does not
    sign_in(at, "demo-owner")
    _radar(at, practice=str(second.id))  # the organisation's own view does not count

    at.query_params.clear()
    at.switch_page("app_pages/my_practices.py").run()

    assert not at.exception
    assert at.title[0].value == "My practices"
    views = [m for m in at.metric if m.label.startswith("Views, last 30 days")]
    assert len(views) == len(_organisation_practices("demo-owner"))
    with db.read_scope() as session:
        counted = session.exec(select(PracticeViewDay.practice_id, PracticeViewDay.views)).all()
    assert counted == [(first.id, 1)]
    assert "May be outdated" in _texts(at)

    next(b for b in at.button if b.key == f"confirm-{first.id}").click().run()

    assert "Confirmed as current today" in at.success[0].value
    with db.read_scope() as session:
        confirmed = session.get(Practice, first.id).last_confirmed_at
    assert confirmed.replace(tzinfo=confirmed.tzinfo or utcnow().tzinfo) > utcnow() - timedelta(
        minutes=5
    )


def test_an_owner_restores_an_archived_practice_from_its_page(embedded_app):
    at = _app()
    practice = next(p for p in _organisation_practices("demo-owner") if p.status == "published")
    _set(practice.id, status="archived", archived_at=LONG_AGO, last_confirmed_at=LONG_AGO)
    sign_in(at, "demo-owner")

    _radar(at, practice=str(practice.id))
    assert "This practice is archived" in at.warning[0].value
    next(b for b in at.button if b.label.startswith("Restore")).click().run()

    assert "Restored" in at.success[0].value
    assert not at.warning
    with db.read_scope() as session:
        assert session.get(Practice, practice.id).status == "published"


def test_an_archived_practice_is_not_offered_for_editing_until_it_is_restored(embedded_app):
    at = _app()
    practice = next(p for p in _organisation_practices("demo-owner") if p.status == "published")
    _set(practice.id, status="archived", archived_at=LONG_AGO, last_confirmed_at=LONG_AGO)
    sign_in(at, "demo-owner")

    at.switch_page("app_pages/register.py").run()

    assert not at.exception
    assert practice.title not in at.selectbox(key="register_choice").options
    assert "Archived: restore it on My practices to edit it." in [c.value for c in at.caption]
