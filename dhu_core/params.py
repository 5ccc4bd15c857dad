"""Reading URL query parameters that anyone can edit: never raise, drop what is not known."""

from collections.abc import Callable


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
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number < 2**31 else None  # beyond that no database holds an id
