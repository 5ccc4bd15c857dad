"""Time one page of the app with AppTest, cold (caches cleared) and cached, for `dhu bench`.

Usage: python -m dhu_core.ui.page_timing APP PAGE REPEATS  (prints the seconds as JSON).
"""

import json
import sys
import time

import streamlit as st
from streamlit.testing.v1 import AppTest


def main(app: str, page: str, repeats: int) -> None:
    """Print {"cold": [...], "cached": [...]}: seconds of each full run of `page`."""
    at = AppTest.from_file(app, default_timeout=300).run()
    at.switch_page(page).run()  # imports the page's modules once
    cold, cached = [], []
    for _ in range(repeats):
        st.cache_data.clear()
        st.cache_resource.clear()
        started = time.perf_counter()
        at.run()
        cold.append(time.perf_counter() - started)
        started = time.perf_counter()
        at.run()
        cached.append(time.perf_counter() - started)
        if at.exception:
            raise SystemExit(at.exception[0].message)
    print(json.dumps({"cold": cold, "cached": cached}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
