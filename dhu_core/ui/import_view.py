"""The administrators' import of practices from an uploaded CSV or Excel file."""

import streamlit as st

from dhu_core import i18n, io
from dhu_core.i18n import _, ngettext
from dhu_core.import_file import ImportFileError
from dhu_core.import_worker import UPLOAD_BYTES
from dhu_core.models import User
from dhu_core.xlsx import MB


def import_section(admin: User) -> None:
    """Upload a file, import its valid rows, and list the problems of the others."""
    st.subheader(_("Import practices"))
    st.caption(
        _(
            "A CSV or Excel file with the columns of the import format (see the README), at "
            "most {size} MB. Valid rows become published practices in one go; rows with errors "
            "are listed and not imported."
        ).format(size=i18n.format_number(UPLOAD_BYTES // MB))
    )
    upload = st.file_uploader(_("File to import"), type=["csv", "xlsx"])
    if upload is None or not st.button(_("Import"), icon=":material/upload:"):
        return
    bar = st.progress(0.0, text=_("Reading the file…"))
    try:
        report = io.import_upload(
            upload.getvalue(),
            name=upload.name,
            actor=admin,
            progress=lambda done, total: bar.progress(
                done / total if total else 1.0, text=_("Checking and storing rows…")
            ),
        )
    except ImportFileError as error:
        bar.empty()
        st.error(_("{name} was not imported: {reason}").format(name=upload.name, reason=error))
        return
    bar.progress(1.0, text=_("Done."))
    st.success(report.summary())
    if report.errors:
        st.warning(_("These rows were not imported:"))
        st.dataframe(
            {
                _("row"): [e.row for e in report.errors],
                _("column"): [e.column for e in report.errors],
                _("message"): [e.message for e in report.errors],
            },
            hide_index=True,
        )
    if report.unlisted:
        st.caption(
            ngettext(
                "… and {count} more problem", "… and {count} more problems", report.unlisted
            ).format(count=i18n.format_number(report.unlisted))
        )
