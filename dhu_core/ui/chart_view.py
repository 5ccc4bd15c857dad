"""A chart's text alternative on the page (`dhu_core.chart_alternatives`)."""

import streamlit as st

from dhu_core.chart_alternatives import ChartText
from dhu_core.i18n import _


def alternative(text: ChartText) -> None:
    """Under a chart: what it shows in a sentence, and its figures as a table in an expander
    (reached by Tab, opened by Enter or Space)."""
    st.caption(text.summary)
    with st.expander(_("Data table")):
        st.table(text.table.set_index(text.table.columns[0]))
