"""The corpus manifest: facts about each PDF the text cannot be trusted to give (year, number, status).

`corpus/manifest.csv` has a row per file; every column but `file` is optional, so a user pointing
the pipeline at the real archive can start with no manifest at all and add one later.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import ConfigurationError

MANIFEST_NAME = "manifest.csv"
STATUSES = ("winner", "finalist", "applicant")


@dataclass(frozen=True)
class ManifestEntry:
    """What the manifest says about one file."""

    file: str
    year: int | None = None
    municipality: str = ""
    kommunenummer: str = ""
    fylkesnummer: str = ""
    status: str = ""
    language: str = ""
    illustrative: bool = False


def load_manifest(corpus_dir: Path) -> dict[str, ManifestEntry]:
    """Manifest rows by file path relative to the corpus folder ({} when there is no manifest)."""
    path = corpus_dir / MANIFEST_NAME
    if not path.exists():
        return {}
    entries: dict[str, ManifestEntry] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "file" not in reader.fieldnames:
            raise ConfigurationError(f"{path} mangler kolonnen «file» (første linje må være kolonnenavn).")
        for line, row in enumerate(reader, start=2):
            year = (row.get("year") or "").strip()
            if year and not year.isdigit():
                raise ConfigurationError(f"{path}, linje {line}: året «{year}» er ikke et tall.")
            status = (row.get("status") or "").strip()
            if status and status not in STATUSES:
                raise ConfigurationError(
                    f"{path}, linje {line}: status «{status}» må være en av {', '.join(STATUSES)}.")
            key = row["file"].strip()
            entries[key] = ManifestEntry(
                file=key,
                year=int(year) if year else None,
                municipality=(row.get("municipality") or "").strip(),
                kommunenummer=(row.get("kommunenummer") or "").strip(),
                fylkesnummer=(row.get("fylkesnummer") or "").strip(),
                status=status,
                language=(row.get("language") or "").strip(),
                illustrative=(row.get("illustrative") or "").strip().lower() in {"ja", "yes", "true", "1"},
            )
    return entries
