"""``socobs demo --live-unit year|month``: listed in the help, accepted, and a bad value refused
in one paragraph (exit 2) before anything is written. Cheap CLI-level checks: the live rounds
themselves are tested with the demo runner."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.cli.demo import LIVE_UNITS


def _one_paragraph(err: str) -> str:
    text = err.strip()
    assert text.startswith("error: ") and "Traceback" not in text, err
    assert not re.search(r"\n\s*\n", text), f"more than one paragraph:\n{err}"
    return text


def test_the_choices_are_the_runners() -> None:
    import typing

    from pipeline.demo.runner import LiveUnit

    assert set(LIVE_UNITS) == set(typing.get_args(LiveUnit))


def test_help_lists_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["demo", "--help"]) == 0
    out = re.sub(r"\s+", " ", capsys.readouterr().out)
    assert "--live-unit" in out and "year|month" in out


@pytest.mark.parametrize("unit", ["year", "month"])
def test_a_valid_unit_is_accepted(unit: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A valid unit passes: the run goes on to the next check, a bad --every, and stops there."""
    var = tmp_path / "var"
    code = cli.run(["demo", "--live", "--live-unit", unit, "--every", "soon", "--var", str(var)])
    text = _one_paragraph(capsys.readouterr().err)
    assert code == 2
    assert "--every" in text and "'soon'" in text
    assert "--live-unit" not in text
    assert not var.exists()


@pytest.mark.parametrize("bad", ["week", "Month", ""])
def test_a_bad_unit_is_refused(bad: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    var = tmp_path / "var"
    code = cli.run(["demo", "--live", "--live-unit", bad, "--var", str(var)])
    text = _one_paragraph(capsys.readouterr().err)
    assert code == 2
    for needle in ("--live-unit", "year", "month", repr(bad)):
        assert needle in text, f"{needle!r} not in {text!r}"
    assert not var.exists()
    assert list(tmp_path.iterdir()) == []
