"""A call's applications, scores and awards as CSV or XLSX files for the funder's reporting
(coordinators and administrators); every text goes through the spreadsheet writer, which
keeps formula-like text inert."""

from collections.abc import Callable

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from dhu_core import audit, spreadsheet
from dhu_core.accounts import require_role
from dhu_core.calls import calls
from dhu_core.models import (
    Call,
    CallApplication,
    CallApplicationPractice,
    CallAward,
    CallConsensus,
    CallScore,
    Organisation,
    Practice,
    TwinningNeed,
    User,
)

Rows = list[list[object]]

APPLICATION_COLUMNS = (
    "application_id", "organisation", "country", "need_id", "need", "practices", "motivation",
    "status", "submitted_at", "consensus_total",
)  # fmt: skip
SCORE_COLUMNS = ("application_id", "organisation", "source", "criterion", "score", "comment")
AWARD_COLUMNS = (
    "application_id", "organisation", "country", "outcome", "rank", "reserve_position",
    "practice_id", "practice", "originator", "grant", "currency", "twinning_id", "decided_at",
)  # fmt: skip
#: What the consensus is called in the `source` column of the scores, beside usernames.
CONSENSUS = "consensus"


def _time(value) -> str:
    return "" if value is None else value.isoformat(timespec="seconds")


def _applications(session: Session, call: Call) -> Rows:
    chosen: dict[int, list[str]] = {}
    for application_id, title, status in session.exec(
        select(
            CallApplicationPractice.application_id, Practice.title, CallApplicationPractice.status
        )
        .join(Practice, Practice.id == CallApplicationPractice.practice_id)
        .join(CallApplication, CallApplication.id == CallApplicationPractice.application_id)
        .where(CallApplication.call_id == call.id)
        .order_by(col(Practice.title))
    ):
        chosen.setdefault(application_id, []).append(f"{title} ({status})")
    rows = session.execute(
        select(CallApplication, Organisation, TwinningNeed.problem_statement, CallConsensus.total)
        .join(Organisation, Organisation.id == CallApplication.organisation_id)
        .join(TwinningNeed, TwinningNeed.id == CallApplication.need_id)
        .outerjoin(CallConsensus, CallConsensus.application_id == CallApplication.id)
        .where(CallApplication.call_id == call.id)
        .order_by(col(CallApplication.id))
    ).all()
    return [
        [
            application.id,
            organisation.name,
            organisation.country,
            application.need_id,
            need,
            "; ".join(chosen.get(application.id, [])),
            application.motivation,
            application.status,
            _time(application.submitted_at),
            "" if total is None else round(total, 2),
        ]  # fmt: skip
        for application, organisation, need, total in rows
    ]


def _scores(session: Session, call: Call) -> Rows:
    evaluator = aliased(User)
    rows: Rows = [
        [application_id, organisation, username, score.criterion, score.score, score.comment]
        for score, application_id, organisation, username in session.execute(
            select(CallScore, CallApplication.id, Organisation.name, evaluator.username)
            .join(CallApplication, CallApplication.id == CallScore.application_id)
            .join(Organisation, Organisation.id == CallApplication.organisation_id)
            .join(evaluator, evaluator.id == CallScore.evaluator_id)
            .where(CallApplication.call_id == call.id)
            .order_by(col(CallApplication.id), evaluator.username, col(CallScore.criterion))
        ).all()
    ]
    for consensus, organisation in session.execute(
        select(CallConsensus, Organisation.name)
        .join(CallApplication, CallApplication.id == CallConsensus.application_id)
        .join(Organisation, Organisation.id == CallApplication.organisation_id)
        .where(CallApplication.call_id == call.id)
        .order_by(col(CallApplication.id))
    ).all():
        application_id = consensus.application_id
        rows += [
            [application_id, organisation, CONSENSUS, name, given.get("score", ""),
             given.get("comment", "")]
            for name, given in consensus.scores.items()
        ]  # fmt: skip
        rows.append(
            [application_id, organisation, CONSENSUS, "total", round(consensus.total, 2),
             consensus.comment]
        )  # fmt: skip
    return rows


def _awards(session: Session, call: Call) -> Rows:
    originator = aliased(Organisation)
    rows = session.execute(
        select(CallAward, Organisation, Practice.title, originator.name)
        .join(CallApplication, CallApplication.id == CallAward.application_id)
        .join(Organisation, Organisation.id == CallApplication.organisation_id)
        .outerjoin(Practice, Practice.id == CallAward.practice_id)
        .outerjoin(originator, originator.id == Practice.owner_organisation_id)
        .where(CallAward.call_id == call.id)
        .order_by(col(CallAward.rank), col(CallAward.application_id))
    ).all()
    return [
        [
            award.application_id,
            organisation.name,
            organisation.country,
            award.outcome,
            award.rank or "",
            award.reserve_position or "",
            award.practice_id or "",
            title or "",
            originator_name or "",
            award.grant,
            call.currency,
            award.match_id or "",
            _time(award.decided_at),
        ]  # fmt: skip
        for award, organisation, title, originator_name in rows
    ]


#: The tables a call exports: their columns and how their rows are read.
TABLES: dict[str, tuple[tuple[str, ...], Callable[[Session, Call], Rows]]] = {
    "applications": (APPLICATION_COLUMNS, _applications),
    "scores": (SCORE_COLUMNS, _scores),
    "awards": (AWARD_COLUMNS, _awards),
}


def export(*, session: Session, actor: User, call_id: int, table: str, fmt: str) -> bytes:
    """One table of a call (`applications`, `scores` or `awards`) as the bytes of a CSV or
    XLSX file, for coordinators and administrators; the download is audited."""
    require_role(actor, *calls.COORDINATORS)
    if table not in TABLES:
        raise ValueError(f"unknown table '{table}' (use {', '.join(TABLES)})")
    call = session.get(Call, call_id)
    if call is None:
        raise LookupError(f"no call with id {call_id}")
    columns, read = TABLES[table]
    data = spreadsheet.file_bytes(fmt, columns, read(session, call), sheet=table)
    audit.record(session, actor, "call.exported", "call", call.id, table=table, format=fmt)
    return data
