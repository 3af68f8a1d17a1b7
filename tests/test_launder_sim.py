"""The laundering simulator (bench/launder_sim.py) lives a small year end to end, through the services:
every method gets its row, every attempt an outcome, and the same seed gives the same figures."""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
SMALL = ["--mines", "2", "--pickers", "5", "--events", "1000", "--markdown"]


def _figures(output: str) -> list[str]:
    # The last line names the commit and the elapsed time; everything above is the measurement.
    return [line for line in output.splitlines() if "elapsed" not in line]


@pytest.mark.slow
def test_small_year_accounts_for_every_method(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    import launder_attacks
    import launder_sim

    assert launder_sim.main(SMALL) == 0
    first = capsys.readouterr().out
    for label in launder_attacks.labels():
        assert f"| {label} |" in first
    assert "Legitimate events:" in first
    assert "Target 1" in first and "Target 2" in first
    assert launder_sim.main(SMALL) == 0
    assert _figures(capsys.readouterr().out) == _figures(first)
