"""The catalogue: full-text search, filters, facet counts, paging and URL parameters."""

import dataclasses
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, update
from sqlmodel import select

from dhu_core import (
    accounts,
    bench,
    catalogue,
    db,
    demo,
    geo,
    io,
    practices,
    search_index,
    taxonomy,
)
from dhu_core.catalogue import CatalogueQuery, matching_ids, search
from dhu_core.models import (
    Organisation,
    Practice,
    PracticeCountry,
    PracticeCreate,
    PracticeTag,
)
from tests import people
from tests.conftest import PG_ADMIN_URL, _pg_database
from tests.old_schema import insert_as_stored

#: title, summary, type, maturity, countries, domains, dhi, standards, languages, transferable,
#: owner organisation (name, country), status. Published in this order, a month apart.
PRACTICES = [
    (
        "Diabetes coach app",
        "A mobile app that coaches people with type 2 diabetes towards better glucose control.",
        "app",
        3,
        ["DE", "AT"],
        ["diabetes"],
        ["1.4.1", "1.4.2"],
        ["fhir"],
        ["de", "en"],
        True,
        ("Heidelberg University Hospital", "DE"),
        "published",
    ),
    (
        "Heart failure telemonitoring",
        "Daily weight and blood pressure readings from home reach the heart team.",
        "service",
        4,
        ["DE"],
        ["cardiovascular", "telehealth"],
        ["2.2.1"],
        ["fhir", "loinc"],
        ["de"],
        False,
        ("Berlin Heart Centre", "DE"),
        "published",
    ),
    (
        "National eHealth strategy",
        "A national plan for electronic health records and cross-border data exchange.",
        "strategy",
        5,
        ["EE", "FI"],
        ["records-and-access"],
        ["3.1.1"],
        ["eehrxf"],
        ["et", "en"],
        True,
        ("Estonian eHealth Agency", "EE"),
        "published",
    ),
    (
        "Mental health chat app",
        "Young people chat with trained volunteers when they feel low or anxious.",
        "app",
        2,
        ["FR"],
        ["mental-health"],
        ["1.3.1"],
        [],
        ["fr"],
        None,
        ("Lyon Mental Health Centre", "FR"),
        "published",
    ),
    (
        "Prevention programme in primary care",
        "General practitioners invite people at risk of diabetes to a lifestyle programme.",
        "model",
        3,
        ["NL"],
        ["diabetes", "prevention"],
        ["1.1.3", "2.1.1"],
        ["snomed-ct"],
        ["nl", "en"],
        True,
        ("Utrecht Primary Care Centre", "NL"),
        "published",
    ),
    (
        "Hospital data exchange framework",
        "A framework to assess how well hospitals exchange data with each other.",
        "framework",
        1,
        ["IT"],
        ["records-and-access"],
        ["4.1.1"],
        ["fhir", "ihe"],
        ["it"],
        False,
        ("Bologna Regional Health Authority", "IT"),
        "published",
    ),
    (
        "Diabetes draft app",
        "An unfinished registration of a diabetes app, never to be shown.",
        "app",
        1,
        ["DE"],
        ["diabetes"],
        ["1.4.2"],
        ["fhir"],
        ["de"],
        True,
        ("Heidelberg University Hospital", "DE"),
        "draft",
    ),
    (
        "Diabetes app under review",
        "A diabetes app that a coordinator has not approved yet.",
        "app",
        3,
        ["DE"],
        ["diabetes"],
        ["1.4.2"],
        ["fhir"],
        ["de"],
        True,
        ("Heidelberg University Hospital", "DE"),
        "submitted",
    ),
]

LATE_PRACTICE = (
    "Chatbot for new parents",
    "Answers questions about babies at night.",
    "app",
    2,
    ["SE"],
    [],
    [],
    [],
    ["sv"],
    True,
    ("Uppsala Children's Hospital", "SE"),
    "published",
)

NASTY_TEXTS = [
    '"',
    '"diabetes',
    "*",
    "diab*",
    "OR",
    "diabetes OR heart",
    "'; DROP TABLE practice; --",
    "NEAR(",
    "NEAR(diabetes heart, 2)",
    "title:diabetes",
    "-diabetes",
    "^diabetes",
    "{title summary}: app",
    "a & b | !c",
    "app:*",
    "(",
    ")",
    "\\",
    "%_%",
    "\x00",
    "Ünïcödé Kraków",
    "😀",
    "   ",
]


def add_practice(session, row: tuple, published_at: datetime) -> int:
    """Insert one practice of `PRACTICES` with its deployments and tags; return its id."""
    (title, summary, kind, maturity, countries, domains, dhi, standards, languages) = row[:9]
    transferable, (org_name, org_country), status = row[9:]
    org = session.exec(select(Organisation).where(Organisation.name == org_name)).first()
    if org is None:
        org = Organisation(name=org_name, country=org_country)
        session.add(org)
        session.flush()
    practice = Practice(
        title=title,
        summary=summary,
        practice_type=kind,
        maturity=maturity,
        transferable=transferable,
        owner_organisation_id=org.id,
        status=status,
        published_at=published_at if status == "published" else None,
    )
    session.add(practice)
    session.flush()
    session.add_all(PracticeCountry(practice_id=practice.id, country=c) for c in countries)
    for kind_name, codes in (
        ("domain", domains),
        ("dhi", dhi),
        ("standard", standards),
        ("language", languages),
    ):
        session.add_all(PracticeTag(practice_id=practice.id, kind=kind_name, code=c) for c in codes)
    return practice.id


