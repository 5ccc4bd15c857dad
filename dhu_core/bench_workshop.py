"""A full workshop, measured, for `dhu bench` and `dhu bench-workshop`: an audience sends quick
captures from their phones while `/live` screens refresh.

The app runs as `dhu serve` runs it (one process, or several behind nginx), on loopback only.
Debian's Chromium plays the big screens (1400 x 900 px, `/live`) and the audience (390 px
wide). Each audience member opens a tab of its own, so a Streamlit session, a WebSocket and a
run of the page of its own; the tabs share one browser context, so Streamlit's frontend (about
2.5 MB of JavaScript and a font) comes from its cache after the first ones, as on phones that
opened the app before. With `cold`, and always behind nginx (whose route cookie keeps a
browser to one process), each member gets an empty browser context instead, as a phone's
first visit, whose loading of the frontend then costs the server's own CPU here.
Audience members arrive one after the other, spread over the first part of the workshop, at
most `concurrency` at once so that a small machine copes: each opens `/capture`, fills in the
form and sends it.

Measured: the capture form's page time (from the start of the navigation until the form is
drawn and its Send button usable), whether each capture was confirmed, the time from each
confirmation until every screen counts it ("Captures in the last hour"), and the CPU time and
peak resident memory of each app process, of nginx and of Chromium (all its processes), from
/proc. The audience comes from one address, as a room on the venue's Wi-Fi does: the app
runs with DHU_CAPTURES_PER_ADDRESS set to the audience's size.
"""

import asyncio
import os
import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dhu_core import serve
from dhu_core.bench import timing_figures
from dhu_core.chromium import CHROMIUM, CHROMIUM_ARGS

#: The form every audience member fills in: a country and a practice type by their labels.
COUNTRY, PRACTICE_TYPE = "Germany", "App"
#: How long one page may take to answer before it counts as an error (a busy machine).
PAGE_TIMEOUT_MS = 60_000
#: The value of the capture count on a `/live` screen, or null while it is being redrawn.
CAPTURE_COUNT = """() => {
  for (const metric of document.querySelectorAll('[data-testid="stMetric"]')) {
    if (metric.innerText.includes('Captures in the last hour')) {
      const value = metric.querySelector('[data-testid="stMetricValue"]');
      return value ? Number(value.innerText.replace(/[^0-9]/g, '')) : null;
    }
  }
  return null;
}"""
#: An audience member's phone.
PHONE = {"width": 390, "height": 844}
#: How often the screens' counts are read, in seconds.
POLL_SECONDS = 0.2
#: A redraw of the board may take this long after its refresh starts, on a busy machine.
REDRAW_SECONDS = 1.0


@dataclass
class Member:
    """One audience member's visit: the page time, and the moment the capture was confirmed or
    what went wrong."""

    number: int
    page_ms: float | None = None
    #: The app's part of the page time: from the page's first message over its WebSocket (asking
    #: for a run of the page) until the form is drawn; the rest is the browser loading
    #: Streamlit's frontend.
    app_ms: float | None = None
    confirmed_at: float | None = None
    error: str | None = None


@dataclass
class Screen:
    """One `/live` screen: each count it showed, with the moment it first showed it."""

    counts: list[tuple[float, int]] = field(default_factory=list)

    def seen(self, moment: float, count: int | None) -> None:
        if count is not None and (not self.counts or self.counts[-1][1] != count):
            self.counts.append((moment, count))

    def first_showing(self, count: int) -> float | None:
        """When the screen first showed `count` or more captures."""
        return next((moment for moment, shown in self.counts if shown >= count), None)


