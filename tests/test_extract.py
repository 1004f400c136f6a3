"""Extraction on real files: the public real-world PDF set, through `innosok ingest`, in one batch."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from conftest import shared_dir
from ingest.errors import FileProblemError
from ingest.extract import ExtractLimits, describe_non_pdf, extract
from search_app.cli import main

ERROR_KINDS = {"passord", "ikke-pdf", "skadet", "ingen-innhold"}


@pytest.fixture(scope="module")
def realworld_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict[str, dict]]:
    folder = shared_dir() / "pdfs" / "realworld"
    out = tmp_path_factory.mktemp("realworld")
    report_file = out / "report.json"
    code = main(["ingest", str(folder), "--index", str(out / "index"), "--report", str(report_file), "--quiet"])
    assert code == 0
    report = json.loads(report_file.read_text(encoding="utf-8"))
    with (folder / "manifest.csv").open(encoding="utf-8") as fh:
        expected = {row["file"]: row for row in csv.DictReader(fh)}
    return report, expected


def test_every_realworld_file_has_the_expected_outcome(realworld_report: tuple[dict, dict]) -> None:
    report, expected = realworld_report
    problems = {p["file"]: p for p in report["problems"]}
    indexed = set(report["added"])
    assert len(expected) == 59
    wrong = []
    for name, row in expected.items():
        outcome = row["expected_outcome"]
        if outcome == "text":
            ok = name in indexed
        elif outcome == "ocr":  # read by OCR, or reported as a scan OCR found no text in
            ok = name in indexed or problems.get(name, {}).get("kind") == "mangler-tekst"
        else:
            ok = problems.get(name, {}).get("kind") in ERROR_KINDS
        if not ok:
            wrong.append((name, outcome, problems.get(name, {}).get("kind", "indexed")))
    assert wrong == []


def test_scans_without_a_text_layer_are_read_by_ocr(realworld_report: tuple[dict, dict]) -> None:
    report, expected = realworld_report
    read = {name for name, row in expected.items() if row["expected_outcome"] == "ocr"} & set(report["added"])
    assert {"pdfminer__175.pdf", "navikt__jpeg2000.pdf", "navikt__litenPdf.pdf"} <= read, read


def test_problems_are_explained_in_norwegian(realworld_report: tuple[dict, dict]) -> None:
    report, _ = realworld_report
    by_file = {p["file"]: p for p in report["problems"]}
    assert "passord" in by_file["navikt__skjema-passordbeskyttet.pdf"]["message"]
    assert "Word" in by_file["navikt__Docx-test.docx.pdf"]["message"]
    assert "skannet" in by_file["sf__grayscale-image.pdf"]["message"]
    assert "avbrutt" in by_file["navikt__forsteside-nav__TRUNCATED50pct.pdf"]["message"]
    for problem in report["problems"]:
        assert problem["message"] and "Traceback" not in problem["message"]


def test_norwegian_letters_survive_extraction() -> None:
    doc = extract(shared_dir() / "pdfs" / "realworld" / "navikt__NAV_54-editert.pdf")
    text = doc.text
    assert any(ch in text for ch in "æøå")
    assert "Ã" not in text  # no UTF-8 read as Latin-1


def test_empty_password_pdf_opens() -> None:
    doc = extract(shared_dir() / "pdfs" / "realworld" / "pdfminer__dmca.pdf")
    assert doc.encrypted and len(doc.text) > 1000


def test_a_file_that_takes_too_long_is_cut_off_and_named(tmp_path: Path) -> None:
    big = shared_dir() / "pdfs" / "realworld" / "sf__GeoTopo-komprimiert.pdf"
    with pytest.raises(FileProblemError) as err:
        extract(big, ExtractLimits(seconds=0.05))
    assert err.value.kind == "tidsavbrudd"
    assert "for lang tid" in err.value.message


def test_a_hanging_file_does_not_stop_the_batch(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(shared_dir() / "pdfs" / "realworld" / "sf__GeoTopo-komprimiert.pdf", corpus / "a-slow.pdf")
    shutil.copy(shared_dir() / "pdfs" / "realworld" / "sf__minimal-document.pdf", corpus / "b-fine.pdf")
    from ingest.pipeline import ingest

    report = ingest(corpus, tmp_path / "index", progress=False, limits=ExtractLimits(seconds=0.3))
    assert [p.kind for p in report.problems] == ["tidsavbrudd"]
    assert report.added == ("b-fine.pdf",)


def test_memory_limit_is_a_named_problem() -> None:
    """In a fresh interpreter (whose heap is small and known), a file needing more memory than allowed is named."""
    import subprocess
    import sys

    from conftest import ROOT

    code = (
        "from pathlib import Path\n"
        "from ingest.errors import FileProblemError\n"
        "from ingest.extract import ExtractLimits, extract\n"
        "try:\n"
        f"    extract(Path({str(shared_dir() / 'pdfs' / 'realworld' / 'sf__GeoTopo-komprimiert.pdf')!r}),"
        " ExtractLimits(memory_mb=1))\n"
        "    print('read')\n"
        "except FileProblemError as e:\n"
        "    print(e.kind)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "minne", out.stderr[-500:]


@pytest.mark.parametrize(
    ("head", "words"),
    [(b"%PDF-1.7\n", None), (b"PK\x03\x04rest", "Word"), (b"\xff\xd8\xff\xe0", "JPEG"), (b"hello", "")],
)
def test_non_pdf_sniffing(head: bytes, words: str | None) -> None:
    found = describe_non_pdf(head)
    if words is None:
        assert found is None
    else:
        assert found is not None and words in found


def test_empty_file_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "tom.pdf"
    empty.write_bytes(b"")
    with pytest.raises(FileProblemError) as err:
        extract(empty)
    assert err.value.kind == "tom"
