"""Reading URL query parameters that anyone can edit: the pages never raise and drop what is
not known; the API refuses it (`InvalidParameter`)."""

from collections.abc import Callable


class InvalidParameter(ValueError):
    """A parameter value that a strict reader (the API) refuses; `field` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def strings(raw: object) -> list[str]:
    """The text values of a parameter (one value, or a list from repeated keys)."""
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list | tuple):
        return [item for item in raw if isinstance(item, str)]
    return []


def values(raw: object) -> list[str]:
    """Every value of a list parameter, given as repeated keys, comma-separated, or both."""
    return [part.strip() for item in strings(raw) for part in item.split(",") if part.strip()]


def last(raw: object) -> str:
    """The last value of a single-valued parameter, stripped ("" when absent)."""
    found = strings(raw)
    return found[-1].strip() if found else ""


def known(items: list[str], parse: Callable[[str], object]) -> list:
    """The items that `parse` accepts, parsed; the others (ValueError) are dropped."""
    accepted = []
    for item in items:
        try:
            accepted.append(parse(item))
        except ValueError:
            continue
    return accepted


def identifier(raw: object) -> int | None:
    """The record id given by a single-valued parameter (`?digest=12`), or None."""
    text = last(raw)
    # Python refuses to read more than 4,300 digits (ValueError); no id has more than 10.
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number < 2**31 else None  # beyond that no database holds an id
