"""Domain and data of the DHU Platform. Nothing here imports Streamlit, except `dhu_core.ui`."""

import os

# openpyxl reads workbooks with lxml whenever lxml is installed (another package may bring it),
# and then neither through defusedxml nor with the same text: an uploaded workbook's "billion
# laughs" is expanded instead of refused. Uploads must always take the defusedxml path, so
# this is set before any module imports openpyxl (it reads the variable once, at import).
os.environ["OPENPYXL_LXML"] = "False"
