"""The administrators' import of practices from an uploaded CSV or Excel file."""

import streamlit as st

from dhu_core import io
from dhu_core.import_file import ImportFileError
from dhu_core.import_worker import UPLOAD_BYTES
from dhu_core.models import User
from dhu_core.xlsx import MB


def import_section(admin: User) -> None:
    """Upload a file, import its valid rows, and list the problems of the others."""
    st.subheader("Import practices")
    st.caption(
        "A CSV or Excel file with the columns of the import format (see the README), at most "
        f"{UPLOAD_BYTES // MB} MB. Valid rows become published practices in one go; rows with "
        "errors are listed and not imported."
    )
    upload = st.file_uploader("File to import", type=["csv", "xlsx"])
    if upload is None or not st.button("Import", icon=":material/upload:"):
        return
    bar = st.progress(0.0, text="Reading the file…")
    try:
        report = io.import_upload(
            upload.getvalue(),
            name=upload.name,
            actor=admin,
            progress=lambda done, total: bar.progress(
                done / total if total else 1.0, text="Checking and storing rows…"
            ),
        )
    except ImportFileError as error:
        bar.empty()
        st.error(f"{upload.name} was not imported: {error}")
        return
    bar.progress(1.0, text="Done.")
    st.success(report.summary())
    if report.errors:
        st.warning("These rows were not imported:")
        st.dataframe(
            {
                "row": [e.row for e in report.errors],
                "column": [e.column for e in report.errors],
                "message": [e.message for e in report.errors],
            },
            hide_index=True,
        )
    if report.unlisted:
        st.caption(f"… and {report.unlisted:,} more problems")
