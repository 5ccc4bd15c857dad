"""Small Streamlit scripts that browser tests serve beside the app."""

#: Markup a user could type as a title; it must show as text and never run.
HOSTILE = "<b>Bold</b> & <img src=x onerror=window.pwned=1> Women's"
