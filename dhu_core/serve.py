"""`dhu serve`: several app processes on one PostgreSQL database, with nginx in front.

The nginx site configuration is `deploy/nginx-dhu.conf`; here it is filled in with the
listening address and the app processes, and either printed (for Debian's nginx) or run in an
nginx of its own, from a folder of its own, until Ctrl-C or SIGTERM.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dhu_core.config import PROJECT_ROOT

SITE_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx-dhu.conf"
NGINX = "/usr/sbin/nginx"
#: How long an app process may take to answer its health check on a busy machine.
STARTUP_SECONDS = 180
#: How long a stopped child may take to finish its requests before it is killed.
STOP_SECONDS = 10

#: The frame of the site file for an nginx run by `dhu serve`: its pid file, logs and buffers
#: in its own folder, in the foreground (`daemon off`), so that it stops with `dhu serve`.
STANDALONE = """\
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
worker_processes 1;
events {{
    worker_connections 1024;
}}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
"""


class ServeError(RuntimeError):
    """The processes cannot be started; the message says why."""


@dataclass
class Processes:
    """The children of `dhu serve`: the app processes and the nginx in front (if any)."""

    apps: list[subprocess.Popen]
    nginx: subprocess.Popen | None

    def all(self) -> list[subprocess.Popen]:
        return [*self.apps, *([self.nginx] if self.nginx else [])]


def site_config(*, listen: str, worker_ports: list[int]) -> str:
    """The nginx site file for app processes on `worker_ports` of this machine."""
    servers = "\n".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in worker_ports
    )
    template = SITE_TEMPLATE.read_text(encoding="utf-8")
    return template.replace("@LISTEN@", listen).replace("@WORKERS@", servers)


def worker_ports(first: int, workers: int) -> list[int]:
    """Consecutive ports from `first`, one per app process."""
    return list(range(first, first + workers))


#: Arenas of glibc's allocator in an app process. Streamlit runs every page in a thread of its
#: own, and glibc gives threads up to 8 arenas per core, each keeping the memory freed in it:
#: with 2, an app process at 100,000 practices held 10-60 MB less after each role's tour
#: (`python -m dhu_core.bench_memory`).
MALLOC_ARENAS = 2


def worker_environment(environ: dict[str, str]) -> dict[str, str]:
    """The app processes' environment: this one, with nginx on this machine as their proxy,
    and glibc's allocator held to `MALLOC_ARENAS` arenas unless the environment says."""
    env = dict(environ)
    env.setdefault("DHU_TRUSTED_PROXIES", "127.0.0.1")
    env.setdefault("MALLOC_ARENA_MAX", str(MALLOC_ARENAS))
    return env


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(
    *,
    workers: int,
    listen: str,
    first_port: int,
    proxy: bool = True,
    announce: Callable[[str], None] = print,
    environ: dict[str, str] | None = None,
    output: IO | None = None,
) -> Iterator[Processes]:
    """Run the app processes (and nginx in front unless `proxy` is false) until the block ends;
    yield them once every app process answers. They run in `environ` (default: this process's
    environment) and write to `output` (default: this process's output)."""
    ports = worker_ports(first_port, workers)
    env = worker_environment(dict(os.environ if environ is None else environ))
    binary = _nginx_binary() if proxy else None
    with ExitStack() as stack:
        apps = []
        for number, port in enumerate(ports, start=1):
            process = stack.enter_context(
                _child(streamlit_command(port), env=env, cwd=PROJECT_ROOT, output=output)
            )
            apps.append(process)
            announce(f"app process {number}: pid {process.pid}, http://127.0.0.1:{port}")
        for process, port in zip(apps, ports, strict=True):
            wait_until_healthy(process, f"http://127.0.0.1:{port}")
        nginx = None
        if binary:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dhu-nginx-")))
            _write_nginx_files(folder, site_config(listen=listen, worker_ports=ports))
            command = [
                binary,
                "-p",
                str(folder),
                "-c",
                str(folder / "nginx.conf"),
                "-g",
                "daemon off;",
            ]
            nginx = stack.enter_context(_child(command, env=env, cwd=folder, output=output))
            wait_until_healthy(nginx, f"http://{listen}")
            announce(f"nginx: pid {nginx.pid}, http://{listen}")
        yield Processes(apps=apps, nginx=nginx)


def serve_until_stopped(processes: Processes, announce: Callable[[str], None] = print) -> int:
    """Wait for SIGTERM or Ctrl-C (status 0), or until nginx or every app process has ended
    (status 1); tell about each child that ends on the way."""
    stopped = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
    told: set[int] = set()
    try:
        while not stopped:
            for process in processes.all():
                if process.pid not in told and process.poll() is not None:
                    told.add(process.pid)
                    announce(f"pid {process.pid} ended with status {process.returncode}")
            nginx_ended = processes.nginx is not None and processes.nginx.pid in told
            if nginx_ended or all(process.pid in told for process in processes.apps):
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def streamlit_command(port: int, script: str = "app.py") -> list[str]:
    """The command that runs the app (or another `script`) on 127.0.0.1:`port`."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]


def _nginx_binary() -> str:
    nginx = shutil.which("nginx") or NGINX
    if not Path(nginx).exists():
        raise ServeError(f"nginx is not installed ({NGINX} is missing): apt-get install nginx")
    return nginx


def _write_nginx_files(folder: Path, site: str) -> None:
    (folder / "site.conf").write_text(site, encoding="utf-8")
    (folder / "nginx.conf").write_text(STANDALONE.format(folder=folder), encoding="utf-8")
    if os.geteuid() == 0:
        # nginx's workers drop root for `nobody`, and create their buffer folders in here.
        folder.chmod(0o711)


@contextmanager
def _child(
    command: list[str], *, env: dict[str, str], cwd: Path, output: IO | None = None
) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=output)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_healthy(process: subprocess.Popen, url: str) -> None:
    """Return once `url` answers its health check; ServeError if `process` ends first or
    nothing answers within STARTUP_SECONDS."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServeError(f"the process for {url} ended at start (status {process.returncode})")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise ServeError(f"{url} did not answer within {STARTUP_SECONDS} s")
