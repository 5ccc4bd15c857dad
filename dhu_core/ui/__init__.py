"""The only Streamlit-aware part of dhu_core: app shell, shared widgets and cached reads."""