@pytest.fixture
def ids(engine) -> dict[str, int]:
    """The hand-built catalogue: practice id by title."""
    with db.session_scope(engine) as session:
        return {
            row[0]: add_practice(session, row, datetime(2025, month, 1, tzinfo=UTC))
            for month, row in enumerate(PRACTICES, start=1)
        }


def titles(engine, **query) -> list[str]:
    """Titles of all matching practices, in the query's order."""
    page = search(CatalogueQuery(page_size=100, **query), engine=engine)
    return [practice.title for practice in page.practices]


def test_without_filters_every_published_practice_is_found_newest_first(engine, ids):
    page = search(CatalogueQuery(), engine=engine)

    assert page.total == 6
    assert [p.title for p in page.practices] == [
        "Hospital data exchange framework",
        "Prevention programme in primary care",
        "Mental health chat app",
        "National eHealth strategy",
        "Heart failure telemonitoring",
        "Diabetes coach app",
    ]
    assert page.practices[-1].countries == ["AT", "DE"]
    assert page.practices[-1].owner_organisation == "Heidelberg University Hospital"


def test_facet_counts_over_all_published_practices(engine, ids):
    facets = search(CatalogueQuery(), engine=engine).facets

    assert list(facets) == list(catalogue.FACETS)
    assert facets["type"] == {"app": 2, "framework": 1, "model": 1, "service": 1, "strategy": 1}
    assert facets["maturity"] == {"3": 2, "1": 1, "2": 1, "4": 1, "5": 1}
    assert list(facets["maturity"]) == ["3", "1", "2", "4", "5"]  # largest first
    assert facets["country"] == {"DE": 2, "AT": 1, "EE": 1, "FI": 1, "FR": 1, "IT": 1, "NL": 1}
    assert facets["domain"] == {
        "diabetes": 2,
        "records-and-access": 2,
        "cardiovascular": 1,
        "mental-health": 1,
        "prevention": 1,
        "telehealth": 1,
    }
    # A practice counts once per group it has codes in.
    assert facets["dhi"] == {"1.0": 3, "2.0": 2, "3.0": 1, "4.0": 1}
    assert facets["standard"] == {"fhir": 3, "eehrxf": 1, "ihe": 1, "loinc": 1, "snomed-ct": 1}
    assert facets["language"] == {"de": 2, "en": 3, "et": 1, "fr": 1, "it": 1, "nl": 1}
    assert facets["transferable"] == {"yes": 3, "no": 2}


def test_values_of_one_facet_are_alternatives_and_facets_combine(engine, ids):
    assert titles(engine, practice_types=("app", "model")) == [
        "Prevention programme in primary care",
        "Mental health chat app",
        "Diabetes coach app",
    ]
    assert titles(engine, practice_types=("app", "model"), languages=("en",)) == [
        "Prevention programme in primary care",
        "Diabetes coach app",
    ]
    assert titles(engine, countries=("DE", "FR"), maturities=(2, 3)) == [
        "Mental health chat app",
        "Diabetes coach app",
    ]
    assert titles(engine, standards=("fhir",), transferable=False) == [
        "Hospital data exchange framework",
        "Heart failure telemonitoring",
    ]
    assert titles(engine, health_domains=("diabetes",), countries=("IT",)) == []


def test_each_facet_is_counted_without_its_own_filter(engine, ids):
    page = search(CatalogueQuery(practice_types=("app",), countries=("DE",)), engine=engine)

    assert page.total == 1
    # Types among the practices deployed in Germany, countries among the apps.
    assert page.facets["type"] == {"app": 1, "service": 1}
    assert page.facets["country"] == {"AT": 1, "DE": 1, "FR": 1}
    # Every other facet counts the one practice that matches both filters.
    assert page.facets["maturity"] == {"3": 1}
    assert page.facets["language"] == {"de": 1, "en": 1}
    assert page.facets["transferable"] == {"yes": 1}


def test_dhi_codes_match_their_interventions_and_groups_their_codes(engine, ids):
    assert titles(engine, dhi_codes=("1.4.2",)) == ["Diabetes coach app"]
    assert titles(engine, dhi_codes=("1.4",)) == ["Diabetes coach app"]
    assert titles(engine, dhi_codes=("1.0",)) == [
        "Prevention programme in primary care",
        "Mental health chat app",
        "Diabetes coach app",
    ]
    assert titles(engine, dhi_codes=("2.1", "4.0")) == [
        "Hospital data exchange framework",
        "Prevention programme in primary care",
    ]
    assert titles(engine, dhi_codes=("1.1.1",)) == []
    assert titles(engine, dhi_codes=("9.9",)) == []


