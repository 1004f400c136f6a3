"""New application PDFs uploaded by curators: checked, saved under a safe name, then ingested.

A file is refused before it touches the corpus when it is too large, empty, or not a PDF whatever
its name says (the first bytes decide, as in ingest). Names are reduced to letters (æøå kept),
digits, '-', '_' and '.', so an upload can never write outside the upload folder. Then the ordinary
incremental ingest runs, so uploads are read, tagged and curated exactly like every other file.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ingest.curation import Curator
from ingest.errors import InnosokError
from ingest.extract import describe_non_pdf, sha256_file
from ingest.pipeline import IngestReport, ingest

UPLOAD_FOLDER = "opplastet"  # below the corpus folder; git-ignored
DEFAULT_MAX_MB = 50


def max_upload_bytes() -> int:
    """$INNOSOK_UPLOAD_MAX_MB (default 50) in bytes."""
    try:
        mb = float(os.environ.get("INNOSOK_UPLOAD_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int(mb * 1024 * 1024)


class UploadRejected(InnosokError):
    """One uploaded file was refused; the message says why, in words the sender understands."""


class IngestBusyError(InnosokError):
    """Another upload's ingest is still running in this server."""


@dataclass(frozen=True)
class Refusal:
    name: str
    message: str


@dataclass(frozen=True)
class UploadOutcome:
    saved: tuple[str, ...]  # paths relative to the corpus folder
    refused: tuple[Refusal, ...]
    already_there: tuple[str, ...] = ()  # identical to a file already in the corpus


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB".replace(".", ",")


def check_upload(name: str, data: bytes, max_bytes: int | None = None) -> None:
    """Raise UploadRejected unless `data` is a non-empty PDF within the size limit."""
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if len(data) > limit:
        raise UploadRejected(f"«{name}» er for stor ({_size(len(data))}). Grensen er {_size(limit)}. "
                             "Del opp eller komprimer PDF-en og prøv igjen.")
    if not data:
        raise UploadRejected(f"«{name}» er tom (0 byte).")
    what = describe_non_pdf(data[:1024])
    if what is not None:
        raise UploadRejected(f"«{name}» er ikke en PDF{what}, selv om navnet kan tyde på det. "
                             "Lagre dokumentet som PDF og last det opp på nytt.")


def safe_filename(name: str) -> str:
    """A harmless file name: no folders, no leading dots, letters (æøå kept)/digits/-_. only, ends in .pdf."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    stem = base[:-4] if base.lower().endswith(".pdf") else base
    stem = re.sub(r"[^\w.-]+", "-", stem, flags=re.UNICODE).replace("_", "-")
    stem = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", stem)).strip(".-").lower()[:100]
    return f"{stem or 'soknad'}.pdf"


def save_uploads(files: Sequence[tuple[str, bytes]], corpus_dir: Path, curator: Curator,
                 max_bytes: int | None = None) -> UploadOutcome:
    """Check every file; save the good ones under `<corpus>/opplastet/` (atomically, never overwriting)."""
    if not isinstance(curator, Curator) or not curator.token:
        raise UploadRejected("Du må logge inn som kurator for å laste opp søknader.")
    folder = corpus_dir / UPLOAD_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    existing = {sha256_file(p): p for p in folder.glob("*.pdf")}
    saved: list[str] = []
    refused: list[Refusal] = []
    twins: list[str] = []
    for name, data in files:
        try:
            check_upload(name, data, max_bytes)
        except UploadRejected as exc:
            refused.append(Refusal(name, str(exc)))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in existing:
            twins.append(existing[digest].relative_to(corpus_dir).as_posix())
            continue
        target = folder / safe_filename(name)
        n = 2
        while target.exists():
            target = folder / f"{safe_filename(name)[:-4]}-{n}.pdf"
            n += 1
        tmp = folder / f".{target.name}.part"
        tmp.write_bytes(data)
        os.replace(tmp, target)
        existing[digest] = target
        saved.append(target.relative_to(corpus_dir).as_posix())
    return UploadOutcome(tuple(saved), tuple(refused), tuple(twins))


_INGEST_LOCK = threading.Lock()


def run_ingest(corpus_dir: Path, index_root: Path, store_path: Path | None,
               on_progress: Callable[[int, int, str], None] | None = None) -> IngestReport:
    """The incremental ingest over the corpus (one at a time per server), with the project's tagger."""
    if not _INGEST_LOCK.acquire(blocking=False):
        raise IngestBusyError("En innlesing pågår allerede. Vent til den er ferdig, og prøv igjen.")
    try:
        return ingest(corpus_dir, index_root, progress=False, curation=store_path, on_progress=on_progress,
                      **_tagger_arguments())
    finally:
        _INGEST_LOCK.release()


def _tagger_arguments() -> dict[str, object]:
    """What `innosok ingest` (search_app/cli.py cmd_ingest) passes to ingest() besides paths: keep the two
    in step, so uploads are tagged like every other file. Today it passes nothing more."""
    return {}
