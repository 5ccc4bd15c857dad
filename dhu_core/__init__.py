"""Domain and data of the DHU Platform. Nothing here imports Streamlit, except `dhu_core.ui`."""
