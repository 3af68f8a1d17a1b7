"""`goldtrace export` on a fresh database with the demo: EPCIS validates, CSV and JSON are written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema

from builders import TEST_SECRET

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "standards" / "epcis-2.0-json-schema.json"


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GOLDTRACE_DATABASE_URL": url,
        "GOLDTRACE_SECRET_KEY": TEST_SECRET,
        "GOLDTRACE_LOG_ORIGIN": "goldtrace.test/log",
        "GOLDTRACE_BASE_URL": "https://gold.example.org",
    }
    return subprocess.run(
        [sys.executable, "-m", "goldtrace", *args],
        env=env,
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
