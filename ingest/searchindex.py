"""The project's index: the only module that talks to Whoosh.

Layout on disk: `<root>/CURRENT` names the generation in use (`gen-<n>`); each generation is a Whoosh
index plus `innosok.json` (schema version). Incremental writes go into the current generation and
commit only when the whole batch succeeded; a rebuild writes a new generation and switches CURRENT
atomically, so the last good index stays readable whatever happens to a run.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.highlight import ContextFragmenter, Formatter, get_text
from whoosh.scoring import BM25F

from ingest.analysis import name_analyzer, norwegian_analyzer, words
from ingest.errors import IndexMissingError, IndexOutdatedError, RecordNotFoundError
from ingest.records import Application, InnovationExample, from_dict, to_dict
from ingest.register import normalize_name

SCHEMA_VERSION = 1
META_NAME = "innosok.json"
MARK_START, MARK_END = "\x02", "\x03"  # highlight markers; adapters turn them into <mark> or «»

TEXT_FIELDS = ("title", "body", "context", "municipality")
_TEXT_ANALYZER = norwegian_analyzer()  # built once: its stemming cache then serves every query
_NAME_ANALYZER = name_analyzer()


def build_schema() -> Schema:
    """Example documents (what people search) and application documents (bookkeeping + full record)."""
    text = norwegian_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        kind=ID(stored=True),
        application_id=ID(stored=True),
        file=ID(stored=True),
        sha256=ID(stored=True),
        title=TEXT(analyzer=text, stored=True, field_boost=3.0),
        body=TEXT(analyzer=text, stored=True),
        context=TEXT(analyzer=text, field_boost=0.3),
        municipality=TEXT(analyzer=name_analyzer(), field_boost=1.5),
        applicant=STORED(),
        municipality_key=KEYWORD(commas=True, lowercase=True),
        county=KEYWORD(commas=True, lowercase=True, stored=True),
        year=NUMERIC(stored=True, sortable=True),
        status=ID(stored=True),
        language=ID(stored=True),
        illustrative=ID(stored=True),
        sector=KEYWORD(commas=True, stored=True),
        criterion=KEYWORD(commas=True, stored=True),
        payload=STORED(),
    )


@dataclass(frozen=True)
class Filters:
    """Field filters; municipality numbers come already resolved (then and today) by the caller."""

    sectors: tuple[str, ...] = ()
    criteria: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    counties: tuple[str, ...] = ()
    municipality_keys: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """One innovation example found, with its score, snippet and why it matched."""

    example_id: str
    application_id: str
    title: str
    municipality: str
    year: int | None
    status: str
    sectors: tuple[str, ...]
    score: float
    snippet: str  # with MARK_START/MARK_END around matched words
    matched: tuple[tuple[str, str], ...]  # (field, term)


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[Hit, ...]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class _MarkFormatter(Formatter):
    """Marks matched words with control characters, so each adapter escapes first and marks after."""

    between = " … "

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"{MARK_START}{get_text(text, token, replace)}{MARK_END}"


def example_document(app: Application, ex: InnovationExample) -> dict[str, Any]:
    """The Whoosh document for one innovation example."""
    m = app.municipality
    keys = {normalize_name(n) for n in m.all_names} | {m.number, *m.today_numbers}
    counties = {c for c in (m.county, m.today_county) if c}
    return {
        "id": ex.id,
        "kind": "example",
        "application_id": app.id,
        "file": app.file,
        "sha256": app.sha256,
        "title": ex.title,
        "body": ex.text,
        "context": app.why_us,
        "municipality": " ".join(m.all_names),
        "applicant": m.written or m.name,
        "municipality_key": ",".join(sorted(k for k in keys if k)),
        "county": ",".join(sorted(counties)),
        "year": app.year or 0,
        "status": app.status,
        "language": app.language,
        "sector": ",".join(ex.labels("sector")),
        "criterion": ",".join(ex.labels("criterion")),
        "payload": json.dumps(to_dict(ex), ensure_ascii=False),
    }


def application_document(app: Application) -> dict[str, Any]:
    """The bookkeeping document: which file, which hash, and the whole record for `show`."""
    bare = to_dict(app)
    bare["examples"] = [ex.id for ex in app.examples]
    return {
        "id": app.id,
        "kind": "application",
        "application_id": app.id,
        "file": app.file,
        "sha256": app.sha256,
        "year": app.year or 0,
        "status": app.status,
        "illustrative": "ja" if app.illustrative else "nei",
        "payload": json.dumps(bare, ensure_ascii=False),
    }


class WriteBatch:
    """Adds and removes applications; nothing is visible until the batch commits as a whole."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self.added = 0
        self.removed = 0

    def add(self, app: Application) -> None:
        self.remove(app.id)
        self._writer.add_document(**application_document(app))
        for ex in app.examples:
            self._writer.add_document(**example_document(app, ex))
        self.added += 1

    def remove(self, application_id: str) -> None:
        self.removed += self._writer.delete_by_term("application_id", application_id)


