"""The ingest batch: corpus folder in, index up to date out, and a report of what happened.

Incremental by default (only new and changed PDFs are read; deleted ones are removed). A bad file is
reported and skipped; the batch goes on. The index changes only when the whole batch commits; a
rebuild goes into a new generation that replaces the old one only when it is complete.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from ingest.curation import apply_curation, default_store_path, load_decisions, sync_index
from ingest.enrich import enrich
from ingest.errors import (ConfigurationError, FileProblemError, IndexMissingError, IndexOutdatedError, InnosokError,
                           problem_message)
from ingest.extract import ExtractLimits, extract, sha256_file
from ingest.manifest import load_manifest
from ingest.parse import parse
from ingest.records import Application, Problem
from ingest.register import Register
from ingest.searchindex import SearchIndex

Tagger = Callable[[Application], Application]


@dataclass(frozen=True)
class IngestReport:
    """What one run did: for the operator's screen and, as JSON, for a log."""

    corpus: str
    index: str
    rebuilt: bool
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: int = 0
    problems: tuple[Problem, ...] = ()
    applications: int = 0
    examples: int = 0
    pages: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def discover(corpus_dir: Path) -> list[Path]:
    """Every PDF below the corpus folder (by name, any case), in a stable order; hidden folders skipped."""
    return sorted(
        p for p in corpus_dir.rglob("*")
        if p.is_file() and p.suffix.lower() == ".pdf" and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
    )


def ingest(
    corpus_dir: Path,
    index_root: Path,
    *,
    rebuild: bool = False,
    progress: bool = True,
    limits: ExtractLimits = ExtractLimits(),
    tagger: Tagger | None = None,
    curation: Path | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
    tag: bool = True,
) -> IngestReport:
    """Bring the index at `index_root` up to date with the PDFs in `corpus_dir`.

    Curators' decisions (the store at `curation`, default ./curation/innosok.sqlite) override the
    tagger on every file read and are re-applied to the whole index before it is used; `on_progress`
    gets (files done, files to read, current file) for a progress display. Without a `tagger`, the
    default one (ingest/tagging.py: trained once per batch, cached under the index) tags unless `tag=False`.
    """
    started = time.perf_counter()
    if not corpus_dir.is_dir():
        raise ConfigurationError(f"Fant ikke mappen {corpus_dir}. Oppgi mappen der søknadene (PDF-ene) ligger.")
    manifest = load_manifest(corpus_dir)
    register = Register.load()
    notes: list[str] = []
    current: SearchIndex | None = None
    if not rebuild:
        try:
            current = SearchIndex.open(index_root)
        except IndexMissingError:
            rebuild = True
            notes.append("Ingen indeks fantes; bygger en ny.")
        except IndexOutdatedError:
            rebuild = True
            notes.append("Indeksen var laget av en eldre versjon; bygger den på nytt.")
    target = SearchIndex.create_generation(index_root) if rebuild else current
    assert target is not None
    catalog = {} if rebuild else target.catalog()

    files = discover(corpus_dir)
    relative = {p: p.relative_to(corpus_dir).as_posix() for p in files}
    todo: list[tuple[Path, str]] = []
    unchanged = 0
    for path, rel in relative.items():
        digest = sha256_file(path)
        if catalog.get(rel, ("",))[0] == digest:
            unchanged += 1
        else:
            todo.append((path, rel))
    removed = tuple(sorted(set(catalog) - set(relative.values())))

    added: list[str] = []
    changed: list[str] = []
    problems: list[Problem] = []
    pages = 0
    seen_ids: dict[str, str] = {rel: aid for rel, (_, aid) in catalog.items() if rel not in {r for _, r in todo}}
    if tagger is None and tag and todo:
        from ingest import tagging  # spaCy and the lexicon load only when there is something to tag

        default_tagger = tagging.Tagger.for_index(index_root)
        tagger = default_tagger
        if default_tagger.models is None:
            notes.append("Fant ingen fasit å lære av (corpus/gold); sektorer og kriterier settes bare med regler.")
    decisions = load_decisions(curation)
    try:
        with target.batch() as batch:
            for rel in removed:
                batch.remove(catalog[rel][1])
            bar = tqdm(todo, desc="Leser søknader", unit="fil", disable=not progress, file=sys.stderr)
            for done, (path, rel) in enumerate(bar):
                bar.set_postfix_str(path.name[-40:])
                if on_progress is not None:
                    on_progress(done, len(todo), rel)
                try:
                    doc = extract(path, limits)
                    parsed = parse(doc)
                    app = enrich(doc, parsed, rel, manifest.get(rel), register)
                    if tagger is not None:
                        app = tagger(app)
                    app = apply_curation(app, decisions)
                except FileProblemError as exc:
                    kept = " Forrige versjon er beholdt i indeksen." if rel in catalog else ""
                    problems.append(Problem(rel, exc.kind, exc.message + kept, exc.detail))
                    continue
                twin = next((other for other, aid in seen_ids.items() if aid == app.id and other != rel), None)
                if twin is not None:
                    problems.append(Problem(rel, "duplikat", problem_message("duplikat", what=twin), ""))
                    continue
                if rel in catalog and catalog[rel][1] != app.id:
                    batch.remove(catalog[rel][1])
                batch.add(app)
                seen_ids[rel] = app.id
                pages += app.page_count
                (changed if rel in catalog else added).append(rel)
        if on_progress is not None:
            on_progress(len(todo), len(todo), "")
    except BaseException:
        if rebuild:
            target.discard()
        raise
    try:  # decisions saved while this run was reading (or never applied) reach the index too
        synced = sync_index(target, load_decisions(curation))
        store = curation or default_store_path()
        if synced and not store.exists():
            notes.append(f"Fant ingen kureringsdatabase i {store}, så kuratorenes merking ble tatt bort fra {synced} "
                         "eksempler i indeksen. Pek INNOSOK_CURATION på riktig fil og kjør innlesingen på nytt.")
        elif synced:
            notes.append(f"Kuratorenes vedtak ble lagt inn på {synced} eksempler som ikke var oppdatert.")
    except InnosokError as exc:
        notes.append(f"Kuratorenes vedtak kunne ikke legges inn nå ({exc}). Kjør innlesingen på nytt.")
    if rebuild:
        target.activate(index_root)
    report = IngestReport(
        corpus=str(corpus_dir),
        index=str(index_root),
        rebuilt=rebuild,
        added=tuple(added),
        changed=tuple(changed),
        removed=removed,
        unchanged=unchanged,
        problems=tuple(problems),
        applications=target.doc_count("application"),
        examples=target.doc_count("example"),
        pages=pages,
        seconds=round(time.perf_counter() - started, 2),
        notes=tuple(notes),
    )
    target.close()
    return report
