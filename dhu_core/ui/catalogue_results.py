"""The catalogue's results: their heading, the practices, a hint when none match, downloads."""

from urllib.parse import urlencode

import streamlit as st

from dhu_core import catalogue, import_file, io, spreadsheet
from dhu_core.catalogue import CataloguePage, CatalogueQuery
from dhu_core.i18n import _, format_number, ngettext
from dhu_core.text import md_escape
from dhu_core.ui import addresses, catalogue_filters, practice_view

#: The id of the results' heading: a turned page scrolls it into view.
ANCHOR = "results"
DOWNLOADS = (("csv", "text/csv"), ("xlsx", spreadsheet.XLSX_MIME), ("json", "application/json"))


def results(query: CatalogueQuery, result: CataloguePage) -> None:
    """The page of practices with its heading and pager, or why nothing matches."""
    if not result.total:
        st.subheader(_("No practice matches"), anchor=ANCHOR)
        _hint(query)
        return
    heading = ngettext(
        "{count} practice · page {page} of {pages}",
        "{count} practices · page {page} of {pages}",
        result.total,
    ).format(
        count=format_number(result.total),
        page=format_number(result.page),
        pages=format_number(result.pages),
    )
    st.subheader(heading, anchor=ANCHOR)
    if catalogue_filters.page_turned():
        _scroll_to_heading(result.page)
    for practice in result.practices:
        practice_view.card(practice)
    catalogue_filters.pager(query, result.pages)
    _downloads(query)


def _hint(query: CatalogueQuery) -> None:
    if query.text:
        words = md_escape(query.text)
        hint = _(
            "Nothing holds every word of “{words}”. Check the spelling, or use fewer words."
        ).format(words=words)
        if catalogue_filters.active_filters(query):
            hint += " " + _("Or remove a filter:")
        st.info(hint, icon=":material/search_off:")
    else:
        st.info(
            _("No practice has all the filters chosen. Remove one:"),
            icon=":material/search_off:",
        )
    catalogue_filters.clear_buttons(query)


def _scroll_to_heading(page: int) -> None:
    """Bring the heading to the top of the window: the pager that was pressed is at the bottom."""
    st.html(
        f"""<script>
        // Page {page}: a new text for every page, so the browser runs the script each time.
        setTimeout(() => document.getElementById("{ANCHOR}")?.scrollIntoView(), 100);
        </script>""",
        unsafe_allow_javascript=True,
    )


def _downloads(query: CatalogueQuery) -> None:
    with st.expander(_("Download or follow this result"), icon=":material/download:"):
        st.caption(_("Exactly the practices matching the search and filters above."))
        st.markdown(following_links(query))
        # The spreadsheets' header in the page's language, taken now: the file is made later,
        # on the click, outside the page's run.
        header = import_file.column_labels()
        for column, (fmt, mime) in zip(st.columns(3), DOWNLOADS, strict=True):
            column.download_button(
                fmt.upper(),
                data=lambda fmt=fmt: io.export_bytes(
                    io.export_practices(catalogue.matching_ids(query)), fmt, header=header
                ),
                file_name=f"dhu-practices.{fmt}",
                mime=mime,
                on_click="ignore",
                key=f"download-{fmt}",
            )


def following_links(query: CatalogueQuery) -> str:
    """Links to the same search as an Atom feed of new practices and in the JSON API."""
    params = {k: v for k, v in query.to_params().items() if k not in ("page", "size")}
    search = urlencode(params, doseq=True)
    base = addresses.base_path()
    feed = f"{base}/api/v1/feeds/practices.atom" + (f"?{search}" if search else "")
    api = f"{base}/api/v1/practices" + (f"?{search}" if search else "")
    feed_label = _("Atom feed of new practices like these")
    api_label = _("The same in the JSON API")
    open_data_label = _("About the open data")
    return (
        f":material/rss_feed: [{feed_label}]({feed}) · "
        f":material/data_object: [{api_label}]({api}) · "
        f"[{open_data_label}]({base}/data-and-api)"
    )
