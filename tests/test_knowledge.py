"""Knowledge community: safe Markdown, digests, spotlights, and expressions of interest."""

from html.parser import HTMLParser

import pytest
from pydantic import ValidationError
from sqlmodel import select

from dhu_core import accounts, db, exchange, knowledge, practices
from dhu_core.accounts import PermissionDenied
from dhu_core.models import (
    AuditEvent,
    DigestInput,
    FieldError,
    InterestCreate,
    Organisation,
    PracticeCreate,
    SpotlightInput,
    TwinningNeed,
    field_errors,
)

HOSTILE = """# Hello

<script>alert("body")</script>
<iframe src="https://evil.example/"></iframe>
<img src="x" onerror="alert('img')">
<a href="javascript:alert('raw')" onclick="alert('click')">raw link</a>

[markdown link](javascript:alert('md')) and [encoded](jav&#x61;script:alert(1))
and [vbscript](vbscript:msgbox(1)) and [data](data:text/html;base64,PHNjcmlwdD4=)
and <javascript:alert('autolink')> and ![picture](https://tracker.example/pixel.png)

[a good link](https://example.org/page) and [mail](mailto:team@example.org) and
[a practice](/radar?practice=7)
"""


class HtmlElements(HTMLParser):
    """Every element and attribute of an HTML fragment, as a browser would parse them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


def test_rendered_markdown_has_no_script_frame_handler_or_unsafe_link():
    html = knowledge.render_markdown(HOSTILE)
    parsed = HtmlElements(html)

    assert not {"script", "iframe", "img", "style", "object", "embed"} & set(parsed.tags)
    assert not [name for _, name, _ in parsed.attributes if name.startswith("on")]
    links = [value for tag, name, value in parsed.attributes if tag == "a" and name == "href"]
    assert links == ["https://example.org/page", "mailto:team@example.org", "/radar?practice=7"]
    rels = [value for tag, name, value in parsed.attributes if name == "rel"]
    assert rels == ["noopener noreferrer"] * 3
    assert "<h1>Hello</h1>" in html


def test_rendered_markdown_keeps_ordinary_formatting():
    html = knowledge.render_markdown(
        "Some **bold**, *italic* and `code`.\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<strong>bold</strong>" in html
    assert "<em>italic</em>" in html
    assert "<li>one</li>" in html
    assert "<td>1</td>" in html
    assert "style=" not in html


def test_code_and_tables_that_scroll_sideways_can_be_reached_by_keyboard():
    """They scroll in their own box on a phone (app.css): axe's scrollable-region-focusable."""
    html = knowledge.render_markdown("```\ncurl /api/v1/practices\n```\n\n| a |\n|---|\n| 1 |")
    focusable = [
        tag
        for tag, name, value in HtmlElements(html).attributes
        if name == "tabindex" and value == "0"
    ]
    assert focusable == ["pre", "table"]


@pytest.fixture
def people(engine):
    """Two organisations, an owner in each, a coordinator, and three published practices."""
    with db.session_scope(engine) as session:
        clinic = Organisation(name="Tallinn Clinic", country="EE")
        lab = Organisation(name="Porto Lab", country="PT")
        session.add_all([clinic, lab])
        session.flush()

        def make(name, role, organisation_id=None):
            return accounts.create_user(
                session=session,
                username=name,
                password="Long-enough-pw-1",
                role=role,
                email=f"{name}@example.org",
                display_name=name.title(),
                organisation_id=organisation_id,
            )

        people = {
            "owner": make("owner", "owner", clinic.id),
            "adopter": make("adopter", "owner", lab.id),
            "coordinator": make("coordinator", "coordinator"),
            "clinic": clinic.id,
            "lab": lab.id,
        }
    people["practices"] = [
        _publish(engine, people, title=f"Heart telemonitoring {n}", maturity=n) for n in (2, 3, 4)
    ]
    return people


