"""The bundled sample corpus: its shape matches the real archive, and ingest reads it right."""

from __future__ import annotations

import csv
import hashlib
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS
from ingest.searchindex import SearchIndex

VOLUMES = {2015: (13, 13), 2016: (24, 44), 2017: (18, 33), 2018: (20, 48), 2019: (20, 40)}
SECTORS = {"helse", "oppvekst", "sosial", "integrering", "kultur", "teknisk", "plan", "digitalisering",
           "innbyggerdialog", "ledelse"}


def manifest() -> list[dict[str, str]]:
    with (CORPUS / "manifest.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def sources() -> dict[str, dict[str, Any]]:
    """Source TOML by the PDF path the manifest uses."""
    out = {}
    for path in sorted((CORPUS / "sources").glob("*/*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        out[f"pdf/{data['year']}/{path.stem}.pdf"] = data
    return out


def test_manifest_matches_the_files() -> None:
    rows = manifest()
    on_disk = {p.relative_to(CORPUS).as_posix() for p in (CORPUS / "pdf").rglob("*.pdf")}
    assert {r["file"] for r in rows} == on_disk
    assert set(sources()) == on_disk
    for row in rows:
        data = (CORPUS / row["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"], row["file"]
        assert row["illustrative"] == "ja"


def test_volumes_per_year_match_the_real_archive() -> None:
    rows = manifest()
    apps = Counter(int(r["year"]) for r in rows)
    examples: Counter[int] = Counter()
    for r in rows:
        examples[int(r["year"])] += int(r["examples"])
    for year, (n_apps, n_examples) in VOLUMES.items():
        assert abs(apps[year] - n_apps) <= 0.1 * n_apps, (year, apps[year])
        assert abs(examples[year] - n_examples) <= 0.1 * n_examples, (year, examples[year])


def test_nynorsk_share_and_sector_coverage() -> None:
    rows = manifest()
    share = sum(r["language"] == "nn" for r in rows) / len(rows)
    assert 0.15 <= share <= 0.30
    per_sector: Counter[str] = Counter()
    with (CORPUS / "gold" / "examples.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            per_sector.update(row["sectors"].split(";"))
    assert set(per_sector) == SECTORS
    assert min(per_sector.values()) >= 5, per_sector


def test_contacts_are_fictional() -> None:
    for data in sources().values():
        assert data["contact_email"].endswith(".example")


@pytest.fixture(scope="module")
def indexed(corpus_index: tuple[Path, Any]) -> tuple[Any, dict[str, dict[str, Any]]]:
    root, report = corpus_index
    index = SearchIndex.open(root)
    by_file: dict[str, dict[str, Any]] = {}
    for fields in index.all_examples():
        by_file.setdefault(fields["file"], {})[fields["id"]] = fields
    return report, by_file


def test_ingest_reads_scanned_applications_with_ocr(indexed: tuple[Any, dict]) -> None:
    report, by_file = indexed
    scanned = {f for f, d in sources().items() if d["layout"] == "scanned"}
    assert scanned
    assert [p.file for p in report.problems] == []
    assert scanned <= set(by_file)  # each with its examples in the index (titles: the next test)


def test_ingest_finds_every_example_with_its_title_and_municipality(corpus_index: tuple[Path, Any]) -> None:
    root, _ = corpus_index
    index = SearchIndex.open(root)
    catalog = index.catalog()
    wrong = []
    for file, data in sources().items():  # scans too: their text comes from OCR
        _, app_id = catalog[file]
        app = index.application(app_id)
        got_titles = []
        for ex_id in app["examples"]:
            example, application = index.example(ex_id)
            got_titles.append(example.title)
        want_titles = [ex["title"] for ex in data["examples"]]
        if got_titles != want_titles:
            wrong.append((file, "titles", got_titles, want_titles))
        municipality = app["municipality"]
        if municipality["number"] != data["kommunenummer"] or municipality["county_number"] != data["fylkesnummer"]:
            wrong.append((file, "municipality", municipality["number"], data["kommunenummer"]))
        if app["year"] != data["year"] or app["status"] != data["status"]:
            wrong.append((file, "year/status", app["year"], app["status"]))
    assert wrong == []


def _norm(text: str) -> str:
    return " ".join(text.replace("•", " ").replace("- ", " ").split())


def test_answers_come_back_with_their_questions(corpus_index: tuple[Path, Any]) -> None:
    """Each answer's text, question and page survive extraction (including hyphenated line ends); scans are
    left out: OCR may misread a character, which this exact comparison would count as lost text."""
    root, _ = corpus_index
    index = SearchIndex.open(root)
    catalog = index.catalog()
    missing = []
    for file, data in sources().items():
        if data["layout"] == "scanned":
            continue
        app = index.application(catalog[file][1])
        for ex_id, source_ex in zip(app["examples"], data["examples"]):
            example, _ = index.example(ex_id)
            got = _norm(" ".join(s.text for s in example.sections))
            for answer in source_ex["answers"]:
                for para in answer["text"].split("\n\n"):
                    if _norm(para)[:60] not in got:
                        missing.append((file, example.number, answer["question"], para[:60]))
            labelled = {s.question for s in example.sections} - {"fritekst", "sammendrag"}
            wanted = {a["question"] for a in source_ex["answers"]} - {"fritekst"}
            if data["layout"] != "letter" and labelled != wanted:
                missing.append((file, example.number, "questions", sorted(labelled ^ wanted)))
    assert missing == [], "\n".join(map(str, missing))