def run_workshop_bench(
    *,
    audience: int = 100,
    screens: int = 3,
    seconds: int = 60,
    every: int = 5,
    concurrency: int = 6,
    workers: int = 1,
    cold: bool = False,
    database_url: str | None = None,
    workdir: Path | None = None,
) -> dict:
    """Run a workshop of `audience` members sending a capture within `seconds` while `screens`
    big screens refresh every `every` seconds; return the figures.

    Without `database_url`, the app prepares a new embedded database (demo data) in `workdir`.
    Several `workers` run behind nginx, as `dhu serve` runs them (PostgreSQL: `database_url`).
    """
    try:
        import playwright  # noqa: F401 (a test dependency; imported where the browsers start)
    except ImportError:
        return {"skipped": "the workshop needs Playwright: pip install -e '.[test]'"}
    if not Path(CHROMIUM).exists():
        return {"skipped": f"the workshop needs Chromium ({CHROMIUM}): apt-get install chromium"}
    with tempfile.TemporaryDirectory(prefix="dhu-workshop-") as temporary:
        folder = Path(workdir or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        environ = {
            **os.environ,
            "DATABASE_URL": database_url or "",
            "DHU_DATA_DIR": str(folder),
            "DHU_JOBS_IN_APP": "false",
            "DHU_CAPTURES_PER_ADDRESS": str(max(audience, 20)),
        }
        listen = f"127.0.0.1:{_free_port()}"
        with (
            open(folder / "app.log", "w") as log,
            serve.running(
                workers=workers,
                listen=listen,
                first_port=_free_port(),
                proxy=workers > 1,
                announce=lambda _: None,
                environ=environ,
                output=log,
            ) as processes,
        ):
            url = f"http://{listen}" if processes.nginx else _app_url(processes)
            named = {f"app process {n}": p.pid for n, p in enumerate(processes.apps, start=1)}
            if processes.nginx:
                # nginx's one worker does the work (worker_processes 1), its master waits.
                for pid in _descendants(processes.nginx.pid, "nginx"):
                    named["nginx worker"] = pid
            # Behind nginx, a browser keeps to the process of its route cookie: each member
            # needs a browser of its own to be sent to a process of its own.
            cold = cold or workers > 1
            workshop = _Workshop(url, audience, screens, seconds, every, concurrency, cold)
            # In a thread of its own: the caller may run an event loop already (a test run
            # that drives a browser with Playwright's synchronous API does).
            with ThreadPoolExecutor(max_workers=1) as runner:
                return runner.submit(asyncio.run, workshop.run(named)).result()


def _app_url(processes: serve.Processes) -> str:
    """The address of the only app process (its command line names its port)."""
    command = processes.apps[0].args
    return f"http://127.0.0.1:{command[command.index('--server.port') + 1]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Workshop:
    def __init__(
        self,
        url: str,
        audience: int,
        screens: int,
        seconds: int,
        every: int,
        concurrency: int,
        cold: bool,
    ) -> None:
        self.url, self.every, self.cold = url, every, cold
        self.members = [Member(number) for number in range(1, audience + 1)]
        self.screens = [Screen() for _ in range(screens)]
        self.seconds, self.concurrency = seconds, concurrency

    async def run(self, processes: dict[str, int]) -> dict:
        from playwright.async_api import async_playwright

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                pages = [await self._open_screen(browser) for _ in self.screens]
                shared = None if self.cold else await browser.new_context(viewport=PHONE)
                baseline = await pages[0].evaluate(CAPTURE_COUNT)
                sampler = _Sampler(processes, chromium_parent=os.getpid())
                sampler.start()
                watching = asyncio.create_task(self._watch(pages))
                try:
                    started = time.monotonic()
                    gate = asyncio.Semaphore(self.concurrency)
                    # The audience arrives over the first part of the workshop, each member a
                    # few seconds from the form to the confirmation.
                    spread = max(self.seconds - 10, 1) / len(self.members)
                    await asyncio.gather(
                        *(
                            self._capture(browser, shared, member, started + index * spread, gate)
                            for index, member in enumerate(self.members)
                        )
                    )
                    sent = time.monotonic()
                    await self._until_counted(baseline)
                finally:
                    watching.cancel()
                    usage = sampler.stop()
            finally:
                await browser.close()
        return self._figures(baseline, started, sent, usage)

    async def _open_screen(self, browser):
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        page = await context.new_page()
        await page.goto(f"{self.url}/live?every={self.every}", timeout=PAGE_TIMEOUT_MS * 3)
        # The first visit of a new database prepares it (demo data): give it time.
        await page.wait_for_function(
            f"() => ({CAPTURE_COUNT})() !== null", timeout=PAGE_TIMEOUT_MS * 3
        )
        return page

    async def _watch(self, pages) -> None:
        while True:
            for screen, page in zip(self.screens, pages, strict=True):
                screen.seen(time.monotonic(), await page.evaluate(CAPTURE_COUNT))
            await asyncio.sleep(POLL_SECONDS)

    async def _until_counted(self, baseline: int) -> None:
        """Wait until every screen counts every confirmed capture, or three refreshes more."""
        expected = baseline + sum(m.confirmed_at is not None for m in self.members)
        deadline = time.monotonic() + 3 * self.every + 2 * REDRAW_SECONDS
        while time.monotonic() < deadline:
            if all(screen.first_showing(expected) for screen in self.screens):
                return
            await asyncio.sleep(POLL_SECONDS)

    async def _capture(self, browser, shared, member: Member, start_at: float, gate) -> None:
        """One member's visit, in a new tab of the `shared` context, or a new context."""
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        async with gate:
            context = shared or await browser.new_context(viewport=PHONE)
            page = await context.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            asked: list[float] = []
            page.on("websocket", lambda socket: socket.on("framesent", lambda _: _first(asked)))
            try:
                began = time.perf_counter()
                await page.goto(f"{self.url}/capture")
                send = page.get_by_role("button", name="Send")
                await send.wait_for()
                await page.get_by_role("textbox", name="Your e-mail *").wait_for()
                drawn = time.perf_counter()
                member.page_ms = (drawn - began) * 1000
                member.app_ms = (drawn - asked[0]) * 1000 if asked else None
                await page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
                title = page.get_by_role("textbox", name="Name of the practice *")
                await title.fill(f"Workshop practice {member.number}")
                await _choose(page, "Country *", COUNTRY)
                await _choose(page, "Type of practice *", PRACTICE_TYPE)
                email = page.get_by_role("textbox", name="Your e-mail *")
                await email.fill(f"member{member.number}@example.org")
                await send.click()
                await page.get_by_text("Thank you! Your practice is registered").wait_for()
                member.confirmed_at = time.monotonic()
            except Exception as error:  # noqa: BLE001 (every failure is a figure of the run)
                member.error = f"{type(error).__name__}: {str(error).splitlines()[0]}"
            finally:
                await (page.close() if shared else context.close())

    def _figures(self, baseline: int, started: float, sent: float, usage: dict) -> dict:
        confirmed = sorted(m.confirmed_at for m in self.members if m.confirmed_at is not None)
        delays, uncounted = [], 0
        for screen in self.screens:
            for rank, moment in enumerate(confirmed, start=1):
                shown = screen.first_showing(baseline + rank)
                if shown is None:
                    uncounted += 1
                else:
                    delays.append(max(shown - moment, 0.0) * 1000)
        slowest = max(delays, default=0.0) / 1000
        errors = [f"member {m.number}: {m.error}" for m in self.members if m.error]
        return {
            "audience": len(self.members),
            "screens": len(self.screens),
            "refresh_s": self.every,
            "browser_cache": "empty for each member" if self.cold else "shared by the audience",
            "errors": len(errors),
            "error_examples": errors[:5],
            "captures_sent": len(confirmed),
            "captures_counted_on_every_screen": min(
                (max(s.counts[-1][1] - baseline, 0) if s.counts else 0) for s in self.screens
            ),
            "all_sent_within_s": round((confirmed[-1] - started) if confirmed else 0.0, 1),
            "capture_form_page_time": timing_figures(
                [m.page_ms for m in self.members if m.page_ms is not None]
            ),
            "capture_form_app_part": timing_figures(
                [m.app_ms for m in self.members if m.app_ms is not None]
            ),
            "confirmed_to_counted_on_screens": timing_figures(delays)
            | {"max_s": round(slowest, 1)},
            "captures_not_counted_on_a_screen": uncounted,
            "counted_within_one_refresh": uncounted == 0 and slowest <= self.every + REDRAW_SECONDS,
            "workshop_s": round(sent - started, 1),
            "processes": usage,
        }


def _first(moments: list[float]) -> None:
    if not moments:
        moments.append(time.perf_counter())


async def _choose(page, label: str, option: str) -> None:
    """Pick `option` in the select box labelled `label` (typing opens its list, filtered)."""
    box = page.get_by_role("combobox", name=label)
    await box.click()
    await box.press_sequentially(option)
    await page.get_by_role("option", name=option, exact=True).click()


class _Sampler:
    """CPU time and peak resident memory of named processes and of Chromium (every process
    of that name under `chromium_parent`), read from /proc twice a second in a thread."""

    def __init__(self, named: dict[str, int], *, chromium_parent: int) -> None:
        self.named, self.parent = named, chromium_parent
        self.cpu: dict[int, float] = {}
        self.first: dict[int, float] = {}
        self.peak: dict[str, int] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.began = time.monotonic()

    def start(self) -> None:
        self.began = time.monotonic()
        self._sample()
        self.thread.start()

    def stop(self) -> dict:
        self.stopping.set()
        self.thread.join()
        self._sample()
        wall = time.monotonic() - self.began
        figures = {}
        for name, pids in self._groups().items():
            seconds = sum(self.cpu.get(pid, 0.0) - self.first.get(pid, 0.0) for pid in pids)
            figures[name] = {
                "processes": len(pids),
                "cpu_s": round(seconds, 1),
                "cpu_percent_of_one_core": round(100 * seconds / wall, 1),
                "peak_rss_mb": round(self.peak.get(name, 0) / 2**20, 1),
            }
        return figures

    def _loop(self) -> None:
        while not self.stopping.wait(0.5):
            self._sample()

    def _groups(self) -> dict[str, list[int]]:
        groups = {name: [pid] for name, pid in self.named.items()}
        groups["chromium (all its processes)"] = [
            pid for pid in self.cpu if pid not in self.named.values()
        ]
        return groups

    def _sample(self) -> None:
        for pid in [*self.named.values(), *_descendants(self.parent, "chrom")]:
            reading = _cpu_and_rss(pid)
            if reading is not None:
                self.first.setdefault(pid, reading[0])
                self.cpu[pid] = reading[0]
        for name, pids in self._groups().items():
            resident = sum((_cpu_and_rss(pid) or (0.0, 0))[1] for pid in pids)
            self.peak[name] = max(self.peak.get(name, 0), resident)


_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _cpu_and_rss(pid: int) -> tuple[float, int] | None:
    """Seconds of CPU used so far and resident bytes of `pid`; None once it has ended."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS, pages * _PAGE


def _descendants(parent: int, name: str) -> list[int]:
    """The processes under `parent` (at any depth) whose command name starts with `name`."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        names[pid] = stat[stat.index("(") + 1 : stat.rindex(")")]
        children.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(pid)
    found, waiting = [], list(children.get(parent, []))
    while waiting:
        pid = waiting.pop()
        if names.get(pid, "").startswith(name):
            found.append(pid)
        waiting += children.get(pid, [])
    return found
