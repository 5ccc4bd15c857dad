"""The rules of a call an application is checked against when it is submitted."""

from collections.abc import Sequence
from dataclasses import dataclass

from dhu_core import geo, taxonomy
from dhu_core.i18n import _
from dhu_core.models import Call


class Ineligible(ValueError):
    """An application breaks the call's rules: one message per field, shown next to it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Candidate:
    """A practice as eligibility sees it."""

    title: str
    practice_type: str | None
    maturity: int | None


def problems(call: Call, *, adopter_country: str, practices: Sequence[Candidate]) -> dict[str, str]:
    """What keeps an application of an adopter in `adopter_country` with `practices` out of
    the call, by field (`organisation`, `practice_ids`); empty when it is eligible."""
    found: dict[str, str] = {}
    if call.countries and adopter_country not in call.countries:
        allowed = ", ".join(geo.country_name(code) for code in call.countries)
        found["organisation"] = _(
            "Your organisation is in {country}; this call is open to organisations in {allowed}."
        ).format(country=geo.country_name(adopter_country), allowed=allowed)
    if not practices:
        found["practice_ids"] = _("Choose at least one practice.")
        return found
    reasons = []
    for practice in practices:
        if call.practice_types and practice.practice_type not in call.practice_types:
            allowed = ", ".join(taxonomy.PRACTICE_TYPES.label(c) for c in call.practice_types)
            reasons.append(
                _("“{title}” is not of a type this call takes ({allowed}).").format(
                    title=practice.title, allowed=allowed
                )
            )
        if call.min_maturity and (practice.maturity or 0) < call.min_maturity:
            reasons.append(
                _(
                    "“{title}” has maturity {maturity}; this call takes practices of maturity "
                    "{level} or more."
                ).format(
                    title=practice.title,
                    maturity=practice.maturity or _("unknown"),
                    level=call.min_maturity,
                )
            )
    if reasons:
        found["practice_ids"] = " ".join(reasons)
    return found
