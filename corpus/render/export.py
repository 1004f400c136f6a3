"""The corpus' tables: `manifest.csv` (one row per PDF) and the gold labels.

The gold labels were written into the sources with the text, before any tagger existed;
exporting them to plain CSV lets evaluation read them without knowing the source format.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .source import Source

MANIFEST_COLUMNS = ("file", "year", "municipality", "kommunenummer", "fylkesnummer", "status",
                    "language", "layout", "examples", "pages", "sha256", "illustrative")
EXAMPLE_COLUMNS = ("file", "example", "title", "sectors", "phase")
ANSWER_COLUMNS = ("file", "example", "answer", "question", "criteria", "text")
WHY_US_QUESTION = "why_us"

GOLD_README = """\
# Gold labels of the sample corpus

Written by `python -m corpus.render` from the sources in `../sources/` (do not edit here).

The sample applications are illustrative: written for Innosøk, not real applications.
Their labels were set by the authors of each source together with the text, before any
tagger existed, so they are an independent reference for evaluating the tagger. Never
change a label to fit a tagger; fix the source and re-render instead.

- `examples.csv`: one row per innovation example: `file` (PDF path relative to `corpus/`),
  `example` (1-based), `title`, `sectors` (`;`-joined sector ids), `phase`
  (`behov`, `utvikling`, `i_bruk`).
- `answers.csv`: one row per answer: `file`, `example` (0 = the application's field 5
  "why us" answer, question `why_us`; else 1-based), `answer` (1-based within the example,
  in source order), `question` (question id, `fritekst` for unlabelled text),
  `criteria` (`;`-joined criterion ids, may be empty), `text` (the answer as in the source).

Ids are defined in `../sources/FORMAT.md`.
"""


@dataclass(frozen=True)
class PdfEntry:
    """One rendered PDF: its source and what the file turned out to be."""

    source: Source
    file: str  # relative to the corpus root, with forward slashes
    pages: int
    sha256: str


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_rows(entries: Iterable[PdfEntry]) -> list[dict[str, str]]:
    return [{
        "file": e.file, "year": str(e.source.year), "municipality": e.source.municipality,
        "kommunenummer": e.source.kommunenummer, "fylkesnummer": e.source.fylkesnummer,
        "status": e.source.status, "language": e.source.language, "layout": e.source.layout,
        "examples": str(len(e.source.examples)), "pages": str(e.pages), "sha256": e.sha256,
        "illustrative": "ja",
    } for e in entries]


def example_rows(entries: Iterable[PdfEntry]) -> list[dict[str, str]]:
    return [{
        "file": e.file, "example": str(i), "title": ex.title,
        "sectors": ";".join(ex.sectors), "phase": ex.phase,
    } for e in entries for i, ex in enumerate(e.source.examples, 1)]


def answer_rows(entries: Iterable[PdfEntry]) -> list[dict[str, str]]:
    rows = []
    for e in entries:
        if e.source.why_us:
            rows.append({"file": e.file, "example": "0", "answer": "1", "question": WHY_US_QUESTION,
                         "criteria": ";".join(e.source.why_us_criteria), "text": e.source.why_us})
        for i, ex in enumerate(e.source.examples, 1):
            for j, answer in enumerate(ex.answers, 1):
                rows.append({"file": e.file, "example": str(i), "answer": str(j), "question": answer.question,
                             "criteria": ";".join(answer.criteria), "text": answer.text})
    return rows


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, str]]) -> None:
    """Write UTF-8 CSV with a header, atomically (a reader never sees half a file)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    _write_text(path, buffer.getvalue())


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    tmp.replace(path)


def write_tables(root: Path, entries: Sequence[PdfEntry]) -> Path:
    """Write manifest.csv and gold/*.csv + README.md under the corpus root; return the manifest path."""
    ordered = sorted(entries, key=lambda e: e.file)
    manifest = root / "manifest.csv"
    write_csv(manifest, MANIFEST_COLUMNS, manifest_rows(ordered))
    write_csv(root / "gold" / "examples.csv", EXAMPLE_COLUMNS, example_rows(ordered))
    write_csv(root / "gold" / "answers.csv", ANSWER_COLUMNS, answer_rows(ordered))
    _write_text(root / "gold" / "README.md", GOLD_README)
    return manifest
