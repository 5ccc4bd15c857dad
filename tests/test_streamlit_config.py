"""The Streamlit options of .streamlit/config.toml, as Streamlit itself reads them from the
project's folder (a misspelt section or option would be ignored there), and what the app process
loads before its first visitor."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _option(name: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    shown = subprocess.run(
        [sys.executable, "-c", f"from streamlit import config; print(config.get_option({name!r}))"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return shown.stdout.strip().splitlines()[-1]


def test_no_full_garbage_collection_follows_every_run_of_a_page():
    assert _option("runner.postScriptGC") == "False"


def test_the_app_process_loads_the_pages_libraries_before_its_first_visitor():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, app; print('dhu_core.similarity' in sys.modules)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert loaded.stdout.strip().splitlines()[-1] == "True"


def test_the_app_process_loads_no_page_module_before_a_page_runs():
    """A component declared outside a page run never shows (the sign-in cookie's does)."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, app; print(any(m.startswith('dhu_core.ui') for m in sys.modules))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert loaded.stdout.strip().splitlines()[-1] == "False"
