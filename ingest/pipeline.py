"""The ingest batch: corpus folder in, index up to date out, and a report of what happened.

Incremental by default (only new and changed PDFs are read; deleted ones are removed). A bad file is
reported and skipped; the batch goes on. The index changes only when the whole batch commits; a
rebuild goes into a new generation that replaces the old one only when it is complete.

The default tagger trains on the gold labels plus the curators' labels (texts from the index), and the
index records which model tagged it (`TAGGER_KEY_FILE` in its generation folder): when the model changes
(new curated labels, new gold, a new taxonomy), files unchanged on disk are read and tagged again too.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from ingest.curation import Decision, apply_curation, default_store_path, load_decisions, sync_index
from ingest.enrich import enrich
from ingest.errors import (ConfigurationError, FileProblemError, IndexMissingError, IndexOutdatedError, InnosokError,
                           problem_message)
from ingest.extract import ExtractLimits, extract, sha256_file
from ingest.golddata import DEFAULT_GOLD_DIR, TrainingSet, curated_training, load_gold
from ingest.manifest import load_manifest
from ingest.parse import parse
from ingest.records import Application, InnovationExample, Problem, from_dict
from ingest.register import Register
from ingest.searchindex import SearchIndex
from ingest.taxonomy import load_taxonomy

Tagger = Callable[[Application], Application]
TAGGER_KEY_FILE = "tagger-key"  # in the generation folder: the key of the model that tagged this index
UNKNOWN_TAGGER = ""  # recorded when files were read without the default tagger: the next tagged run re-tags all
MODEL_CHANGED = "Merkemodellen er endret; alle søknader merkes på nytt."


@dataclass(frozen=True)
class IngestReport:
    """What one run did: for the operator's screen and, as JSON, for a log."""

    corpus: str
    index: str
    rebuilt: bool
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: int = 0  # files unchanged on disk (those in `retagged` were read again all the same)
    retagged: tuple[str, ...] = ()  # unchanged files read and tagged again because the tagger's model changed
    problems: tuple[Problem, ...] = ()
    applications: int = 0
    examples: int = 0
    pages: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def discover(corpus_dir: Path) -> list[Path]:
    """Every PDF below the corpus folder (by name, any case), in a stable order. Hidden folders are skipped, and
    so are corpora of their own inside it: a subfolder with its own manifest.csv (the sample corpus keeps its
    supplement of labelled applications, beyond the archive's shape, in `corpus/supplement/`)."""
    nested = {m.parent for m in corpus_dir.rglob("manifest.csv") if m.parent != corpus_dir}
    return sorted(
        p for p in corpus_dir.rglob("*")
        if p.is_file() and p.suffix.lower() == ".pdf"
        and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
        and not nested.intersection(p.parents)
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
    gold_dir: Path = DEFAULT_GOLD_DIR,
) -> IngestReport:
    """Bring the index at `index_root` up to date with the PDFs in `corpus_dir`.

    Curators' decisions (the store at `curation`, default ./curation/innosok.sqlite) override the
    tagger on every file read and are re-applied to the whole index before it is used; `on_progress`
    gets (files done, files to read, current file) for a progress display. Without a `tagger`, the
    default one (ingest/tagging.py: trained on the gold in `gold_dir` plus the curators' labels, cached
    under the index) tags unless `tag=False`; when its model is not the one that tagged the index, every
    file is read again.
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
    digests = {rel: sha256_file(path) for path, rel in relative.items()}
    todo: list[tuple[Path, str]] = []
    unchanged = 0
    for path, rel in relative.items():
        if catalog.get(rel, ("",))[0] == digests[rel]:
            unchanged += 1
        else:
            todo.append((path, rel))
    removed = tuple(sorted(set(catalog) - set(relative.values())))

    decisions = load_decisions(curation)
    tagger_key: str | None = None  # the default tagger's model key; None: files are tagged some other way
    retagged: list[str] = []
    missing_curated: set[str] = set()
    if tagger is None and tag and files:
        from ingest import tagging  # spaCy and the lexicon load only when there are files

        extra, missing_curated = _curated_extra(index_root, current, decisions, digests, gold_dir)
        training = tagging.default_training(extra, gold_dir)
        taxonomy = load_taxonomy()
        tagger_key = tagging.tagger_key(training, taxonomy)
        if not training.examples:
            notes.append("Fant ingen fasit å lære av (corpus/gold); sektorer og kriterier settes bare med regler.")
        if missing_curated:
            notes.append(f"{len(missing_curated)} eksempler kuratorene har merket, finnes ikke i indeksen med samme fil "
                         "(ikke lest inn ennå, eller filen er endret eller fjernet); merkingen av dem er ikke med i "
                         "treningen.")
        if not rebuild and unchanged and recorded_tagger_key(target) != tagger_key:
            reading = {r for _, r in todo}
            retagged = [rel for rel in relative.values() if rel not in reading]
            todo = list(relative.items())
            notes.append(MODEL_CHANGED)
        if todo:  # the models load (or train) only when there is something to tag
            tagger = tagging.Tagger.for_training(training, index_root, taxonomy)

    added: list[str] = []
    changed: list[str] = []
    problems: list[Problem] = []
    pages = 0
    retag_set = set(retagged)
    queued = {r for _, r in todo}
    seen_ids: dict[str, str] = {rel: aid for rel, (_, aid) in catalog.items() if rel not in queued}
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
                if rel not in retag_set:
                    (changed if rel in catalog else added).append(rel)
        if on_progress is not None:
            on_progress(len(todo), len(todo), "")
    except BaseException:
        if rebuild:
            target.discard()
        raise
    if tagger_key is not None:  # a file that kept its old version (a failed re-read) keeps the old model's tags
        failed_retag = any(p.file in retag_set for p in problems)
        _record_tagger_key(target, UNKNOWN_TAGGER if failed_retag else tagger_key)
    elif added or changed:
        _record_tagger_key(target, UNKNOWN_TAGGER)
    if missing_curated:
        now_there = {ex.id for ex in target.examples(missing_curated)}
        if now_there:
            notes.append(f"{len(now_there)} av dem er lest inn nå; neste innlesing trener merkemodellen med dem og "
                         "merker alle søknader på nytt.")
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
        retagged=tuple(retagged),
        problems=tuple(problems),
        applications=target.doc_count("application"),
        examples=target.doc_count("example"),
        pages=pages,
        seconds=round(time.perf_counter() - started, 2),
        notes=tuple(notes),
    )
    target.close()
    return report


# -- curators' labels for the tagger, and the model that tagged the index ---------------------------


def _curated_extra(index_root: Path, current: SearchIndex | None, decisions: dict[str, Decision],
                   digests: dict[str, str], gold_dir: Path) -> tuple[TrainingSet, set[str]]:
    """The curators' labels as training rows (golddata.curated_training), with the example texts from the
    index in use — before a rebuild, the generation it replaces — taken only from files unchanged on disk,
    so the rows (and the model key) do not depend on what this batch reads. Also the ids of labelled
    examples not found there (not indexed yet, or their file changed)."""
    labelled = {i: d for i, d in decisions.items()
                if d.labels("sector") is not None or d.labels("criterion") is not None}
    if not labelled:
        return TrainingSet(), set()
    source, own = current, False
    if source is None:
        try:
            source, own = SearchIndex.open(index_root), True
        except InnosokError:
            source = None
    found: list[tuple[str, InnovationExample]] = []
    if source is not None:
        try:
            for fields in source.all_examples():
                if fields["id"] in labelled and digests.get(fields["file"]) == fields["sha256"]:
                    found.append((fields["file"], from_dict(InnovationExample, json.loads(fields["payload"]))))
        finally:
            if own:
                source.close()
    gold = load_gold(gold_dir) if (gold_dir / "examples.csv").exists() else TrainingSet()
    missing = set(labelled) - {ex.id for _, ex in found}
    return curated_training(found, labelled, gold), missing


def recorded_tagger_key(index: SearchIndex) -> str | None:
    """The key of the model that tagged this index generation (None: not recorded, e.g. an older index)."""
    path = index.path / TAGGER_KEY_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


def _record_tagger_key(index: SearchIndex, key: str) -> None:
    """Written after the batch committed: a crash in between leaves the old key, so the next run re-tags."""
    tmp = index.path / (TAGGER_KEY_FILE + ".tmp")
    tmp.write_text(key, encoding="utf-8")
    os.replace(tmp, index.path / TAGGER_KEY_FILE)
