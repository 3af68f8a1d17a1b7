"""Rates and reference prices from the command line, as the standard body records them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from builders import run_cli as run
from goldtrace.db.models import PremiumRate, ReferencePrice
from goldtrace.db.session import make_engine


def count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(model)).scalar_one())
    finally:
        engine.dispose()


def test_rates_and_prices_are_recorded_and_a_bad_file_records_nothing(
    fresh_database_url: str, tmp_path: Path
) -> None:
    url = fresh_database_url
    assert run(url, "init-db").returncode == 0
    assert count(url, PremiumRate) == 2, "init-db seeds the 2014 Fairmined rates"
    rate = run(
        url,
        "premium",
        "rate",
        "--category",
        "fairmined",
        "--from",
        "2027-01-01",
        "--usd-per-kg",
        "4500.00",
    )
    assert rate.returncode == 0, rate.stderr
    assert count(url, PremiumRate) == 3
    good = tmp_path / "prices.csv"
    good.write_text(
        "date,usd_per_troy_oz\n2026-11-02,2641.50\n2026-11-03,2655.10\n", encoding="utf-8"
    )
    assert run(url, "premium", "import-prices", str(good)).returncode == 0
    assert count(url, ReferencePrice) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("2026-11-04,2660.00\n2026-11-05,2,5\n", encoding="utf-8")
    refused = run(url, "premium", "import-prices", str(bad))
    assert refused.returncode == 1
    assert refused.stderr.startswith("goldtrace: line 2")
    assert count(url, ReferencePrice) == 2
    negative = run(
        url, "premium", "reference-price", "--date", "2026-11-06", "--usd-per-troy-oz", "-1"
    )
    assert negative.returncode == 1
    assert run(url, "verify").returncode == 0
