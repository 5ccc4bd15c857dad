"""The text alternative of every chart (WCAG 2.1 AA, 1.1.1 and 1.4.1): a sentence that says what
the chart shows, and its figures as a table, for people who cannot see the chart or tell its
colours apart. One function per chart of `dhu_core.charts`, taking the same data."""

from dataclasses import dataclass

import pandas as pd

from dhu_core import uptake
from dhu_core.i18n import _, format_number, format_percent, ngettext

#: How many categories a summary names after the largest one.
NAMED = 2


@dataclass(frozen=True)
class ChartText:
    """A chart in words: `summary`, one or two sentences, and `table`, its figures."""

    summary: str
    table: pd.DataFrame


def _ranked(labels: pd.Series, counts: pd.Series) -> str:
    """ "X (12), then Y (8) and Z (5)": the largest non-zero counts, largest first."""
    pairs = sorted(
        ((str(label), int(count)) for label, count in zip(labels, counts, strict=True) if count),
        key=lambda pair: -pair[1],
    )
    named = [
        _("{label} ({count})").format(label=label, count=format_number(count))
        for label, count in pairs[: NAMED + 1]
    ]
    if len(named) == 1:
        return named[0]
    rest = ", ".join(named[1:-1])
    then = _("{first}, then {rest} and {last}") if rest else _("{first}, then {last}")
    return then.format(first=named[0], rest=rest, last=named[-1])


def _total(count: int) -> str:
    return ngettext("{count} practice in all.", "{count} practices in all.", count).format(
        count=format_number(count)
    )


def _counted(frame: pd.DataFrame, category: str, heading: str, most: str) -> ChartText:
    table = pd.DataFrame(
        {heading: frame[category].astype(str), _("Practices"): frame["practices"].astype(int)}
    )
    total = int(frame["practices"].sum())
    if not total:
        return ChartText(_("No practice is counted."), table)
    summary = most.format(ranked=_ranked(frame[category], frame["practices"]))
    return ChartText(f"{summary} {_total(total)}", table)


def practices_by_type(frame: pd.DataFrame) -> ChartText:
    """Of `charts.practices_by_type` (from `uptake.by_type`)."""
    return _counted(frame, "type", _("Type"), _("Most practices are of the type {ranked}."))


def maturity_distribution(frame: pd.DataFrame) -> ChartText:
    """Of `charts.maturity_distribution` (from `uptake.by_maturity`)."""
    return _counted(
        frame, "level", _("Maturity"), _("Most practices are at the maturity level {ranked}.")
    )


def registrations_over_time(frame: pd.DataFrame) -> ChartText:
    """Of `charts.registrations_over_time` (from `uptake.by_year`): a row per year, a column
    per type, and the year's total."""
    table = (
        frame.pivot_table(index="year", columns="type", values="practices", aggfunc="sum")
        .fillna(0)
        .astype(int)
    )
    table[_("Total")] = table.sum(axis=1)
    table = table.reset_index().rename(columns={"year": _("Year")})
    table.columns.name = None
    if table.empty:
        return ChartText(_("No practice is counted."), table)
    totals = table[_("Total")]
    busiest = table.loc[totals.idxmax()]
    summary = _(
        "{total} practices registered from {first} to {last}; most in {year} ({count})."
    ).format(
        total=format_number(int(totals.sum())),
        first=table[_("Year")].min(),
        last=table[_("Year")].max(),
        year=busiest[_("Year")],
        count=format_number(int(busiest[_("Total")])),
    )
    return ChartText(summary, table)


def cross_border_flows(frame: pd.DataFrame) -> ChartText:
    """Of `charts.cross_border_flows` (from `uptake.cross_border_flows`): every flow, the
    chart's largest ones first."""
    table = pd.DataFrame(
        {
            _("From"): frame["origin_name"].astype(str),
            _("Deployed in"): frame["country_name"].astype(str),
            _("Practices"): frame["practices"].astype(int),
        }
    )
    if table.empty:
        return ChartText(_("No practice is deployed outside its owner's country."), table)
    first = frame.iloc[0]
    summary = ngettext(
        "{count} flow of practices across a border. The largest: {practices} from {origin} "
        "deployed in {country}.",
        "{count} flows of practices across borders. The largest: {practices} from {origin} "
        "deployed in {country}.",
        len(frame),
    ).format(
        count=format_number(len(frame)),
        practices=format_number(int(first["practices"])),
        origin=first["origin_name"],
        country=first["country_name"],
    )
    return ChartText(summary, table)


def domains_by_type(frame: pd.DataFrame) -> ChartText:
    """Of `charts.domains_by_type` (from `uptake.domains_by_type`): a row per health domain, a
    column per type."""
    table = (
        frame.pivot_table(index="domain", columns="type", values="practices", aggfunc="sum")
        .fillna(0)
        .astype(int)
    )
    table = table.reset_index().rename(columns={"domain": _("Health domain")})
    table.columns.name = None
    if frame.empty:
        return ChartText(_("No practice is counted."), table)
    top = frame.loc[frame["practices"].idxmax()]
    summary = _("The most common pair is {domain} with {type} ({count}).").format(
        domain=top["domain"], type=top["type"], count=format_number(int(top["practices"]))
    )
    return ChartText(summary, table)


def indicator_comparison(comparison: uptake.IndicatorComparison) -> ChartText:
    """Of `charts.indicator_comparison`: a row per country, the metric and the indicator."""
    metric, indicator = comparison.metric, comparison.indicator
    label, public = _(uptake.METRICS[metric].label), _(uptake.INDICATORS[indicator])
    frame = comparison.frame
    table = pd.DataFrame(
        {
            _("Country"): frame["name"].astype(str),
            label: frame[metric],
            f"{public} (%)": frame[indicator],
        }
    )
    if frame.empty:
        return ChartText(_("No country has a value to compare."), table)
    high_metric = frame.loc[frame[metric].idxmax()]
    high_public = frame.loc[frame[indicator].idxmax()]
    decimals = uptake.METRICS[metric].decimals
    summary = ngettext(
        "{count} country compared. {metric}: highest in {first} ({value}). {indicator}: highest "
        "in {second} ({percent}).",
        "{count} countries compared. {metric}: highest in {first} ({value}). {indicator}: "
        "highest in {second} ({percent}).",
        len(frame),
    ).format(
        count=format_number(len(frame)),
        metric=label,
        first=high_metric["name"],
        value=format_number(high_metric[metric], decimals=decimals),
        indicator=public,
        second=high_public["name"],
        percent=format_percent(round(high_public[indicator] / 100, 2)),
    )
    return ChartText(summary, table)


def score_breakdown(rows: list[dict]) -> ChartText:
    """Of `charts.score_breakdown` (rows from `matching.breakdown_rows`)."""
    share = _("Share of the score")
    table = pd.DataFrame(
        {
            _("Criterion"): [str(row["criterion"]) for row in rows],
            _("Value"): [format_percent(round(row["value"], 2)) for row in rows],
            share: [format_percent(round(row["contribution"], 2)) for row in rows],
        }
    )
    if not rows:
        return ChartText(_("No criterion counts for this need."), table)
    best = max(rows, key=lambda row: row["value"])
    worst = min(rows, key=lambda row: row["value"])
    summary = _("Strongest criterion: {best} ({high}); weakest: {worst} ({low}).").format(
        best=best["criterion"],
        high=format_percent(round(best["value"], 2)),
        worst=worst["criterion"],
        low=format_percent(round(worst["value"], 2)),
    )
    return ChartText(summary, table)