def test_text_finds_words_of_the_summary_and_the_organisation(engine, ids):
    assert titles(engine, text="volunteers") == ["Mental health chat app"]
    assert titles(engine, text="utrecht") == ["Prevention programme in primary care"]
    assert titles(engine, text="BERLIN heart") == ["Heart failure telemonitoring"]


def test_text_needs_every_word_and_matches_the_last_as_a_prefix(engine, ids):
    assert titles(engine, text="diabetes glucose") == ["Diabetes coach app"]
    assert titles(engine, text="diabetes volunteers") == []
    assert titles(engine, text="telemon") == ["Heart failure telemonitoring"]
    assert titles(engine, text="telemon heart") == []


def test_text_orders_by_relevance_and_combines_with_filters(engine, ids):
    # The title match ranks above the summary match.
    assert titles(engine, text="diabetes") == [
        "Diabetes coach app",
        "Prevention programme in primary care",
    ]
    assert titles(engine, text="diabetes", sort="newest") == [
        "Prevention programme in primary care",
        "Diabetes coach app",
    ]
    assert titles(engine, text="diabetes", countries=("NL",)) == [
        "Prevention programme in primary care"
    ]
    page = search(CatalogueQuery(text="diabetes", practice_types=("app",)), engine=engine)
    assert page.total == 1
    assert page.facets["type"] == {"app": 1, "model": 1}


@pytest.mark.parametrize("text", NASTY_TEXTS)
def test_query_syntax_in_the_text_never_breaks_the_search(engine, ids, text):
    page = search(CatalogueQuery(text=text), engine=engine)

    assert page.total == len(page.practices) <= 6
    assert set(matching_ids(CatalogueQuery(text=text), engine=engine)) <= set(ids.values())
    with engine.connect() as conn:
        assert conn.execute(Practice.__table__.select()).all()


def test_unpublished_practices_never_appear(engine, ids):
    hidden = {ids["Diabetes draft app"], ids["Diabetes app under review"]}

    for query in (
        CatalogueQuery(),
        CatalogueQuery(text="diabetes"),
        CatalogueQuery(text="never shown"),
        CatalogueQuery(practice_types=("app",), countries=("DE",)),
    ):
        page = search(query, engine=engine)
        assert hidden.isdisjoint(p.id for p in page.practices)
        assert hidden.isdisjoint(matching_ids(query, engine=engine))
    assert search(CatalogueQuery(text="approved"), engine=engine).total == 0
    assert search(CatalogueQuery(), engine=engine).facets["country"]["DE"] == 2


def test_pages_cover_the_result_in_order(engine, ids):
    for sort in catalogue.SORTS:
        every = matching_ids(CatalogueQuery(sort=sort), engine=engine)
        pages = [
            search(CatalogueQuery(sort=sort, page=n, page_size=4), engine=engine) for n in (1, 2)
        ]
        assert [(p.total, p.page, p.pages) for p in pages] == [(6, 1, 2), (6, 2, 2)]
        assert [len(p.practices) for p in pages] == [4, 2]
        assert [p.id for page in pages for p in page.practices] == every


def test_a_page_past_the_end_shows_the_last_page(engine, ids):
    past = search(CatalogueQuery(page=50, page_size=4), engine=engine)
    last = search(CatalogueQuery(page=2, page_size=4), engine=engine)

    assert (past.page, past.pages) == (2, 2)
    assert [p.id for p in past.practices] == [p.id for p in last.practices] != []
    nothing = search(CatalogueQuery(text="quokka", page=3), engine=engine)
    assert (nothing.total, nothing.page, nothing.pages, nothing.practices) == (0, 1, 1, [])


def test_sort_orders(engine, ids):
    assert titles(engine, sort="title")[:3] == [
        "Diabetes coach app",
        "Heart failure telemonitoring",
        "Hospital data exchange framework",
    ]
    assert titles(engine, sort="oldest")[0] == "Diabetes coach app"
    assert titles(engine, sort="maturity")[:2] == [
        "National eHealth strategy",
        "Heart failure telemonitoring",
    ]
    # Relevance without text is newest first.
    assert titles(engine, sort="relevance") == titles(engine, sort="newest")


def test_changes_after_the_index_exists_are_found(engine, ids):
    assert titles(engine, text="chatbot") == []
    with db.session_scope(engine) as session:
        late = add_practice(session, LATE_PRACTICE, datetime(2026, 1, 1, tzinfo=UTC))
    assert titles(engine, text="chatbot babies") == ["Chatbot for new parents"]
    assert titles(engine, text="uppsala") == ["Chatbot for new parents"]

    with db.session_scope(engine) as session:
        session.execute(
            update(Practice).where(Practice.id == late).values(title="Night line for new parents")
        )
        session.execute(
            update(Organisation)
            .where(Organisation.name == "Uppsala Children's Hospital")
            .values(name="Karolinska Children's Hospital")
        )
    assert titles(engine, text="chatbot") == []
    assert titles(engine, text="night line") == ["Night line for new parents"]
    assert titles(engine, text="uppsala") == []
    assert titles(engine, text="karolinska") == ["Night line for new parents"]

    with db.session_scope(engine) as session:
        session.execute(delete(PracticeCountry).where(PracticeCountry.practice_id == late))
        session.execute(delete(PracticeTag).where(PracticeTag.practice_id == late))
        session.execute(delete(Practice).where(Practice.id == late))
    assert titles(engine, text="night line") == []


