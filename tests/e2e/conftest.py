"""Browser tests: the real product, served by `goldtrace serve`, walked through with Chromium.

One live server per session: a fresh SQLite database in a temporary directory, `goldtrace init-db` and
`goldtrace demo` run as subprocesses, then `python -m goldtrace serve` on a free port. Every test gets a
fresh browser context (its own cookies), so each person logs in as they would.

The browser is Debian's Chromium at /usr/bin/chromium (never a downloaded one); without it the whole
package is skipped. Set GOLDTRACE_SCREENSHOTS=1 to (re)write the PNG files under docs/screenshots/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from browsing import CHROMIUM, CHROMIUM_ARGS, DESKTOP, MINE, PASSWORD, PHONE, SECRET, TIMEOUT_MS


@pytest.fixture(scope="session", autouse=True)
def _needs_chromium() -> None:
    """Skip every browser test, before any server starts, when Debian's Chromium is missing."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install -y chromium); "
            "Playwright's own browsers are never downloaded"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _server_env(db_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDTRACE_")}
    env.update(
        GOLDTRACE_DATABASE_URL=f"sqlite:///{(db_dir / 'e2e.db').resolve()}",
        GOLDTRACE_SECRET_KEY=SECRET,
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "goldtrace", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"goldtrace {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"goldtrace serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"goldtrace serve did not answer {url} within {seconds} s:\n{log.read_text()}")


# What `goldtrace demo` printed (accounts, certificate URLs), for tests that need its ids.
DEMO_OUTPUT: list[str] = []


@pytest.fixture(scope="session")
def demo_output(live_server: str) -> str:
    """The demo's printout, once the server holding it is up."""
    return DEMO_OUTPUT[0]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a server holding a fresh demo ledger."""
    work = tmp_path_factory.mktemp("e2e")
    env = _server_env(work)
    _run(["init-db"], env, work)
    demo = _run(["demo"], env, work)
    assert PASSWORD in demo and MINE in demo, demo
    DEMO_OUTPUT.append(demo)
    port = _free_port()
    log = work / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "goldtrace",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/login", proc, log, 30)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium, one for the session; every test opens its own contexts."""
    b = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield b
    b.close()


def _context(browser: Browser, base: str, **options: object) -> BrowserContext:
    ctx = browser.new_context(base_url=base, **options)  # type: ignore[arg-type]
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


@pytest.fixture
def new_context(browser: Browser, live_server: str) -> Iterator[Callable[..., BrowserContext]]:
    """Open fresh contexts (one per person in a walk): new_context() is a desktop, phone=True a phone."""
    opened: list[BrowserContext] = []

    def make(*, phone: bool = False) -> BrowserContext:
        if phone:
            ctx = _context(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True)
        else:
            ctx = _context(browser, live_server, viewport=DESKTOP)
        opened.append(ctx)
        return ctx

    yield make
    for ctx in opened:
        ctx.close()


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    """A fresh desktop context (1280x800)."""
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def phone_page(new_context: Callable[..., BrowserContext]) -> Page:
    """A page in a fresh phone context (360x740, mobile)."""
    return new_context(phone=True).new_page()