def _publish(engine, people, **changes) -> int:
    data = PracticeCreate(
        **{
            "summary": "Patients send their readings daily; nurses call when values drift.",
            "practice_type": "service",
            "countries": ["EE"],
            "transferable": True,
            **changes,
        }
    )
    with db.session_scope(engine) as session:
        practice = practices.submit_practice(session=session, data=data, actor=people["owner"])
        practices.approve_practice(
            session=session, practice_id=practice.id, actor=people["coordinator"]
        )
        return practice.id


def _digest(people, **changes) -> DigestInput:
    return DigestInput(
        **{
            "title": "EHR interoperability in the EHDS",
            "topics": ["EHDS", "Electronic health records"],
            "body": "The European Health Data Space gives every person access to their data.",
            "practice_ids": people["practices"][:2],
            **changes,
        }
    )


def test_a_coordinator_writes_a_draft_then_publishes_it(engine, people):
    coordinator = people["coordinator"]
    with db.session_scope(engine) as session:
        digest = knowledge.save_digest(session=session, actor=coordinator, data=_digest(people))
    assert knowledge.published_digests(engine=engine) == []

    with db.session_scope(engine) as session:
        knowledge.publish_digest(session=session, actor=coordinator, digest_id=digest.id)
    [shown] = knowledge.published_digests(engine=engine)
    assert shown.topics == ["ehds", "electronic-health-records"]
    assert shown.practice_ids == sorted(people["practices"][:2])
    assert shown.author == "Coordinator"
    assert shown.published_at is not None
    assert knowledge.digest_topics(engine=engine) == {"ehds": 1, "electronic-health-records": 1}
    with db.session_scope(engine) as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.entity == "digest").order_by(AuditEvent.id)
        ).all()
    assert actions == ["digest.created", "digest.published"]


def test_an_edit_replaces_topics_and_links(engine, people):
    coordinator = people["coordinator"]
    with db.session_scope(engine) as session:
        digest = knowledge.save_digest(session=session, actor=coordinator, data=_digest(people))
        knowledge.publish_digest(session=session, actor=coordinator, digest_id=digest.id)
    changed = _digest(people, topics=["trustworthy-ai"], practice_ids=[people["practices"][2]])
    with db.session_scope(engine) as session:
        knowledge.save_digest(session=session, actor=coordinator, data=changed, digest_id=digest.id)
    [shown] = knowledge.published_digests(engine=engine)
    assert (shown.topics, shown.practice_ids) == (["trustworthy-ai"], [people["practices"][2]])


def test_a_digest_link_opens_only_a_published_digest(engine, people):
    coordinator = people["coordinator"]
    with db.session_scope(engine) as session:
        draft = knowledge.save_digest(session=session, actor=coordinator, data=_digest(people))
    assert knowledge.published_digest(draft.id, engine=engine) is None
    with db.session_scope(engine) as session:
        knowledge.publish_digest(session=session, actor=coordinator, digest_id=draft.id)
    shown = knowledge.published_digest(draft.id, engine=engine)
    assert (shown.id, shown.title) == (draft.id, "EHR interoperability in the EHDS")
    assert knowledge.published_digest(draft.id + 1, engine=engine) is None


def test_visitors_filter_digests_by_topic_and_words(engine, people):
    coordinator = people["coordinator"]
    with db.session_scope(engine) as session:
        for data in (
            _digest(people),
            _digest(people, title="Trustworthy AI for buyers", topics=["trustworthy-ai"]),
        ):
            digest = knowledge.save_digest(session=session, actor=coordinator, data=data)
            knowledge.publish_digest(session=session, actor=coordinator, digest_id=digest.id)

    def titles(**query):
        return [d.title for d in knowledge.published_digests(engine=engine, **query)]

    assert titles(topic="trustworthy-ai") == ["Trustworthy AI for buyers"]
    assert titles(text="ehr INTEROPERABILITY") == ["EHR interoperability in the EHDS"]
    assert titles(topic="ehds", text="buyers") == []
    assert len(titles()) == 2


def test_only_coordinators_write_digests(engine, people):
    data = _digest(people)
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        knowledge.save_digest(session=session, actor=people["owner"], data=data)
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        knowledge.save_digest(session=session, actor=None, data=data)
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        knowledge.all_digests(session=session, actor=people["owner"])