def test_a_practice_becomes_findable_when_published(engine, ids):
    draft = ids["Diabetes draft app"]
    assert draft not in matching_ids(CatalogueQuery(text="unfinished"), engine=engine)
    with db.session_scope(engine) as session:
        session.execute(
            update(Practice)
            .where(Practice.id == draft)
            .values(status="published", published_at=datetime(2026, 2, 1, tzinfo=UTC))
        )
    assert matching_ids(CatalogueQuery(text="unfinished"), engine=engine) == [draft]


def test_facet_counts_follow_a_newly_published_practice(engine, ids):
    before = search(CatalogueQuery(), engine=engine)
    with db.session_scope(engine) as session:
        session.execute(
            update(Practice)
            .where(Practice.id == ids["Diabetes draft app"])
            .values(status="published", published_at=datetime(2026, 2, 1, tzinfo=UTC))
        )
    after = search(CatalogueQuery(), engine=engine)
    assert after.total == before.total + 1
    assert after.facets["type"]["app"] == before.facets["type"].get("app", 0) + 1


def test_the_demo_catalogue_is_searchable(engine):
    demo.seed_demo(engine=engine, practices=60)
    every = search(CatalogueQuery(page_size=100), engine=engine)
    assert 0 < every.total < 60
    assert sum(every.facets["type"].values()) == every.total
    assert sum(every.facets["maturity"].values()) == every.total

    word = every.practices[0].title.split()[0]
    hits = matching_ids(CatalogueQuery(text=word), engine=engine)
    assert every.practices[0].id in hits

    apps_in_germany = CatalogueQuery(practice_types=("app",), countries=("DE",))
    for practice in search(apps_in_germany, engine=engine).practices:
        assert practice.practice_type == "app" and "DE" in practice.countries


# --- words: stems, labels of the code lists, all words anywhere ---------------------------

#: Practices about COPD and rehabilitation, added to the hand-built catalogue where needed.
BREATHING = (
    "Breathing exercises at home",
    "People with COPD exercise with a tablet; a physiotherapist follows them remotely.",
    "service",
    3,
    ["PL"],
    ["respiratory", "rehabilitation"],
    [],
    [],
    ["pl"],
    True,
    ("Kraków Lung Centre", "PL"),
    "published",
)
INHALER = (
    "COPD inhaler reminders",
    "An app reminds people with COPD to use their inhaler.",
    "app",
    2,
    ["CZ"],
    ["respiratory"],
    [],
    [],
    ["cs"],
    True,
    ("Brno Lung Clinic", "CZ"),
    "published",
)
STROKE = (
    "Rehabilitation after stroke",
    "Stroke survivors train at home with a video coach.",
    "app",
    3,
    ["SK"],
    ["neurology", "rehabilitation"],
    [],
    [],
    ["sk"],
    False,
    ("Bratislava Rehabilitation Institute", "SK"),
    "published",
)


@pytest.fixture
def lungs(engine, ids) -> dict[str, int]:
    """The hand-built catalogue with the COPD and rehabilitation practices."""
    with db.session_scope(engine) as session:
        added = {
            row[0]: add_practice(session, row, datetime(2025, 10 + month, 1, tzinfo=UTC))
            for month, row in enumerate((BREATHING, INHALER, STROKE))
        }
    return ids | added


def test_words_match_by_their_stems(engine, lungs):
    assert titles(engine, text="exercising") == ["Breathing exercises at home"]
    assert titles(engine, text="inhalers") == ["COPD inhaler reminders"]
    assert titles(engine, text="survivor trains") == ["Rehabilitation after stroke"]


def test_the_labels_of_the_code_lists_are_searchable(engine, ids):
    fhir = {
        "Diabetes coach app",
        "Heart failure telemonitoring",
        "Hospital data exchange framework",
    }
    assert set(titles(engine, text="FHIR")) == fhir
    assert set(titles(engine, text="HL7 FHIR")) == fhir
    assert titles(engine, text="SNOMED") == ["Prevention programme in primary care"]
    assert titles(engine, text="scales") == ["Heart failure telemonitoring"]  # 4 · Scaled
    assert titles(engine, text="Estonia") == ["National eHealth strategy"]
    assert titles(engine, text="finland") == ["National eHealth strategy"]
    assert titles(engine, text="Dutch") == ["Prevention programme in primary care"]
    assert titles(engine, text="cardiovascular telehealth") == ["Heart failure telemonitoring"]
    # WHO DHI 1.4.2: "Self monitoring of health or diagnostic data by client".
    assert titles(engine, text="self monitoring") == ["Diabetes coach app"]
    assert titles(engine, text="assessment framework") == ["Hospital data exchange framework"]


