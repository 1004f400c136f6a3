"""The command line: every command has help, appears in the README, and turns errors into messages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from search_app.cli import build_parser, main


def commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(sub.choices)


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help_and_is_in_the_readme(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"innosok {command}\b", readme), f"README does not show `innosok {command}`"


def test_search_and_show(corpus_index: tuple[Path, Any], capsys: pytest.CaptureFixture[str]) -> None:
    root = str(corpus_index[0])
    assert main(["search", "bostedsløse", "--index", root, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sample"] is True and data["hits"]
    first = data["hits"][0]["example_id"]
    assert main(["show", first, "--index", root]) == 0
    out = capsys.readouterr().out
    assert "Eksempelkorpus" in out and "Kontakt:" in out and "side" in out
    assert main(["search", "bostedsløse", "--index", root]) == 0
    assert "Eksempelkorpus" in capsys.readouterr().out
    assert main(["search", "velferdsteknologi", "--index", root]) == 0
    out = capsys.readouterr().out
    assert "*velferdsteknologi*" in out.lower()  # the match marked, and not with the quotes the texts use
    assert "««" not in out and "»»" not in out


def test_errors_become_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                corpus_index: tuple[Path, Any]) -> None:
    assert main(["search", "skole", "--index", str(tmp_path / "none")]) == 2
    assert "innosok ingest" in capsys.readouterr().err
    assert main(["show", "finnes-ikke", "--index", str(corpus_index[0])]) == 2
    assert "Fant ikke" in capsys.readouterr().err
    assert main(["ingest", str(tmp_path / "borte"), "--index", str(tmp_path / "ix"), "--quiet"]) == 2
    assert "Fant ikke mappen" in capsys.readouterr().err
