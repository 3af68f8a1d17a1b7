"""`goldtrace export` on a fresh database with the demo: EPCIS validates, CSV, JSON and PDF are
written, and a progress bar shows on a terminal only."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import jsonschema
from pypdf import PdfReader

from builders import TEST_SECRET

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "standards" / "epcis-2.0-json-schema.json"


def cli_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "GOLDTRACE_DATABASE_URL": url,
        "GOLDTRACE_SECRET_KEY": TEST_SECRET,
        "GOLDTRACE_LOG_ORIGIN": "goldtrace.test/log",
        "GOLDTRACE_BASE_URL": "https://gold.example.org",
    }


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "goldtrace", *args],
        env=cli_env(url),
        capture_output=True,
        text=True,
        check=False,
    )


def test_export_formats(fresh_database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url
    assert run(url, "init-db").returncode == 0
    assert run(url, "demo").returncode == 0
    epcis_file = tmp_path / "demo.jsonld"
    done = run(url, "export", "--scope", "ledger", "--format", "epcis", "--out", str(epcis_file))
    assert done.returncode == 0, done.stderr
    validator = jsonschema.Draft7Validator(
        json.loads(SCHEMA.read_text()), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    document = json.loads(epcis_file.read_text())
    assert document["epcisBody"]["eventList"]
    validator.validate(document)
    zipped = tmp_path / "demo.zip"
    done = run(url, "export", "--scope", "ledger", "--format", "csv", "--out", str(zipped))
    assert done.returncode == 0, done.stderr
    assert "findings.csv" in zipfile.ZipFile(zipped).namelist()
    as_json = tmp_path / "demo.json"
    done = run(
        url,
        "export",
        "--scope",
        "ledger",
        "--from",
        "2000-01-01",
        "--format",
        "json",
        "--out",
        str(as_json),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(as_json.read_text())["reconciles"] is True
    bad = run(url, "export", "--scope", "planet", "--format", "json", "--out", str(as_json))
    assert bad.returncode == 2 and bad.stderr.startswith("goldtrace: Invalid value for --scope")


def run_on_terminal(url: str, *args: str, timeout: float = 120) -> tuple[int, str, str]:
    """Run ``goldtrace ARGS`` with stderr on a pseudo-terminal, stdout on a pipe; return the exit
    status, stdout and everything the terminal was sent."""
    controller, terminal = pty.openpty()
    shown = bytearray()
    with subprocess.Popen(
        [sys.executable, "-m", "goldtrace", *args],
        env=cli_env(url),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
    ) as proc:
        os.close(terminal)
        deadline = time.monotonic() + timeout
        while True:
            ready, _, _ = select.select([controller], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                proc.kill()
                raise AssertionError(f"goldtrace {' '.join(args)} hung; terminal: {shown!r}")
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the process closed its end of the terminal
                break
            if not chunk:
                break
            shown += chunk
        assert proc.stdout is not None
        stdout = proc.stdout.read().decode()
        status = proc.wait(timeout=timeout)
    os.close(controller)
    return status, stdout, shown.decode()


def test_pdf_export_and_the_progress_bar(fresh_database_url: str, tmp_path: Path) -> None:
    url = fresh_database_url
    assert run(url, "init-db").returncode == 0
    assert run(url, "demo").returncode == 0
    pdf = tmp_path / "demo.pdf"
    done = run(
        url, "export", "--scope", "ledger", "--format", "pdf", "--lang", "en", "--out", str(pdf)
    )
    assert done.returncode == 0 and done.stderr == ""  # no terminal: not a byte of progress
    assert done.stdout.startswith("pdf export of ledger: ")
    reader = PdfReader(pdf)
    assert len(reader.pages) > 1
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Chain-of-custody report" in text and "Refinería del Sur" in text
    assert f"Page 1 of {len(reader.pages)}" in text

    for fmt, scope in (("pdf", "ledger"), ("epcis", "org:refineria-sur")):
        out = tmp_path / f"tty.{fmt}"
        status, stdout, terminal = run_on_terminal(
            url, "export", "--scope", scope, "--format", fmt, "--out", str(out)
        )
        assert status == 0, terminal
        written = re.search(r": (\d+) events written", stdout)
        assert written is not None and int(written.group(1)) > 0
        count = written.group(1)
        # The bar starts at zero out of the scope's total and ends at the total, 100 %.
        assert f"{fmt} export" in terminal and f"0/{count}" in terminal
        assert re.search(rf"\[#+\]\s+{count}/{count}\s+100%", terminal), terminal
        assert out.stat().st_size > 0

    bad = run(
        url,
        "export",
        "--scope",
        "ledger",
        "--format",
        "pdf",
        "--lang",
        "fr",
        "--out",
        str(pdf) + "x",
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("goldtrace: Invalid value for '--lang'")
    assert bad.stderr.count("\n") == 1
    assert not Path(str(pdf) + "x").exists()