def test_the_labels_are_searchable_in_every_interface_language(engine, ids):
    # Practices written in English, found by their code lists' labels in French, German, Spanish
    # and Italian: the health domain "Records and access (EHRs, patient portals, ...)" and the
    # European EHR exchange format.
    records = {"National eHealth strategy", "Hospital data exchange framework"}
    assert set(titles(engine, text="dossier patient")) == records
    assert set(titles(engine, text="Patientenakten")) == records
    assert set(titles(engine, text="portales del paciente")) == records
    assert set(titles(engine, text="fascicoli portali")) == records
    # WHO DHI 1.4.1, "Acceso de los usuarios a su propia historia clínica".
    assert titles(engine, text="historia clinica propia") == ["Diabetes coach app"]
    assert titles(engine, text="Diabète Allemagne") == ["Diabetes coach app"]
    # Countries by their names in the interface languages (Babel's), folded as any word.
    assert titles(engine, text="Estland") == ["National eHealth strategy"]
    assert set(titles(engine, text="Alemania")) == {
        "Diabetes coach app",
        "Heart failure telemonitoring",
    }
    assert titles(engine, text="Österreich") == titles(engine, text="osterreich")
    assert titles(engine, text="osterreich") == ["Diabetes coach app"]
    # Languages by their names too ("Néerlandais" is Dutch in French).
    assert titles(engine, text="neerlandais") == ["Prevention programme in primary care"]
    # The articles and prepositions of those languages are left out as English ones are.
    assert set(titles(engine, text="le dossier du patient")) == records
    assert set(titles(engine, text="die elektronische Patientenakte")) == records
    assert set(titles(engine, text="los portales para el paciente")) == records


def test_every_word_must_be_found_in_some_field(engine, lungs):
    assert titles(engine, text="COPD rehabilitation") == ["Breathing exercises at home"]
    assert set(titles(engine, text="COPD")) == {
        "Breathing exercises at home",
        "COPD inhaler reminders",
    }
    assert titles(engine, text="diabetes Germany") == ["Diabetes coach app"]
    assert titles(engine, text="heart FHIR loinc") == ["Heart failure telemonitoring"]
    assert titles(engine, text="telemonitoring Germany") == ["Heart failure telemonitoring"]
    assert titles(engine, text="strategy Estonia") == ["National eHealth strategy"]
    assert titles(engine, text="diabetes Estonia") == []


def test_common_words_are_left_out_of_a_search(engine, lungs):
    assert set(titles(engine, text="rehabilitation at the home")) == {
        "Breathing exercises at home",
        "Rehabilitation after stroke",
    }
    assert titles(engine, text="the") == []
    assert search(CatalogueQuery(text="of the and"), engine=engine).total == 0


def test_title_matches_rank_first_then_the_other_fields(engine, lungs):
    assert titles(engine, text="rehabilitation")[0] == "Rehabilitation after stroke"
    records = titles(engine, text="records")
    assert records[0] == "National eHealth strategy"  # in its summary and its health domain
    # In a health domain (records and access) or a WHO DHI intervention ("medical records");
    # the last word also matches as a prefix: WHO DHI 1.1.3 in Spanish holds "recordatorios".
    assert set(records) == {
        "National eHealth strategy",
        "Hospital data exchange framework",
        "Diabetes coach app",
        "Heart failure telemonitoring",
        "Prevention programme in primary care",
    }
    assert titles(engine, text="data exchange")[:2] == [
        "Hospital data exchange framework",
        "National eHealth strategy",
    ]


def test_accents_are_folded(engine, lungs):
    for text in ("krakow", "Kraków", "KRAKOW lung", "kraków lung"):
        assert titles(engine, text=text) == ["Breathing exercises at home"]
    for text in ("brno", "Brnó", "BRNÔ inhaler"):  # the organisation is "Brno Lung Clinic"
        assert titles(engine, text=text) == ["COPD inhaler reminders"]


def test_the_labels_follow_every_write_of_tags_deployments_and_codes(engine, ids):
    chat = ids["Mental health chat app"]
    with db.session_scope(engine) as session:  # core bulk insert, as the demo data and imports
        session.execute(
            insert(PracticeTag), [{"practice_id": chat, "kind": "standard", "code": "fhir"}]
        )
    assert "Mental health chat app" in titles(engine, text="fhir")
    with db.session_scope(engine) as session:  # ORM
        session.add(PracticeCountry(practice_id=chat, country="EE"))
    assert set(titles(engine, text="Estonia")) == {
        "Mental health chat app",
        "National eHealth strategy",
    }
    with db.session_scope(engine) as session:
        session.execute(
            update(Practice).where(Practice.id == chat).values(maturity=4, practice_type="policy")
        )
    assert "Mental health chat app" in titles(engine, text="scaled policy")
    assert "Mental health chat app" not in titles(engine, text="pilot")
    with db.session_scope(engine) as session:
        session.execute(
            delete(PracticeTag).where(
                PracticeTag.practice_id == chat, PracticeTag.kind == "standard"
            )
        )
        session.delete(session.get(PracticeCountry, (chat, "EE")))
    assert "Mental health chat app" not in titles(engine, text="fhir")
    assert titles(engine, text="Estonia") == ["National eHealth strategy"]


