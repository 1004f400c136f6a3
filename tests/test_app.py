"""The Streamlit app: AppTest on the page, and `innosok serve` answering on localhost."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT

APP = str(ROOT / "search_app" / "app.py")


@pytest.fixture
def app(corpus_index: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("INNOSOK_INDEX", str(corpus_index[0]))
    return AppTest.from_file(APP, default_timeout=60)


def test_front_page_in_norwegian_with_sample_notice(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert app.title[0].value == "Innosøk"
    assert "Eksempelkorpus" in app.info[0].value
    assert "Hva leter du etter?" in app.text_input[0].label


def test_search_shows_escaped_marked_results(app: AppTest) -> None:
    app.run()
    app.text_input(key="query").input("smart matleveranse").run()
    assert not app.exception
    texts = " ".join(m.value for m in app.markdown)
    assert "Smart matleveranse i hjemmetjenesten" in texts
    assert "<mark>" in texts


def test_merged_municipality_filter_in_the_app(app: AppTest) -> None:
    app.run()
    app.text_input(key="municipality").input("Øygarden").run()
    captions = " ".join(c.value for c in app.caption)
    assert "Fjell kommune" in captions


def test_missing_index_gives_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INNOSOK_INDEX", str(tmp_path / "none"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert "innosok ingest" in at.error[0].value


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_on_localhost(corpus_index: tuple[Path, Any]) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "search_app.cli", "serve", "--port", str(port), "--index", str(corpus_index[0])],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as r:
                    assert r.read() == b"ok"
                    return
            except OSError:
                time.sleep(0.5)
        pytest.fail("innosok serve did not answer within 60 s")
    finally:
        proc.terminate()
        proc.wait(10)
