"""A full workshop, measured, for `dhu bench` and `dhu bench-workshop`: an audience sends quick
captures from their phones while `/live` screens refresh.

The app runs as `dhu serve` runs it (one process, or several behind nginx), on loopback only.
Debian's Chromium plays the big screens (1400 x 900 px, `/live`), so that "counted" means
what a screen shows. Audience members arrive one after the other, spread over the first part
of the workshop, and each sends the `/capture` form once. They are one of two kinds:

- `websocket` (the default): a Streamlit session of its own over a WebSocket of its own
  (`dhu_core.ui.streamlit_client`), doing over the wire what the page does on a phone: it asks
  for a run of `/capture`, gets the form, reports the sign-in cookie component's value (no
  cookie: one more run, as the component's iframe does in a browser), waits `fill_seconds`,
  sends the form's values and Send, and waits for the confirmation. This measures the server:
  its runs of the page, its WebSocket traffic and its database writes, with the load
  generator taking a few per cent of a core. It does not load Streamlit's frontend (HTML,
  about 2.5 MB of JavaScript, fonts: static files a phone keeps in its cache after the first
  visit, compressed by `dhu serve`'s nginx) and runs no JavaScript, so a phone's own drawing
  time comes on top. Page time: from starting to open the WebSocket until the ForwardMsg
  `script_finished` of the first run of the page, whose deltas drew the form and its Send
  button; the app's part: from sending that run's `rerun_script` message until then.
- `chromium`: a Chromium tab (390 px wide), as faithful as it gets: it loads the frontend,
  types into the form and clicks, but on this machine the browsers share the server's cores
  (a tab needs about ten times the CPU of the app's work for it), so its page time measures
  the load generator more than the server. The tabs share one browser context, so the
  frontend comes from its cache after the first ones, as on phones that opened the app before.
  With `cold`, and always behind nginx (whose route cookie keeps a browser to one process),
  each member gets an empty browser context instead, as a phone's first visit. Page time: from
  the start of the navigation until the form and its Send button are drawn; the app's part:
  from the page's first WebSocket message. At most `concurrency` tabs are open at once.

Measured: the capture form's page time, the time from sending the form until the
confirmation, whether each capture was confirmed, the time from each confirmation until every
screen counts it ("Captures in the last hour"), and the CPU time and peak resident memory of
each app process, of nginx, of Chromium (all its processes), of Playwright's driver and of the
load generator itself (this process, which runs the WebSocket sessions), from /proc. The
audience comes from one address, as a room on the venue's Wi-Fi does: the app runs with
DHU_CAPTURES_PER_ADDRESS set to the audience's size. Behind nginx, each WebSocket member has
no route cookie, so nginx spreads them over the app processes.
"""

import asyncio
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dhu_core import serve
from dhu_core.bench import timing_figures
from dhu_core.chromium import CHROMIUM, CHROMIUM_ARGS
from dhu_core.ui import streamlit_client

#: The form every audience member fills in: a country and a practice type by their labels.
COUNTRY, PRACTICE_TYPE = "Germany", "App"
#: What the page shows once a capture is registered.
CONFIRMATION = "Thank you! Your practice is registered"
#: The kinds of audience member: a Streamlit session over a WebSocket, or a Chromium tab.
MEMBERS = ("websocket", "chromium")
#: Chromium tabs open at once by default (a 2-core machine copes).
CHROMIUM_CONCURRENCY = 6
#: How long a WebSocket member takes between the form drawn and sending it, in seconds.
FILL_SECONDS = 5.0
#: The process that runs the audience's WebSocket sessions and drives the browser.
LOAD_GENERATOR = "load generator (this Python process)"
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
    #: for a run of the page) until the form is drawn; the rest is opening the WebSocket (and in
    #: Chromium, loading Streamlit's frontend).
    app_ms: float | None = None
    #: From sending the form until the confirmation is shown.
    sent_ms: float | None = None
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
    concurrency: int | None = None,
    workers: int = 1,
    cold: bool = False,
    database_url: str | None = None,
    workdir: Path | None = None,
    members: str = "websocket",
    fill_seconds: float = FILL_SECONDS,
) -> dict:
    """Run a workshop of `audience` members sending a capture within `seconds` while `screens`
    big screens refresh every `every` seconds; return the figures.

    Without `database_url`, the app prepares a new embedded database (demo data) in `workdir`.
    Several `workers` run behind nginx, as `dhu serve` runs them (PostgreSQL: `database_url`).
    The audience's `members` are "websocket" sessions (at most `concurrency` open at once, by
    default all of them), each taking `fill_seconds` to fill in the form, or "chromium" tabs (by
    default at most 6 at once, typing as fast as Playwright does).
    """
    if members not in MEMBERS:
        raise ValueError(f"members: one of {', '.join(MEMBERS)}, not {members!r}")
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
        listen = f"127.0.0.1:{serve.free_port()}"
        with (
            open(folder / "app.log", "w") as log,
            serve.running(
                workers=workers,
                listen=listen,
                first_port=serve.free_port(),
                proxy=workers > 1,
                announce=lambda _: None,
                environ=environ,
                output=log,
            ) as processes,
        ):
            url = f"http://{listen}" if processes.nginx else _app_url(processes)
            named = {f"app process {n}": p.pid for n, p in enumerate(processes.apps, start=1)}
            named[LOAD_GENERATOR] = os.getpid()
            if processes.nginx:
                # nginx's one worker does the work (worker_processes 1), its master waits.
                for pid in _descendants(processes.nginx.pid, "nginx"):
                    named["nginx worker"] = pid
            # Behind nginx, a browser keeps to the process of its route cookie: each member
            # needs a browser of its own to be sent to a process of its own.
            cold = members == "chromium" and (cold or workers > 1)
            if concurrency is None:
                concurrency = audience if members == "websocket" else CHROMIUM_CONCURRENCY
            workshop = _Workshop(
                url, audience, screens, seconds, every, concurrency, cold, members, fill_seconds
            )
            # In a thread of its own: the caller may run an event loop already (a test run
            # that drives a browser with Playwright's synchronous API does).
            with ThreadPoolExecutor(max_workers=1) as runner:
                return runner.submit(asyncio.run, workshop.run(named)).result()