class SearchIndex:
    """One generation of the index, opened for reading (and for write batches)."""

    def __init__(self, path: Path, ix: Any) -> None:
        self.path = path
        self._ix = ix

    # -- opening --------------------------------------------------------------------------------

    @staticmethod
    def current_generation(root: Path) -> Path | None:
        pointer = root / "CURRENT"
        if not pointer.exists():
            return None
        gen = root / pointer.read_text(encoding="utf-8").strip()
        return gen if gen.is_dir() else None

    @classmethod
    def open(cls, root: Path) -> "SearchIndex":
        """Open the current generation, refusing an index from another schema version."""
        gen = cls.current_generation(root)
        if gen is None or not whoosh_index.exists_in(str(gen)):
            raise IndexMissingError(
                f"Fant ingen søkeindeks i {root}. Bygg den først med: innosok ingest corpus/")
        meta = json.loads((gen / META_NAME).read_text(encoding="utf-8")) if (gen / META_NAME).exists() else {}
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise IndexOutdatedError(
                f"Søkeindeksen i {root} er laget av en eldre versjon. Bygg den på nytt med: innosok ingest --rebuild")
        return cls(gen, whoosh_index.open_dir(str(gen)))

    @classmethod
    def create_generation(cls, root: Path) -> "SearchIndex":
        """A new, empty generation beside the current one (not yet active)."""
        root.mkdir(parents=True, exist_ok=True)
        existing = [int(p.name.split("-")[1]) for p in root.glob("gen-*") if p.name.split("-")[1].isdigit()]
        gen = root / f"gen-{max(existing, default=0) + 1}"
        gen.mkdir()
        ix = whoosh_index.create_in(str(gen), build_schema())
        (gen / META_NAME).write_text(json.dumps({"schema_version": SCHEMA_VERSION}), encoding="utf-8")
        return cls(gen, ix)

    def activate(self, root: Path) -> None:
        """Make this generation the current one atomically, then delete older generations."""
        tmp = root / "CURRENT.tmp"
        tmp.write_text(self.path.name, encoding="utf-8")
        os.replace(tmp, root / "CURRENT")
        for old in root.glob("gen-*"):
            if old != self.path:
                shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        """Delete an inactive generation (a rebuild that failed)."""
        self._ix.close()
        shutil.rmtree(self.path, ignore_errors=True)

    # -- writing --------------------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[WriteBatch]:
        """Commit if the block succeeds, cancel if it raises: the previous state stays readable."""
        writer = self._ix.writer(timeout=30.0)
        batch = WriteBatch(writer)
        try:
            yield batch
        except BaseException:
            writer.cancel()
            raise
        writer.commit(optimize=False)

    # -- reading --------------------------------------------------------------------------------

    def catalog(self) -> dict[str, tuple[str, str]]:
        """file → (sha256, application id) for every indexed application."""
        out: dict[str, tuple[str, str]] = {}
        with self._ix.searcher() as s:
            for fields in s.documents(kind="application"):
                out[fields["file"]] = (fields["sha256"], fields["application_id"])
        return out

    def illustrative_count(self) -> int:
        """How many applications are samples written for the project (the bundled corpus)."""
        with self._ix.searcher() as s:
            return sum(1 for _ in s.document_numbers(illustrative="ja"))

    def doc_count(self, kind: str = "example") -> int:
        with self._ix.searcher() as s:
            return sum(1 for _ in s.document_numbers(kind=kind))

    def application(self, application_id: str) -> dict[str, Any]:
        with self._ix.searcher() as s:
            fields = s.document(id=application_id, kind="application")
        if fields is None:
            raise RecordNotFoundError(f"Fant ingen søknad med id {application_id}.")
        return json.loads(fields["payload"])

    def example(self, example_id: str) -> tuple[InnovationExample, Application]:
        """One example and its application, as records."""
        with self._ix.searcher() as s:
            fields = s.document(id=example_id, kind="example")
        if fields is None:
            raise RecordNotFoundError(f"Fant ikke innovasjonseksempelet «{example_id}».")
        ex = from_dict(InnovationExample, json.loads(fields["payload"]))
        app_data = self.application(fields["application_id"])
        siblings = []
        for sid in app_data["examples"]:
            if sid == example_id:
                siblings.append(ex)
            else:
                with self._ix.searcher() as s:
                    other = s.document(id=sid, kind="example")
                if other is not None:
                    siblings.append(from_dict(InnovationExample, json.loads(other["payload"])))
        app_data["examples"] = [to_dict(x) for x in siblings]
        return ex, from_dict(Application, app_data)

    def all_examples(self) -> list[dict[str, Any]]:
        """Stored fields of every example (for overviews and exports)."""
        with self._ix.searcher() as s:
            return [dict(f) for f in s.documents(kind="example")]

    def vocabulary(self, fieldname: str = "body") -> list[str]:
        with self._ix.searcher() as s:
            return [t.decode("utf-8") if isinstance(t, bytes) else t for t in s.lexicon(fieldname)]

    def search(self, text: str, filters: Filters = Filters(), limit: int = 10, offset: int = 0) -> SearchResult:
        """Free text (quoted phrases allowed) over examples, BM25F with field boosts; never a syntax error."""
        q = self.parse_query(text)
        flt = self._filter(filters)
        with self._ix.searcher(weighting=BM25F()) as s:
            if q is None:
                results = s.search(flt, limit=offset + limit, sortedby="year", reverse=True)
            else:
                results = s.search(q, filter=flt, limit=offset + limit, terms=True)
            results.fragmenter = ContextFragmenter(maxchars=260, surround=70)
            results.formatter = _MarkFormatter()
            hits = []
            for hit in results[offset: offset + limit]:
                snippet = hit.highlights("body", top=2) if q is not None else ""
                if not snippet:
                    snippet = hit["body"][:240] + ("…" if len(hit["body"]) > 240 else "")
                matched = tuple(
                    (f, t.decode("utf-8") if isinstance(t, bytes) else str(t))
                    for f, t in (hit.matched_terms() if q is not None else [])
                )
                hits.append(Hit(
                    example_id=hit["id"], application_id=hit["application_id"], title=hit["title"],
                    municipality=hit["applicant"], year=hit.get("year") or None, status=hit["status"],
                    sectors=tuple(x for x in hit.get("sector", "").split(",") if x), score=float(hit.score or 0.0),
                    snippet=snippet, matched=matched,
                ))
            return SearchResult(hits=tuple(hits), total=len(results))

    def parse_query(self, text: str) -> Q.Query | None:
        """Phrases in quotes become phrase queries; every other word an OR over the text fields."""
        phrases = []
        rest = text
        for part in _quoted(text):
            phrases.append(part)
            rest = rest.replace(f'"{part}"', " ")
        analyzer = _TEXT_ANALYZER
        clauses: list[Q.Query] = []
        for phrase in phrases:
            terms = [t.text for t in analyzer(phrase)]
            if len(terms) > 1:
                clauses.append(Q.Or([Q.Phrase("body", terms), Q.Phrase("title", terms)], boost=2.0))
            elif terms:
                clauses.append(self._word_query(terms[0], phrase))
        for word in words(rest.replace('"', " ")):
            stems = [t.text for t in analyzer(word)]
            if stems:
                clauses.append(self._word_query(stems[0], word))
        if not clauses:
            return None
        return Q.Or(clauses, scale=0.9) if len(clauses) > 1 else clauses[0]

    @staticmethod
    def _word_query(stem: str, word: str) -> Q.Query:
        names = [t.text for t in _NAME_ANALYZER(word)]
        parts: list[Q.Query] = [Q.Term(f, stem) for f in ("title", "body", "context")]
        parts += [Q.Term("municipality", n) for n in names]
        return Q.Or(parts)

    @staticmethod
    def _filter(f: Filters) -> Q.Query:
        clauses: list[Q.Query] = [Q.Term("kind", "example")]
        for name, values in (("sector", f.sectors), ("criterion", f.criteria), ("status", f.statuses),
                             ("county", tuple(v.lower() for v in f.counties)),
                             ("municipality_key", f.municipality_keys)):
            if values:
                clauses.append(Q.Or([Q.Term(name, v) for v in values]))
        if f.years:
            clauses.append(Q.Or([Q.NumericRange("year", y, y) for y in f.years]))
        return Q.And(clauses)

    def close(self) -> None:
        self._ix.close()


def _quoted(text: str) -> list[str]:
    parts = text.split('"')
    return [p for i, p in enumerate(parts) if i % 2 == 1 and i < len(parts) - 1 and p.strip()]
