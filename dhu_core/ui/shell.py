"""The app shell: database start-up, navigation per role and the demo banner."""

from pathlib import Path

import streamlit as st

from dhu_core import db
from dhu_core.bootstrap import DatabaseNotReady, prepare_database
from dhu_core.config import get_settings

#: Shipped with the app: an icon given by name would be fetched from Google's font servers.
ICON = str(Path(__file__).parent / "assets" / "icon.png")


@st.cache_resource(show_spinner="Preparing the database…")
def _prepared() -> bool:
    prepare_database(get_settings())
    return True


def prepare() -> None:
    """Get the database ready once per process; stop with a clear message when it is not."""
    try:
        _prepared()
    except DatabaseNotReady as error:
        st.error(str(error))
        st.stop()


def pages() -> list:
    """The pages this visitor may open, home first."""
    return [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    ]


def demo_banner() -> None:
    """Say clearly when the data shown are generated demo data."""
    if db.is_demo():
        st.info(
            "**Demo data.** The organisations, practices and twinnings shown here are generated "
            "for demonstration and do not describe real projects.",
            icon=":material/science:",
        )