def _app_url(processes: serve.Processes) -> str:
    """The address of the only app process (its command line names its port)."""
    command = processes.apps[0].args
    return f"http://127.0.0.1:{command[command.index('--server.port') + 1]}"


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
        members: str,
        fill_seconds: float,
    ) -> None:
        self.url, self.every, self.cold = url, every, cold
        self.mode, self.fill_seconds = members, fill_seconds
        self.members = [Member(number) for number in range(1, audience + 1)]
        self.screens = [Screen() for _ in range(screens)]
        self.seconds, self.concurrency = seconds, concurrency

    async def run(self, processes: dict[str, int]) -> dict:
        from playwright.async_api import async_playwright

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                pages = [await self._open_screen(browser) for _ in self.screens]
                shared = None
                if self.mode == "chromium" and not self.cold:
                    shared = await browser.new_context(viewport=PHONE)
                baseline = await pages[0].evaluate(CAPTURE_COUNT)
                sampler = _Sampler(processes, chromium_parent=os.getpid())
                sampler.start()
                watching = asyncio.create_task(self._watch(pages))
                try:
                    started = time.monotonic()
                    gate = asyncio.Semaphore(self.concurrency)
                    # The audience arrives over the first part of the workshop, each member a
                    # few seconds from the form to the confirmation.
                    spread = max(self.seconds - 10 - self.fill_seconds, 1) / len(self.members)
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
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        async with gate:
            if self.mode == "websocket":
                await self._capture_over_websocket(member)
            else:
                await self._capture_in_browser(browser, shared, member)

    async def _capture_over_websocket(self, member: Member) -> None:
        """One member's visit as a session of its own over a WebSocket (see the module's
        docstring): the page time runs from opening the WebSocket until the run that draws the
        form (its Send button included) has finished; the app's part from asking for the run."""
        url = f"{self.url}/capture"
        try:
            began = time.perf_counter()
            async with streamlit_client.Session(self.url, timeout=PAGE_TIMEOUT_MS / 1000) as tab:
                asked = time.perf_counter()
                page = await tab.run(streamlit_client.rerun(url=url, page_name="capture"))
                drawn = time.perf_counter()
                page.widget("Send", True)  # the form is drawn, Send included
                member.page_ms = (drawn - began) * 1000
                member.app_ms = (drawn - asked) * 1000
                # The sign-in cookie component reports the cookies it finds (a visitor: none),
                # which is one more run, as on a phone.
                cookies = [
                    streamlit_client.widget_state("component_instance", component, {})
                    for component in page.components.values()
                ]
                same_page = {"url": url, "page_script_hash": page.page_script_hash}
                await tab.run(streamlit_client.rerun(**same_page, widgets=cookies))
                await asyncio.sleep(self.fill_seconds)
                form = [
                    page.widget("Name of the practice *", f"Workshop practice {member.number}"),
                    page.widget("Country *", COUNTRY),
                    page.widget("Type of practice *", PRACTICE_TYPE),
                    page.widget("Your e-mail *", f"member{member.number}@example.org"),
                    page.widget("Send", True),
                ]
                sending = time.perf_counter()
                await tab.run(
                    streamlit_client.rerun(**same_page, widgets=[*form, *cookies]),
                    until=lambda shown: shown.shows(CONFIRMATION),
                )
                member.sent_ms = (time.perf_counter() - sending) * 1000
                member.confirmed_at = time.monotonic()
        except Exception as error:  # noqa: BLE001 (every failure is a figure of the run)
            member.error = f"{type(error).__name__}: {(str(error) or repr(error)).splitlines()[0]}"

    async def _capture_in_browser(self, browser, shared, member: Member) -> None:
        """One member's visit, in a new tab of the `shared` context, or a new context."""
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
            sending = time.perf_counter()
            await send.click()
            await page.get_by_text(CONFIRMATION).wait_for()
            member.sent_ms = (time.perf_counter() - sending) * 1000
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
            "members": self.mode,
            "members_at_once_at_most": self.concurrency,
            "screens": len(self.screens),
            "refresh_s": self.every,
            **(
                {"fill_s": self.fill_seconds}
                if self.mode == "websocket"
                else {
                    "browser_cache": "empty for each member"
                    if self.cold
                    else "shared by the audience"
                }
            ),
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
            "sent_to_confirmed": timing_figures(
                [m.sent_ms for m in self.members if m.sent_ms is not None]
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


#: Families of processes under the load generator, by the start of their command name.
FAMILIES = {"chromium (all its processes)": "chrom", "playwright driver (node)": "node"}


class _Sampler:
    """CPU time and peak resident memory of named processes and of each family of processes
    under `chromium_parent` (Chromium's, Playwright's driver), read from /proc twice a second
    in a thread."""

    def __init__(self, named: dict[str, int], *, chromium_parent: int) -> None:
        self.named, self.parent = named, chromium_parent
        self.families: dict[str, set[int]] = {name: set() for name in FAMILIES}
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
        return groups | {name: sorted(pids) for name, pids in self.families.items() if pids}

    def _sample(self) -> None:
        for name, prefix in FAMILIES.items():
            self.families[name].update(_descendants(self.parent, prefix))
        for pid in [*self.named.values(), *(pid for f in self.families.values() for pid in f)]:
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