def test_practices_registered_through_the_service_are_found_by_their_labels(engine):
    with db.session_scope(engine) as session:
        org = Organisation(name="Tartu University Hospital", country="EE")
        session.add(org)
        session.flush()
        owner = people.account(session, "owner", organisation_id=org.id)
        coordinator = people.account(session, "coordinator", role="coordinator")
        data = PracticeCreate(
            title="Home telemonitoring of heart failure",
            summary="Patients send weight and blood pressure daily; nurses call when values drift.",
            practice_type="service",
            maturity=4,
            countries=["EE", "LV"],
            standards=["fhir"],
        )
        practice = practices.submit_practice(session=session, data=data, actor=owner)
        practices.approve_practice(session=session, practice_id=practice.id, actor=coordinator)
    assert titles(engine, text="telemonitoring Estonia") == ["Home telemonitoring of heart failure"]
    assert titles(engine, text="Latvia FHIR") == ["Home telemonitoring of heart failure"]


def test_imported_practices_are_found_by_their_labels(engine):
    row = {
        "title": "Heart failure telemonitoring",
        "summary": "Patients send weight and blood pressure daily; nurses act on alerts.",
        "practice_type": "service",
        "maturity": "4",
        "countries": "EE;LV",
        "owner_organisation": "Tartu University Hospital",
        "owner_country": "EE",
        "standards": "fhir;snomed-ct",
    }
    report = io.import_practices([row], actor=accounts.system_actor("test"), engine=engine)
    assert report.imported == 1
    assert titles(engine, text="telemonitoring Estonia SNOMED") == ["Heart failure telemonitoring"]


def test_the_demo_catalogue_is_found_by_stems_and_labels(engine):
    demo.seed_demo(engine=engine, practices=600)

    def ids_of(**query) -> set[int]:
        return set(matching_ids(CatalogueQuery(**query), engine=engine))

    assert ids_of(standards=("fhir",)) <= ids_of(text="FHIR") != set()
    assert ids_of(countries=("EE",)) <= ids_of(text="Estonia") != set()
    assert ids_of(maturities=(4,)) <= ids_of(text="scales") != set()
    copd = ids_of(text="COPD")
    assert (
        ids_of(text="COPD", health_domains=("rehabilitation",))
        <= ids_of(text="COPD rehabilitation")
        <= copd
    )
    assert ids_of(text="COPD rehabilitation") != set()
    assert (
        ids_of(text="telemonitoring", countries=("EE",))
        <= ids_of(text="telemonitoring Estonia")
        <= ids_of(text="telemonitoring")
    )


def test_a_changed_label_of_a_code_list_is_taken_up_on_upgrade(engine, ids, monkeypatch):
    rows = search_index.label_rows()
    renamed = [
        {**row, "terms": row["terms"] + " Zebrafhir"} if row["code"] == "fhir" else row
        for row in rows
    ]
    monkeypatch.setattr(search_index, "label_rows", lambda: renamed)
    db.upgrade(engine)
    assert len(titles(engine, text="zebrafhir")) == 3
    monkeypatch.setattr(search_index, "label_rows", lambda: rows)
    db.upgrade(engine)
    assert titles(engine, text="zebrafhir") == []


#: Search texts full of the query syntax of FTS5 and tsquery, and of odd characters.
search_texts = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda words, separator: separator.join(words),
        st.lists(
            st.sampled_from(
                [
                    '"',
                    "'",
                    "*",
                    "-",
                    ":",
                    "^",
                    "NEAR",
                    "NEAR(",
                    "AND",
                    "OR",
                    "NOT",
                    "(",
                    ")",
                    "{",
                    "}",
                    "&",
                    "|",
                    "!",
                    "<->",
                    ":*",
                    "diabetes",
                    "heart",
                    "Kraków",
                    "é",
                    "\\",
                    "%",
                    "_",
                    "title:",
                    "fhir",
                    "😀",
                    "\x00",
                    "ß",
                    "İ",
                    "ǅ",
                    "½",
                    "٣",
                ]
            ),  # fmt: skip
            max_size=8,
        ),
        st.sampled_from([" ", "", "-", '"']),
    ),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=search_texts)
def test_no_search_text_breaks_the_query(engine, ids, text):
    page = search(CatalogueQuery(text=text), engine=engine)

    assert page.total == len(page.practices) <= 6
    assert set(matching_ids(CatalogueQuery(text=text), engine=engine)) <= set(ids.values())


#: Facet -> the query attribute that filters on it.
ATTRIBUTES = {
    "type": "practice_types",
    "maturity": "maturities",
    "country": "countries",
    "domain": "health_domains",
    "dhi": "dhi_codes",
    "standard": "standards",
    "language": "languages",
}
some = st.lists
filtered_queries = st.builds(
    CatalogueQuery,
    text=st.sampled_from(["", "diabetes", "app", "heart fhir", "health", "the", "zzz", "germany"]),
    practice_types=some(st.sampled_from(["app", "model", "service"]), max_size=2).map(tuple),
    maturities=some(st.sampled_from([1, 3, 4]), max_size=2).map(tuple),
    countries=some(st.sampled_from(["DE", "EE", "FR", "NL", "AT"]), max_size=2).map(tuple),
    health_domains=some(st.sampled_from(["diabetes", "records-and-access"]), max_size=2).map(tuple),
    dhi_codes=some(st.sampled_from(["1.0", "1.4", "1.4.1", "2.0", "3.1.1"]), max_size=2).map(tuple),
    standards=some(st.sampled_from(["fhir", "snomed-ct"]), max_size=1).map(tuple),
    languages=some(st.sampled_from(["en", "de"]), max_size=1).map(tuple),
    transferable=st.sampled_from([None, True, False]),
    sort=st.sampled_from(catalogue.SORTS),
    page_size=st.just(100),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=filtered_queries)
