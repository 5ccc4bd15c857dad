"""Long lists shown a page at a time, the page named in the address (`?page=N`) so that a link
opens it again; a page beyond the last opens the last."""

import math
from collections.abc import Sequence
from typing import TypeVar

import streamlit as st

from dhu_core import params
from dhu_core.i18n import _, format_number

#: Items on one page: a phone scrolls through them in a few screens.
PER_PAGE = 20
T = TypeVar("T")


def shown(items: Sequence[T], *, per_page: int | None = None) -> Sequence[T]:
    """The items of the page the address asks for (the first by default), clamped to the
    pages there are; writes the page into the address when it is not the first."""
    per_page = per_page or PER_PAGE
    page, pages = _page(len(items), per_page)
    if page > 1:
        st.query_params["page"] = str(page)
    return items[(page - 1) * per_page : page * per_page]


def pager(count: int, *, per_page: int | None = None) -> None:
    """Where the shown page lies among `count` items, with Previous and Next (none when they
    fit on one page)."""
    page, pages = _page(count, per_page or PER_PAGE)
    if pages <= 1:
        return
    previous, middle, following = st.columns([1, 2, 1], vertical_alignment="center")
    previous.button(
        _("Previous"),
        key="paging-previous",
        disabled=page <= 1,
        icon=":material/chevron_left:",
        on_click=_turn,
        args=(page - 1,),
    )
    middle.caption(
        _("Page {page} of {pages}").format(page=format_number(page), pages=format_number(pages))
    )
    following.button(
        _("Next"),
        key="paging-next",
        disabled=page >= pages,
        icon=":material/chevron_right:",
        on_click=_turn,
        args=(page + 1,),
    )


def _page(count: int, per_page: int) -> tuple[int, int]:
    pages = max(1, math.ceil(count / per_page))
    asked = params.identifier(st.query_params.get_all("page")) or 1
    return min(asked, pages), pages


def _turn(page: int) -> None:
    if page > 1:
        st.query_params["page"] = str(page)
    else:
        st.query_params.pop("page", None)