def test_a_digest_links_only_published_practices(engine, people):
    with db.session_scope(engine) as session:
        draft = practices.save_draft(
            session=session,
            data=practices.PracticeDraft(title="Unfinished"),
            actor=people["owner"],
        )
    with pytest.raises(FieldError, match="published"), db.session_scope(engine) as session:
        knowledge.save_digest(
            session=session,
            actor=people["coordinator"],
            data=_digest(people, practice_ids=[draft.id]),
        )


def test_digest_input_gives_a_message_per_field():
    with pytest.raises(ValidationError) as error:
        DigestInput(title="x", topics=[], body="short", practice_ids=list(range(30)))
    messages = field_errors(error.value)
    assert set(messages) == {"title", "topics", "body", "practice_ids"}
    assert "at least one topic" in messages["topics"]


def test_spotlights_need_a_published_practice_at_maturity_three(engine, people):
    pilot, deployed, scaled = people["practices"]
    analysis = "Deployed in 40 clinics for six years; the evaluation shows fewer admissions."
    with db.session_scope(engine) as session:
        for practice_id in (scaled, deployed):
            knowledge.feature_practice(
                session=session,
                actor=people["coordinator"],
                data=SpotlightInput(practice_id=practice_id, analysis=analysis),
            )
    with pytest.raises(FieldError, match="maturity 3"), db.session_scope(engine) as session:
        knowledge.feature_practice(
            session=session,
            actor=people["coordinator"],
            data=SpotlightInput(practice_id=pilot, analysis=analysis),
        )
    shown = knowledge.spotlights(engine=engine)
    assert [p.id for p in shown] == [scaled, deployed]
    assert shown[0].featured_analysis == analysis

    with db.session_scope(engine) as session:
        knowledge.unfeature_practice(
            session=session, actor=people["coordinator"], practice_id=scaled
        )
    assert [p.id for p in knowledge.spotlights(engine=engine)] == [deployed]


def test_only_coordinators_feature_practices(engine, people):
    data = SpotlightInput(
        practice_id=people["practices"][2], analysis="A long enough analysis of a mature practice."
    )
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        knowledge.feature_practice(session=session, actor=people["owner"], data=data)
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        knowledge.unfeature_practice(
            session=session, actor=people["owner"], practice_id=people["practices"][2]
        )


@pytest.fixture
def need(engine, people) -> int:
    with db.session_scope(engine) as session:
        need = TwinningNeed(
            organisation_id=people["lab"],
            country="PT",
            problem_statement="We want to follow heart failure patients at home after discharge.",
        )
        session.add(need)
        session.flush()
        return need.id


def test_the_board_shows_open_needs_and_transferable_practices(engine, people, need):
    assert [n.id for n in exchange.open_needs(engine=engine)] == [need]
    assert [n.id for n in exchange.open_needs(text="HEART porto", engine=engine)] == [need]
    assert exchange.open_needs(text="diabetes", engine=engine) == []
    offered = {p.id for p in exchange.offerings(engine=engine)}
    assert offered == set(people["practices"])


def test_an_expression_of_interest_reaches_the_other_organisations_inbox(engine, people, need):
    with db.session_scope(engine) as session:
        interest = exchange.express_interest(
            session=session,
            actor=people["owner"],
            data=InterestCreate(need_id=need, text="We run exactly this in Tallinn; let us talk."),
        )
    with db.session_scope(engine) as session:
        [item] = exchange.inbox(session=session, actor=people["adopter"])
        assert exchange.inbox(session=session, actor=people["owner"]) == []
        [mine] = exchange.sent(session=session, actor=people["owner"])
    assert (item.sender, item.sender_organisation, item.about, item.about_id) == (
        "Owner",
        "Tallinn Clinic",
        "need",
        need,
    )
    assert item.read_at is None
    assert mine.recipient_organisation == "Porto Lab"

    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        exchange.mark_read(session=session, actor=people["owner"], interest_id=interest.id)
    with db.session_scope(engine) as session:
        exchange.mark_read(session=session, actor=people["adopter"], interest_id=interest.id)
        [item] = exchange.inbox(session=session, actor=people["adopter"])
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.entity == "interest")
        ).all()
    assert item.read_at is not None
    assert sorted(actions) == ["interest.expressed", "interest.read"]