def test_the_in_memory_page_and_counts_agree_with_the_filters_in_sql(engine, ids, query):
    page = search(query, engine=engine)

    assert [p.id for p in page.practices] == matching_ids(query, engine=engine)
    assert page.total == len(page.practices)
    for facet, counts in page.facets.items():
        for value, count in counts.items():
            if facet == "transferable":
                only = dataclasses.replace(query, transferable=value == "yes")
            else:
                chosen = int(value) if facet == "maturity" else value
                only = dataclasses.replace(query, **{ATTRIBUTES[facet]: (chosen,)})
            assert count == len(matching_ids(only, engine=engine)), (facet, value)


def test_the_benchmark_times_every_query(engine):
    demo.seed_demo(engine=engine, practices=60)

    figures = bench.run_catalogue_bench(engine=engine, repeats=3)

    assert figures["n"] == 3 * len(bench.CATALOGUE_QUERIES)
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert list(figures["queries"]) == list(bench.CATALOGUE_QUERIES)
    assert figures["practices"] == search(CatalogueQuery(), engine=engine).total > 0


# --- URL parameters ---------------------------------------------------------------------

codes = st.sampled_from
queries = st.builds(
    CatalogueQuery,
    text=st.text(max_size=catalogue.MAX_TEXT),
    practice_types=st.lists(codes(list(taxonomy.PRACTICE_TYPES)), unique=True).map(tuple),
    maturities=st.lists(codes(list(taxonomy.MATURITY_LEVELS)), unique=True).map(tuple),
    countries=st.lists(codes(list(geo.country_names())), unique=True).map(tuple),
    health_domains=st.lists(codes(list(taxonomy.HEALTH_DOMAINS)), unique=True).map(tuple),
    dhi_codes=st.lists(
        codes([*taxonomy.DHI_GROUPS, *taxonomy.DHI_CODES]), unique=True, max_size=5
    ).map(tuple),
    standards=st.lists(codes(list(taxonomy.STANDARDS)), unique=True).map(tuple),
    languages=st.lists(codes(list(taxonomy.LANGUAGES)), unique=True, max_size=5).map(tuple),
    transferable=st.sampled_from([None, True, False]),
    sort=st.sampled_from(catalogue.SORTS),
    page=st.integers(1, catalogue.MAX_PAGE),
    page_size=st.integers(1, catalogue.MAX_PAGE_SIZE),
)


@given(queries)
def test_url_parameters_round_trip(query):
    params = query.to_params()

    assert CatalogueQuery.from_params(params) == query
    assert all(isinstance(v, str | list) for v in params.values())


def test_default_query_has_no_parameters_and_lists_may_be_comma_separated():
    assert CatalogueQuery().to_params() == {}
    assert CatalogueQuery.from_params({"type": "app,Policy", "country": ["de", "France"]}) == (
        CatalogueQuery(practice_types=("app", "policy"), countries=("DE", "FR"))
    )


junk_values = st.one_of(st.text(), st.lists(st.text(), max_size=4), st.integers(), st.none())
junk = st.dictionaries(
    st.sampled_from(["q", "type", "maturity", "country", "domain", "dhi", "standard"])
    | st.sampled_from(["language", "transferable", "sort", "page", "size"])
    | st.text(max_size=10),
    junk_values,
    max_size=8,
)


@given(junk)
def test_junk_parameters_never_raise(params):
    query = CatalogueQuery.from_params(params)

    assert 1 <= query.page <= catalogue.MAX_PAGE
    assert 1 <= query.page_size <= catalogue.MAX_PAGE_SIZE
    assert query.sort in catalogue.SORTS
    assert set(query.practice_types) <= set(taxonomy.PRACTICE_TYPES)
    assert CatalogueQuery.from_params(query.to_params()) == query


def test_unknown_codes_and_bad_numbers_are_dropped():
    query = CatalogueQuery.from_params(
        {
            "type": ["app", "spaceship"],
            "maturity": ["3", "9", "x"],
            "country": ["DE", "Atlantis"],
            "dhi": ["1.4", "9.9", "1.0"],
            "transferable": "perhaps",
            "sort": "random",
            "page": "-3",
            "size": "100000",
        }
    )

    assert query == CatalogueQuery(
        practice_types=("app",),
        maturities=(3,),
        countries=("DE",),
        dhi_codes=("1.4", "1.0"),
        page=1,
        page_size=catalogue.MAX_PAGE_SIZE,
    )


# --- migration 0008 ------------------------------------------------------------------------


