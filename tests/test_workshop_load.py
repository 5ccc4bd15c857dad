"""A small workshop, as `dhu bench-workshop` runs a full one: an audience sends quick captures
from Chromium while `/live` screens refresh; every capture arrives and every screen counts it."""

import pytest

from dhu_core.bench_workshop import run_workshop_bench
from tests.browser import require_chromium

pytestmark = pytest.mark.browser


@pytest.mark.timeout(900)
def test_every_capture_of_a_workshop_is_sent_and_counted_on_every_screen(tmp_path):
    require_chromium()
    figures = run_workshop_bench(
        audience=12, screens=2, seconds=30, concurrency=3, workdir=tmp_path
    )

    assert figures["errors"] == 0, figures["error_examples"]
    assert figures["captures_sent"] == 12
    assert figures["captures_counted_on_every_screen"] == 12
    assert figures["captures_not_counted_on_a_screen"] == 0
    assert figures["capture_form_page_time"]["n"] == 12
    assert set(figures["processes"]) == {"app process 1", "chromium (all its processes)"}