def test_interest_in_a_practice_goes_to_its_owner_organisation(engine, people):
    practice_id = people["practices"][1]
    with db.session_scope(engine) as session:
        exchange.express_interest(
            session=session,
            actor=people["adopter"],
            data=InterestCreate(practice_id=practice_id, text="Could we adopt this in Porto?"),
        )
    with db.session_scope(engine) as session:
        [item] = exchange.inbox(session=session, actor=people["owner"])
    assert (item.about, item.about_id, item.about_title) == (
        "practice",
        practice_id,
        "Heart telemonitoring 3",
    )


def test_a_visitor_cannot_express_interest(engine, people, need):
    data = InterestCreate(need_id=need, text="Anonymous interest in this need.")
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        exchange.express_interest(session=session, actor=None, data=data)


def test_nobody_expresses_interest_in_their_own_organisation(engine, people, need):
    data = InterestCreate(need_id=need, text="Interest in our own need, by mistake.")
    with pytest.raises(FieldError, match="your own"), db.session_scope(engine) as session:
        exchange.express_interest(session=session, actor=people["adopter"], data=data)


def test_interest_nobody_can_read_is_addressed_to_the_coordinators(engine, people):
    """Issue 11: the coordinator's inbox said "Your account belongs to no organisation"."""
    with db.session_scope(engine) as session:
        riga = Organisation(name="Riga Hospital", country="LV")
        session.add(riga)
        session.flush()
        unread = TwinningNeed(
            organisation_id=riga.id,
            country="LV",
            problem_statement="We look for a way to follow patients with COPD at home.",
        )
        session.add(unread)
        session.flush()
        riga_id, unread_id = riga.id, unread.id
    with db.session_scope(engine) as session:
        to_riga = exchange.express_interest(
            session=session,
            actor=people["owner"],
            data=InterestCreate(need_id=unread_id, text="We follow COPD patients at home too."),
        )
        to_porto = exchange.express_interest(
            session=session,
            actor=people["owner"],
            data=InterestCreate(
                practice_id=None, need_id=_need(session, people["lab"]), text="Let us talk soon."
            ),
        )
    coordinator = people["coordinator"]
    with db.session_scope(engine) as session:
        [item] = exchange.coordinators_inbox(session=session, actor=coordinator)
        assert exchange.inbox(session=session, actor=coordinator) == []
    assert (item.id, item.recipient_organisation, item.sender) == (
        to_riga.id,
        "Riga Hospital",
        "Owner",
    )

    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        exchange.coordinators_inbox(session=session, actor=people["adopter"])
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        exchange.mark_read(session=session, actor=coordinator, interest_id=to_porto.id)
    with db.session_scope(engine) as session:
        exchange.mark_read(session=session, actor=coordinator, interest_id=to_riga.id)
        [item] = exchange.coordinators_inbox(session=session, actor=coordinator)
    assert item.read_at is not None

    # Once someone there can read it, it is that organisation's again.
    with db.session_scope(engine) as session:
        member = accounts.create_user(
            session=session,
            username="riga",
            password="Long-enough-pw-1",
            role="owner",
            email="riga@example.org",
            organisation_id=riga_id,
        )
    with db.session_scope(engine) as session:
        assert exchange.coordinators_inbox(session=session, actor=coordinator) == []
        assert [i.id for i in exchange.inbox(session=session, actor=member)] == [to_riga.id]


def _need(session, organisation_id: int) -> int:
    need = TwinningNeed(
        organisation_id=organisation_id,
        country="PT",
        problem_statement="We want to follow heart failure patients at home after discharge.",
    )
    session.add(need)
    session.flush()
    return need.id