def _store_at_0007(conn, title: str, organisation: str) -> None:
    org = insert_as_stored(conn, Organisation(name=organisation, country="PL"))
    practice = insert_as_stored(
        conn,
        Practice(
            title=title,
            summary="People with COPD exercise at home, followed by a physiotherapist.",
            practice_type="service",
            maturity=4,
            owner_organisation_id=org,
            status="published",
            published_at=datetime(2025, 5, 1, tzinfo=UTC),
        ),
    )
    insert_as_stored(conn, PracticeCountry(practice_id=practice, country="EE"))
    insert_as_stored(conn, PracticeTag(practice_id=practice, kind="standard", code="fhir"))


def test_the_migration_indexes_the_stored_practices_and_can_be_undone(fresh_engine):
    config = db.alembic_config(fresh_engine)
    command.upgrade(config, "0007")
    with fresh_engine.begin() as conn:
        _store_at_0007(conn, "Telerehabilitation for COPD", "Kraków Lung Centre")

    db.upgrade(fresh_engine)
    for text in ("FHIR", "Estonia", "scales", "telerehabilitation copd", "Kraków lung"):
        assert titles(fresh_engine, text=text) == ["Telerehabilitation for COPD"], text

    command.downgrade(config, "0007")
    with fresh_engine.begin() as conn:
        _store_at_0007(conn, "Pulmonary rehabilitation app", "Tartu Lung Clinic")
        assert conn.exec_driver_sql("SELECT count(*) FROM practice_search").scalar() == 2
    db.upgrade(fresh_engine)
    assert set(titles(fresh_engine, text="FHIR Estonia")) == {
        "Telerehabilitation for COPD",
        "Pulmonary rehabilitation app",
    }


def test_the_folding_migration_can_be_undone_and_redone(fresh_engine):
    db.upgrade(fresh_engine)
    with db.session_scope(fresh_engine) as session:
        add_practice(session, BREATHING, datetime(2025, 10, 1, tzinfo=UTC))
    config = db.alembic_config(fresh_engine)
    command.downgrade(config, "0015")
    with fresh_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM practice_search").scalar() == 1
        if fresh_engine.dialect.name == "postgresql":
            folds = "SELECT count(*) FROM pg_proc WHERE proname = 'practice_search_fold'"
            assert conn.exec_driver_sql(folds).scalar() == 0
    db.upgrade(fresh_engine)
    assert titles(fresh_engine, text="Krakòw") == ["Breathing exercises at home"]


def test_without_the_right_to_create_extensions_the_migration_still_works():
    admin_url = PG_ADMIN_URL
    role = f"dhu_plain_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    with admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        try:
            for url in _pg_database():
                with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as owner:
                    owner.execute(f'GRANT USAGE, CREATE ON SCHEMA public TO "{role}"')
                engine = db.get_engine(url.replace("postgres@", f"{role}@"))
                try:
                    db.upgrade(engine)
                    with engine.begin() as conn:
                        _store_at_0007(conn, "Telerehabilitation for COPD", "Kraków Lung Centre")
                        extensions = conn.exec_driver_sql("SELECT extname FROM pg_extension")
                        assert "unaccent" not in set(extensions.scalars())
                    with db.session_scope(engine) as session:
                        search_index.rebuild_all(session)
                    # Folded by the index itself (migration 0016), without the extension.
                    for text in ("FHIR Kraków", "krakow", "Krakòw"):
                        assert titles(engine, text=text) == ["Telerehabilitation for COPD"]
                    # Added later, as the README says.
                    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as owner:
                        owner.execute("CREATE EXTENSION unaccent")
                        owner.execute(
                            "ALTER TEXT SEARCH CONFIGURATION practice_search_english ALTER "
                            "MAPPING FOR hword, hword_part, word WITH unaccent, english_stem"
                        )
                    with engine.begin() as conn:
                        conn.exec_driver_sql("DELETE FROM practice_search_label")
                    db.upgrade(engine)
                    assert titles(engine, text="krakow") == ["Telerehabilitation for COPD"]
                finally:
                    engine.dispose()
        finally:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_paging_or_filtering_a_search_runs_its_text_query_once_until_a_write(
    engine, ids, monkeypatch
):
    runs = []
    real = catalogue._scored_hits
    monkeypatch.setattr(catalogue, "_scored_hits", lambda *a: runs.append(a[2]) or real(*a))
    first = titles(engine, text="app")
    assert titles(engine, text="app", languages=("en",)) == ["Diabetes coach app"]
    assert search(CatalogueQuery(text="app", page=2, page_size=1), engine=engine).page == 2
    assert runs == [["app"]]
    titles(engine, text="heart")
    assert runs == [["app"], ["heart"]]

    with db.session_scope(engine) as session:
        row = ("Asthma app", "Inhaler reminders.", "app", 2, ["EE"], [], [], [], ["en"])
        add_practice(session, (*row, True, ("Tartu Clinic", "EE"), "published"), datetime.now(UTC))
    assert sorted(titles(engine, text="app")) == sorted(["Asthma app", *first])
    assert runs == [["app"], ["heart"], ["app"]]
