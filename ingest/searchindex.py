"""The project's index: the only module that talks to Whoosh.

Layout on disk: `<root>/CURRENT` names the generation in use (`gen-<n>`); each generation is a Whoosh
index plus `innosok.json` (schema version). Incremental writes go into the current generation and
commit only when the whole batch succeeded; a rebuild writes a new generation and switches CURRENT
atomically, so the last good index stays readable whatever happens to a run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from array import array
from collections import Counter, OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from itertools import chain, islice
from typing import Any, Iterable, Iterator

from whoosh import collectors
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh import sorting
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.scoring import BM25F

from ingest.analysis import (
    Synonym, WordTerms, analyze_word, best_snippets, load_thesaurus, mark, name_analyzer, norwegian_analyzer,
    words,
)
from ingest.errors import IndexMissingError, IndexOutdatedError, InnosokError, RecordNotFoundError
from ingest.records import Application, InnovationExample, from_dict, to_dict
from ingest.register import normalize_name

SCHEMA_VERSION = 2  # 2: county_today, size_band, centrality, population, municipality_today, recommended, phase
META_NAME = "innosok.json"
MARK_START, MARK_END = "\x02", "\x03"  # highlight markers; adapters turn them into <mark> or «»

TEXT_FIELDS = ("title", "body", "context", "municipality")
SUMMARY_BOOST = 0.5  # the "describe the innovation" answer counts again, on top of the body
SUMMARY_QUESTIONS = ("beskrivelse", "sammendrag")
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
        summary=TEXT(analyzer=text, field_boost=SUMMARY_BOOST),  # the description answer: a section boost
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
        phase=KEYWORD(commas=True, stored=True),  # behov | utvikling | i_bruk (ingest/tagging.py)
        county_today=ID(stored=True),  # one value per example: the facet the app counts on
        size_band=ID(stored=True),  # SIZE_BANDS id from the register's population
        centrality=ID(stored=True),  # SSB sentralitet 1–6 of today's municipality, "" if unknown
        population=STORED(),
        municipality_today=STORED(),
        recommended=ID(stored=True),  # "ja" when a curator marked it "anbefalt eksempel"
        payload=STORED(),
    )


# Population bands for "kommuner som min" (KOSTRA-like cut-offs): id, lowest population, Norwegian name.
SIZE_BANDS: tuple[tuple[str, int, str], ...] = (
    ("under-5000", 0, "under 5 000 innbyggere"),
    ("5000-19999", 5000, "5 000–19 999 innbyggere"),
    ("20000-49999", 20000, "20 000–49 999 innbyggere"),
    ("50000-", 50000, "50 000 innbyggere eller flere"),
)
FACET_FIELDS = ("year", "sector", "criterion", "county_today", "status", "size_band", "centrality")
_FACET_FILTER = {"year": "years", "sector": "sectors", "criterion": "criteria", "county_today": "counties",
                 "status": "statuses", "size_band": "size_bands", "centrality": "centralities"}


def _facet(name: str) -> Any:
    """A Whoosh facet counting one field (a tag field holds several values per example)."""
    return sorting.FieldFacet(name, allow_overlap=name in ("sector", "criterion"))


def _counts(groups: dict[Any, int]) -> dict[str, int]:
    return {str(k): v for k, v in groups.items() if k not in ("", None, 0)}


def size_band(population: int | None) -> str:
    """The SIZE_BANDS id for a population ("" when the register has no figure, e.g. a county municipality)."""
    if population is None:
        return ""
    return [band for band, low, _ in SIZE_BANDS if population >= low][-1]


@dataclass(frozen=True)
class Filters:
    """Field filters; municipality numbers come already resolved (then and today) by the caller."""

    sectors: tuple[str, ...] = ()
    criteria: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    counties: tuple[str, ...] = ()
    municipality_keys: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    size_bands: tuple[str, ...] = ()
    centralities: tuple[str, ...] = ()
    recommended: bool = False  # only examples curators recommend


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
    title_marked: str = ""  # the title with MARK_START/MARK_END, "" when no words were searched
    criteria: tuple[str, ...] = ()
    county: str = ""  # today's county
    municipality_today: str = ""
    size_band: str = ""
    centrality: str = ""
    recommended: bool = False  # "anbefalt eksempel" (curators)
    reasons: tuple[str, ...] = ()  # why it matched, in Norwegian ("«natt» inne i nattilsyn" …)


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[Hit, ...]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestion: str = ""  # "mente du …": the query with words from the index's vocabulary, when it found little


def summary_text(ex: InnovationExample) -> str:
    """The example's own description (the form's "beskrivelse"/"sammendrag" answer, else its first passage):
    words there say what the innovation *is*, words in later answers often only mention things."""
    found = [s.text for s in ex.sections if s.question in SUMMARY_QUESTIONS]
    if found:
        return "\n\n".join(found)
    return ex.passages[0].text if ex.passages else ""


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
        "summary": summary_text(ex),
        "municipality": " ".join(m.all_names),
        "applicant": m.written or m.name,
        "municipality_key": ",".join(sorted(k for k in keys if k)),
        "county": ",".join(sorted(counties)),
        "year": app.year or 0,
        "status": app.status,
        "language": app.language,
        "sector": ",".join(ex.labels("sector")),
        "criterion": ",".join(ex.labels("criterion")),
        "phase": ",".join(ex.labels("phase")),
        "county_today": m.today_county or m.county,
        "size_band": size_band(m.population),
        "centrality": str(m.centrality or ""),
        "population": m.population,
        "municipality_today": ", ".join(m.today_names),
        "recommended": "ja" if ex.recommended else "nei",
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
        self._generation: _Generation | None = None  # what searches computed about the committed index
        self._idle: list[Any] = []  # searchers to reuse (see _searcher)
        self._lock = threading.Lock()

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

    def examples(self, ids: set[str] | None = None) -> list[InnovationExample]:
        """Example records (all, or those with the given ids), for curation and its sync."""
        with self._ix.searcher() as s:
            return [from_dict(InnovationExample, json.loads(f["payload"])) for f in s.documents(kind="example")
                    if ids is None or f["id"] in ids]

    def update_examples(self, examples: list[InnovationExample], timeout: float = 5.0) -> None:
        """Rewrite the documents of already indexed examples (curated tags, "anbefalt") in one commit.

        The application stays as indexed; IndexBusyError when another write (an ingest) holds the index.
        """
        apps: dict[str, Application] = {}
        with self._ix.searcher() as s:
            for ex in examples:
                if s.document(id=ex.id, kind="example") is None:
                    raise RecordNotFoundError(f"Fant ikke innovasjonseksempelet «{ex.id}».")
        for ex in examples:
            if ex.application_id not in apps:
                data = self.application(ex.application_id)
                apps[ex.application_id] = from_dict(Application, {**data, "examples": []})
        try:
            writer = self._ix.writer(timeout=timeout)
        except whoosh_index.LockError as exc:
            raise IndexBusyError(
                "Søkeindeksen oppdateres akkurat nå (en innlesing pågår). Endringen er lagret og kommer med "
                "i søket når innlesingen er ferdig.") from exc
        try:
            for ex in examples:
                writer.update_document(**example_document(apps[ex.application_id], ex))
        except BaseException:
            writer.cancel()
            raise
        writer.commit(optimize=False)

    def all_examples(self) -> list[dict[str, Any]]:
        """Stored fields of every example (for overviews and exports)."""
        with self._ix.searcher() as s:
            return [dict(f) for f in s.documents(kind="example")]

    def vocabulary(self, fieldname: str = "body") -> list[str]:
        with self._ix.searcher() as s:
            return [t.decode("utf-8") if isinstance(t, bytes) else t for t in s.lexicon(fieldname)]

    def search(
        self, text: str, filters: Filters = Filters(), limit: int = 10, offset: int = 0, *,
        sort: str = "relevance", prefer: Filters | None = None, facets: bool = False,
    ) -> SearchResult:
        """Free text (quoted phrases allowed) over examples, BM25F with field boosts; never a syntax error.

        `sort` is "relevance" or "year" (newest first); `prefer` lifts examples that match its fields
        (each matching field multiplies the score by 1 + PREFER_WEIGHT) without excluding the rest;
        `facets` adds counts per filter value, each field counted as if its own filter were not set.

        Results are those of one unlimited Whoosh search (`limit=None`: every match scored, ordered by score
        then document number; see _ScoreAll for why no top-N shortcut). The run of a query (its matches and
        scores) is kept per index generation (_Generation), so paging, sorting, other filters and the facet
        counts of a query already run are set operations on document numbers.
        """
        plan = plan_query(text)
        q = plan.query
        clauses = self._filter_clauses(filters)
        weighting = _RecommendedBoost()
        with self._searcher(weighting) as s:
            gen = self._generation_of(s)
            weighting.boosted = gen.boosted
            allowed = gen.docs_all(s, clauses.values())
            filter_key = tuple(clauses.values())
            run = gen.scored(s, q if q is not None else Q.And(list(filter_key)), filter_key, allowed)
            if run.filter_key == filter_key:  # scored exactly the allowed matches
                total, positions = len(run.order), range(len(run.order))
            else:  # a run over every example: keep the allowed ones
                total = len(allowed.intersection(run.matched))
                positions = (i for i, doc in enumerate(run.order) if doc in allowed)  # type: ignore[assignment]
            if prefer is not None or sort == "year" or q is None:  # a stable sort of the score order
                ranked = sorted(positions, key=self._order_key(s, gen, run, q is None, sort, prefer))
                page: Iterable[int] = ranked[offset: offset + limit]
            else:
                page = islice(positions, offset, offset + limit)
            hits = []
            for pos in page:
                hit = _StoredHit(s.stored_fields(run.order[pos]), run.scores[pos])
                score = 0.0 if q is None else float(hit.score or 0.0)
                if prefer is not None and sort == "relevance":
                    score = _preferred(hit, prefer, q is None)
                hits.append(_make_hit(hit, plan, score))
            counts = self._facets(s, gen, run.matched if q is not None else None, filters, clauses) if facets else {}
        suggestion = self.suggest(text) if q is not None else ""  # only words no example has are replaced
        return SearchResult(hits=tuple(hits), total=total, facets=counts, suggestion=suggestion)

    @contextmanager
    def _searcher(self, weighting: Any = None) -> Iterator[Any]:
        """A searcher on the latest commit, scoring with `weighting` (BM25F when None), reused across calls.

        Opening one costs more than a small search: Whoosh copies every segment file it reads into memory
        (about the index's size per searcher, so at most IDLE_SEARCHERS are kept). A searcher serves one
        caller at a time (Whoosh's are not thread-safe), so setting its weighting for this use is safe:
        the collectors and the search context read it from the searcher."""
        latest = self._ix.latest_generation()
        s = None
        with self._lock:
            while self._idle and s is None:
                s = self._idle.pop()
                if s.reader().generation() != latest:
                    s.close()
                    s = None
        if s is None:
            s = self._ix.searcher()
        s.weighting = weighting if weighting is not None else BM25F()
        try:
            yield s
        finally:
            with self._lock:
                self._idle.append(s)
                while len(self._idle) > IDLE_SEARCHERS:
                    self._idle.pop(0).close()

    @staticmethod
    def _order_key(s: Any, gen: "_Generation", run: "_Scored", constant: bool, sort: str,
                   prefer: Filters | None) -> Any:
        """The sort key, for a position in run.order, of the old `sorted(results, key=order)` over Whoosh hits,
        from cached field values (a stable sort of score-ordered positions, so ties keep the score order).
        Lift and score as _preferred computes them from a hit."""
        years, docs, scores = gen.keys(s, "year"), run.order, run.scores

        def score(pos: int) -> float:
            return 0.0 if constant else float(scores[pos] or 0.0)

        if sort == "year":
            return lambda pos: (-float(years[docs[pos]] or 0), -score(pos))
        if prefer is None or sort != "relevance":
            return lambda pos: (-0.0, -score(pos), -float(years[docs[pos]] or 0))
        bands, centralities, counties = gen.keys(s, "size_band"), gen.keys(s, "centrality"), gen.keys(s, "county_today")
        wanted = {c.lower() for c in prefer.counties}

        def key(pos: int) -> tuple[float, ...]:
            doc = docs[pos]
            shared = sum(((bands[doc] or "") in prefer.size_bands, (centralities[doc] or "") in prefer.centralities,
                          (counties[doc] or "").lower() in wanted))
            lift = float(shared) if constant else score(pos) * (1 + PREFER_WEIGHT * shared)
            return (-lift, -score(pos), -float(years[doc] or 0))

        return key

    def clear_query_cache(self) -> None:
        """Forget the cached query runs (the benchmark times every search as a new query)."""
        with self._lock:
            if self._generation is not None:
                self._generation.clear_runs()

    def _generation_of(self, s: Any) -> "_Generation":
        """The cached facts about the generation `s` reads (a commit starts a new generation); a searcher
        still on an older generation gets its own, so it cannot evict the newer one."""
        current = s.reader().generation()
        with self._lock:
            gen = self._generation
            if gen is None or gen.generation != current:
                gen = _Generation(s, self._lock)
                if self._generation is None or (current or 0) > (self._generation.generation or 0):
                    self._generation = gen
            return gen

    def _facets(self, s: Any, gen: "_Generation", matched: Iterable[int] | None, filters: Filters,
                clauses: dict[str, Q.Query]) -> dict[str, dict[str, int]]:
        """Counts per value of every FACET_FIELDS field; a field's own filter is left out when counting it.

        Counted from sets of document numbers: the query's matches (`matched`, None when nothing was
        searched) intersected with the documents of every other filter clause, all cached per generation.
        """
        out = {}
        counted: dict[str | None, list[int]] = {}  # own filter left out -> the documents, in order
        for name in FACET_FIELDS:
            own = _FACET_FILTER[name] if getattr(filters, _FACET_FILTER[name]) else None
            if own not in counted:
                docs = gen.docs_all(s, [c for attr, c in clauses.items() if attr != own])
                counted[own] = sorted(docs if matched is None else docs.intersection(matched))
            out[name] = gen.count(s, name, counted[own])
        return out

    def parse_query(self, text: str) -> Q.Query | None:
        """The Whoosh query for a user's text (None when it has no searchable words); see plan_query."""
        return plan_query(text).query

    def plan_query(self, text: str) -> "QueryPlan":
        return plan_query(text)

    def similar(self, example_id: str, limit: int = 5) -> SearchResult:
        """Examples most like this one ("lignende innovasjoner"), from other applications.

        More-like-this over the example's title and text (its most informative terms, Bo1-weighted
        against the whole index) plus its sector tags.
        """
        with self._searcher() as s:
            docnum = s.document_number(id=example_id, kind="example")
            if docnum is None:
                raise RecordNotFoundError(f"Fant ikke innovasjonseksempelet «{example_id}».")
            fields = s.stored_fields(docnum)
            terms = s.key_terms_from_text("body", f"{fields['title']}\n{fields['body']}", numterms=MLT_TERMS)
            tags = [x for x in fields.get("sector", "").split(",") if x]
            q = _key_terms_query(terms, tags)
            if q is None:
                return SearchResult(hits=(), total=0)
            gen = self._generation_of(s)
            results = s.search(q, filter=set(gen.docs(s, Q.Term("kind", "example"))), limit=limit,
                               mask=set(gen.docs(s, Q.Term("application_id", fields["application_id"]))))
            plan = QueryPlan(q, weights={t: 1.0 for t, _ in terms}, sectors=tuple(tags))
            hits = tuple(_make_hit(h, plan, float(h.score or 0.0)) for h in results)
            return SearchResult(hits=hits, total=len(results))

    def by_description(self, text: str, filters: Filters = Filters(), limit: int = 10) -> SearchResult:
        """Examples closest to a pasted description of one's own problem.

        The description's words searched as usual, plus its most informative terms (Bo1 against the
        whole index) once more with their weights, so the words that set the problem apart lead.
        """
        plan = plan_query(text)
        if plan.query is None:
            return SearchResult(hits=(), total=0)
        with self._searcher() as s:
            terms = s.key_terms_from_text("body", " ".join(t.word for t in plan.words), numterms=DESCRIPTION_TERMS)
            key = _key_terms_query(terms, [])
            q = Q.Or([plan.query, key]) if key is not None else plan.query
            gen = self._generation_of(s)
            results = s.search(q, filter=set(gen.docs_all(s, self._filter_clauses(filters).values())), limit=limit)
            plan = replace(plan, query=q)
            hits = tuple(_make_hit(h, plan, float(h.score or 0.0)) for h in results)
            return SearchResult(hits=hits, total=len(results))

    def suggest(self, text: str) -> str:
        """"Mente du": the text with each word no example has replaced by the closest word the index has
        (within two edits of its term, then the most common), written as the examples write it;
        "" when there is nothing to correct."""
        out: list[str] = []
        changed = False
        with self._searcher() as s:
            for token in _TOKEN_OR_GAP.findall(text):
                t = analyze_word(token) if token.isalpha() and len(token) >= 4 else None
                if t is None or s.doc_frequency("body", t.whole) or s.doc_frequency("title", t.whole):
                    out.append(token)
                    continue
                best = _closest(s, t.whole, token.lower())
                if best is None:
                    out.append(token)
                else:
                    out.append(best.capitalize() if token[:1].isupper() else best)
                    changed = True
        return "".join(out).strip() if changed else ""

    @staticmethod
    def _filter(f: Filters) -> Q.Query:
        return Q.And(list(SearchIndex._filter_clauses(f).values()))

    @staticmethod
    def _filter_clauses(f: Filters) -> dict[str, Q.Query]:
        """One query per filter in use, keyed by its Filters attribute ("kind" always: examples only)."""
        clauses: dict[str, Q.Query] = {"kind": Q.Term("kind", "example")}
        for attr, name, values in (("sectors", "sector", f.sectors), ("criteria", "criterion", f.criteria),
                                   ("statuses", "status", f.statuses),
                                   ("counties", "county", tuple(v.lower() for v in f.counties)),
                                   ("municipality_keys", "municipality_key", f.municipality_keys),
                                   ("size_bands", "size_band", f.size_bands),
                                   ("centralities", "centrality", f.centralities)):
            if values:
                clauses[attr] = Q.Or([Q.Term(name, v) for v in values])
        if f.years:
            clauses["years"] = Q.Or([Q.NumericRange("year", y, y) for y in f.years])
        if f.recommended:
            clauses["recommended"] = Q.Term("recommended", "ja")
        return clauses

    def close(self) -> None:
        with self._lock:
            for s in self._idle:
                s.close()
            self._idle = []
        self._ix.close()


PREFER_WEIGHT = 0.25
RECOMMENDED_BOOST = 1.3  # score factor for examples curators recommend: lifts them among relevant hits, no more


class IndexBusyError(InnosokError):
    """Another writer (an ingest) holds the index; the caller's change is applied later by the ingest."""


class _RecommendedBoost(BM25F):
    """BM25F whose final score is multiplied by RECOMMENDED_BOOST for recommended examples.

    `boosted` holds the searcher's document numbers of recommended examples, set once per search.
    """

    use_final = True

    def __init__(self) -> None:
        super().__init__()
        self.boosted: frozenset[int] = frozenset()

    def final(self, searcher: Any, docnum: int, score: float) -> float:
        return score * RECOMMENDED_BOOST if docnum in self.boosted else score


QUERY_CACHE_SIZE = 16  # queries whose scores a generation keeps: paging, filter clicks and sorting reuse them
DOCSET_CACHE_SIZE = 256  # filter clauses whose documents a generation keeps
IDLE_SEARCHERS = 1  # open searchers kept for reuse; concurrent searches open (and close) more


class _StoredHit(dict):  # type: ignore[type-arg]
    """A document's stored fields plus its score: what _make_hit and _preferred read from a Whoosh Hit."""

    def __init__(self, fields: dict[str, Any], score: float) -> None:
        super().__init__(fields)
        self.score = score


@dataclass(frozen=True)
class _Scored:
    """One query run: what it matches and its scores, in the order of Whoosh's unlimited search.

    Arrays, not sets and dicts: a wide query matches most of the index (under 1 MB per run at 50k examples).
    """

    matched: array  # type: ignore[type-arg]  # every document the query matches, whatever the filters
    order: array  # type: ignore[type-arg]  # the scored documents (the filter's) by (-score, document number)
    scores: array  # type: ignore[type-arg]  # their scores after the recommended boost, aligned with `order`
    filter_key: tuple[Q.Query, ...]  # the filter clauses of the scored documents


class _ScoreAll(collectors.ScoredCollector):
    """Scores like `searcher.search(q, filter=allowed, limit=None)` and also records every match.

    Same matchers and the same matcher replace() schedule (every 10 matches, never with a minimum score) as
    Whoosh's UnlimitedCollector, so the scores are bit-identical. The schedule matters: Or's coordination
    bonus (`scale`) counts the query terms still active in the matcher tree, so a top-N collector, which
    prunes and replaces by minimum score, gives other scores and other top tens (29 of the 79 eval questions
    on the sample archive with `limit=10`) and only estimates the total. It was not faster on these wide
    queries either, so every match is scored; what is saved is doing it more than once per query and commit.
    """

    def __init__(self, allowed: frozenset[int]) -> None:
        super().__init__()  # replace=10, as UnlimitedCollector
        self.allowed = allowed
        self.matched: list[int] = []

    def _collect(self, global_docnum: int, score: float) -> float:
        self.items.append((score, global_docnum))
        return 0 - score

    def collect_matches(self) -> None:
        allowed, matched, offset = self.allowed, self.matched, self.offset
        for sub_docnum in self.matches():
            docnum = offset + sub_docnum
            matched.append(docnum)
            if docnum in allowed:
                self.collect(sub_docnum)

    def results(self) -> Any:  # the caller reads `items` and `matched`
        raise NotImplementedError


class _Generation:
    """What searches learn about one committed generation of the index, kept until the next commit.

    Document numbers are fixed within a generation, so query scores (LRU of QUERY_CACHE_SIZE), the
    documents of filter clauses and the facet keys of every document can be reused by every later search.
    """

    def __init__(self, s: Any, lock: threading.Lock) -> None:
        self.generation = s.reader().generation()
        self.boosted = frozenset(s.document_numbers(recommended="ja"))
        self._lock = lock
        self._runs: OrderedDict[Any, _Scored] = OrderedDict()
        self._docsets: OrderedDict[Q.Query, frozenset[int]] = OrderedDict()
        self._keys: dict[str, list[Any]] = {}  # facet field -> per document: its key (list of keys if overlapping)

    def _cached(self, cache: OrderedDict[Any, Any], key: Any, limit: int, make: Any) -> Any:
        with self._lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        value = make()
        with self._lock:
            cache[key] = value
            while len(cache) > limit:
                cache.popitem(last=False)
        return value

    def clear_runs(self) -> None:  # the caller holds the lock
        self._runs.clear()

    def docs(self, s: Any, clause: Q.Query) -> frozenset[int]:
        """The documents of a filter clause. Pass them to Whoosh's `filter`/`mask` as a `set`: given a query
        there, Whoosh tests a bit set's truth (a scan of every bit) once per match, when counting the total."""
        return self._cached(self._docsets, clause, DOCSET_CACHE_SIZE, lambda: frozenset(s.docs_for_query(clause)))

    def docs_all(self, s: Any, clauses: Iterable[Q.Query]) -> frozenset[int]:
        """Documents matching every clause (what Q.And of them matches)."""
        sets = sorted((self.docs(s, c) for c in clauses), key=len)
        return sets[0].intersection(*sets[1:]) if sets else frozenset()

    def scored(self, s: Any, q: Q.Query, filter_key: tuple[Q.Query, ...], allowed: frozenset[int]) -> _Scored:
        """`q` run over `allowed`, the documents of the filter clauses `filter_key` (or a run of `q` over all
        examples, whose scores are the same: filtering happens after scoring)."""
        with self._lock:
            for key in ((q, filter_key), (q, filter_key[:1])):  # the first clause is kind:example alone
                if key in self._runs:
                    self._runs.move_to_end(key)
                    return self._runs[key]

        def run() -> _Scored:
            c = _ScoreAll(allowed)
            s.search_with_collector(q, c)
            c.items.sort(key=lambda x: (0 - x[0], x[1]))  # UnlimitedCollector's order
            return _Scored(array("i", c.matched), array("i", (d for _, d in c.items)),
                           array("d", (sc for sc, _ in c.items)), filter_key)

        return self._cached(self._runs, (q, filter_key), QUERY_CACHE_SIZE, run)

    def keys(self, s: Any, name: str) -> list[Any]:
        """Every document's key in a facet field, from Whoosh's own categorizer (as `groupedby` counts)."""
        if name not in self._keys:
            cat = _facet(name).categorizer(s)
            keys: list[Any] = [None] * s.doc_count_all()
            for sub, offset in s.leaf_searchers():
                cat.set_searcher(sub, offset)
                for docnum in range(sub.doc_count_all()):
                    if cat.allow_overlap:
                        keys[offset + docnum] = [cat.key_to_name(k) for k in cat.keys_for(None, docnum)]
                    else:
                        keys[offset + docnum] = cat.key_to_name(cat.key_for(None, docnum))
            self._keys[name] = keys
        return self._keys[name]

    def count(self, s: Any, name: str, docs: list[int]) -> dict[str, int]:
        """What `groupedby` with sorting.Count gives for these documents (ascending document numbers, the
        order Whoosh collects in), keys in the same first-seen order."""
        keys = self.keys(s, name)
        found = map(keys.__getitem__, docs)
        return _counts(Counter(chain.from_iterable(found) if _facet(name).allow_overlap else found))



def _preferred(hit: Any, prefer: Filters, constant: bool) -> float:
    """The score lifted by how many `prefer` fields the hit shares (only the count when nothing was searched)."""
    shared = sum((
        hit.get("size_band", "") in prefer.size_bands,
        hit.get("centrality", "") in prefer.centralities,
        hit.get("county_today", "").lower() in {c.lower() for c in prefer.counties},
    ))
    return float(shared) if constant else float(hit.score or 0.0) * (1 + PREFER_WEIGHT * shared)


# --- the query side: analysis of the user's text, synonyms, snippets, reasons -----------------------------

PART_BOOST = 0.5  # a compound's parts (natt, tilsyn for nattilsyn) count half of the word typed
SYNONYM_BOOST = 0.4  # thesaurus members (e-helse for velferdsteknologi) count less than the words typed
PHRASE_BOOST = 2.0
COORDINATION = 0.9  # Or's coordination bonus: an example matching more of the query's words wins
SNIPPET_WEIGHTS = {"whole": 1.0, "part": 0.6, "synonym": 0.5}
MAX_SYNONYM_REASONS = 2
_MARKED = re.compile(f"{MARK_START}([^{MARK_END}]*){MARK_END}")
WORD_FIELDS = ("title", "body", "summary")  # not "context" (why us): it speaks of the applicant, not the example
PART_FIELDS = ("title", "body")


@dataclass(frozen=True)
class QueryPlan:
    """A user's text as a Whoosh query, plus what snippets and reasons need to explain the hits."""

    query: Q.Query | None
    words: tuple[WordTerms, ...] = ()  # every analyzed word typed (phrases included), in order
    synonyms: tuple[tuple[str, Synonym], ...] = ()  # (the words typed, the synonym searched too)
    weights: dict[str, float] = field(default_factory=dict)  # analyzed term -> weight for marking snippets
    sectors: tuple[str, ...] = ()  # "lignende innovasjoner": the source example's sectors


def plan_query(text: str) -> QueryPlan:
    """Quoted phrases become phrase queries; every other word searches its lemma, its compound parts
    (weighted PART_BOOST) and municipality names; thesaurus members are added at SYNONYM_BOOST.

    Nothing in the text is syntax, so no text can fail to parse.
    """
    phrases = _quoted(text)
    rest = text
    for phrase in phrases:
        rest = rest.replace(f'"{phrase}"', " ")
    sequences: list[list[tuple[str, WordTerms]]] = []
    clauses: list[Q.Query] = []
    for phrase in phrases:
        seq = [(w, t) for w, t in ((w, analyze_word(w)) for w in words(phrase)) if t is not None]
        if len(seq) > 1:
            wholes = [t.whole for _, t in seq]
            clauses.append(Q.Or([Q.Phrase("body", wholes), Q.Phrase("title", wholes)], boost=PHRASE_BOOST))
        elif seq:
            clauses.append(_word_query(seq[0][1], seq[0][0]))
        sequences.append(seq)
    seq = [(w, t) for w, t in ((w, analyze_word(w)) for w in words(rest.replace('"', " "))) if t is not None]
    clauses += [_word_query(t, w) for w, t in seq]
    sequences.append(seq)

    weights: dict[str, float] = {}
    synonyms: list[tuple[str, Synonym]] = []
    thesaurus = load_thesaurus()
    for seq in sequences:
        analyzed = [t for _, t in seq]
        for start, end, members in thesaurus.expansions(analyzed):
            typed = " ".join(w for w, _ in seq[start:end])
            clauses.append(Q.Or([_synonym_query(m) for m in members], boost=SYNONYM_BOOST))
            for m in members:
                synonyms.append((typed, m))
                for t in m.words:
                    weights.setdefault(t.whole, SNIPPET_WEIGHTS["synonym"])
    typed_words = tuple(t for seq in sequences for _, t in seq)
    for t in typed_words:
        for p in t.parts:
            weights[p] = max(weights.get(p, 0.0), SNIPPET_WEIGHTS["part"])
    for t in typed_words:
        weights[t.whole] = SNIPPET_WEIGHTS["whole"]
    if not clauses:
        return QueryPlan(None)
    query = Q.Or(clauses, scale=COORDINATION) if len(clauses) > 1 else clauses[0]
    return QueryPlan(query, typed_words, tuple(synonyms), weights)


def _word_query(t: WordTerms, raw: str) -> Q.Query:
    alternatives: list[Q.Query] = [Q.Term(f, t.whole) for f in WORD_FIELDS]
    if t.parts:
        alternatives.append(Q.Or([Q.Term(f, p) for p in t.parts for f in PART_FIELDS], boost=PART_BOOST))
    alternatives += [Q.Term("municipality", n.text) for n in _NAME_ANALYZER(raw)]
    return Q.Or(alternatives)


def _synonym_query(member: Synonym) -> Q.Query:
    wholes = [t.whole for t in member.words]
    if len(wholes) > 1:
        return Q.Or([Q.Phrase("body", wholes), Q.Phrase("title", wholes)])
    return Q.Or([Q.Term(f, wholes[0]) for f in PART_FIELDS])


def _make_hit(hit: Any, plan: QueryPlan, score: float) -> Hit:
    """One Whoosh hit as a Hit: snippet from the best passages, marked title, reasons."""
    searched = plan.query is not None
    matched = _matched(hit, plan) if searched else ()
    snippet = snippet_for(hit, plan)
    return Hit(
        example_id=hit["id"], application_id=hit["application_id"], title=hit["title"],
        municipality=hit["applicant"], year=hit.get("year") or None, status=hit["status"],
        sectors=tuple(x for x in hit.get("sector", "").split(",") if x), score=score,
        snippet=snippet, matched=matched,
        title_marked=mark(hit["title"], plan.weights, MARK_START, MARK_END) if searched else "",
        criteria=tuple(x for x in hit.get("criterion", "").split(",") if x),
        county=hit.get("county_today", ""), municipality_today=hit.get("municipality_today", ""),
        size_band=hit.get("size_band", ""), centrality=hit.get("centrality", ""),
        recommended=hit.get("recommended") == "ja",
        reasons=reasons_for(hit, plan, set(matched), snippet) if searched else (),
    )


def _matched(hit: Any, plan: QueryPlan) -> tuple[tuple[str, str], ...]:
    """(field, term) for every query term the hit's title and text contain, its municipality's names, and
    shared sectors: read from the stored text (asking Whoosh to record matched terms for every matching
    document costs far more than analyzing the ten shown)."""
    wanted = set(plan.weights)
    found = {("title", t) for t in wanted & _text_terms(hit["title"])}
    found |= {("body", t) for t in wanted & _text_terms(hit.get("body", ""))}
    names = {w.lower() for w in words(f"{hit.get('applicant', '')} {hit.get('municipality_today', '')}")}
    found |= {("municipality", t.word) for t in plan.words if t.word in names}
    found |= {("sector", x) for x in plan.sectors if x in hit.get("sector", "").split(",")}
    return tuple(sorted(found))


def _text_terms(text: str) -> set[str]:
    terms: set[str] = set()
    for word in set(words(text)):
        t = analyze_word(word)
        if t is not None:
            terms.update(t.terms)
    return terms


def _term_text(term: Any) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else str(term)


MLT_TERMS = 25  # key terms taken from an example for "lignende innovasjoner"
DESCRIPTION_TERMS = 30  # key terms taken from a pasted description
TAG_BOOST = 0.3  # weight of each shared sector tag in "lignende innovasjoner" (key terms weigh ≤ 1)
_TOKEN_OR_GAP = re.compile(r"\w+|\W+")


def _key_terms_query(terms: list[tuple[str, float]], sectors: list[str]) -> Q.Query | None:
    """An OR of weighted key terms over title and text, plus shared sector tags."""
    clauses: list[Q.Query] = [Q.Term(f, t, boost=w) for t, w in terms for f in PART_FIELDS]
    clauses += [Q.Term("sector", x, boost=TAG_BOOST) for x in sectors]
    return Q.Or(clauses) if clauses else None


def _closest(searcher: Any, term: str, typed: str) -> str | None:
    """The index term nearest to `term` (same first letter; fewest edits, then most examples), as the word
    form the examples use that is nearest to what was typed (bostedslose → bostedsløse, not bostedsløs)."""
    reader = searcher.reader()
    for maxdist in (1, 2):
        candidates = []
        for found in reader.terms_within("body", term, maxdist, prefix=1):
            found = _term_text(found)
            df = searcher.doc_frequency("body", found) if found != term else 0
            if df:
                candidates.append((_edit_distance(term, found), -df, found))
        if candidates:
            return _surface(searcher, min(candidates)[2], typed)
    return None


def _surface(searcher: Any, term: str, typed: str) -> str | None:
    """A written word that analyzes to `term`, from the first examples that have it."""
    forms: dict[str, int] = {}
    for hit in searcher.search(Q.Term("body", term), limit=3):
        for word in words(hit["body"]):
            t = analyze_word(word)
            if t is not None and t.whole == term:
                forms[word.lower()] = forms.get(word.lower(), 0) + 1
    if not forms:
        return None
    return min(forms, key=lambda f: (_edit_distance(typed, f), -forms[f], f))


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (short words only: suggestions are within two edits)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _passages(hit_fields: Any) -> list[str]:
    """The example's passages (paragraphs) for snippets; the body's paragraphs when it has none."""
    try:
        passages = [p["text"] for p in json.loads(hit_fields["payload"]).get("passages", []) if p.get("text")]
    except (KeyError, ValueError, TypeError):
        passages = []
    return passages or [p for p in hit_fields.get("body", "").split("\n\n") if p.strip()]


def snippet_for(hit_fields: Any, plan: QueryPlan) -> str:
    """The best one or two passages, with the matched words marked; the body's start when none match."""
    body = hit_fields.get("body", "")
    if plan.query is not None and plan.weights:
        found = best_snippets(_passages(hit_fields), plan.weights, MARK_START, MARK_END, top=2)
        if found:
            inner = " … ".join(s.text.strip("…") for s in found)
            return ("…" if found[0].text.startswith("…") else "") + inner + ("…" if found[-1].text.endswith("…") else "")
    return body[:240] + ("…" if len(body) > 240 else "")


def reasons_for(hit_fields: Any, plan: QueryPlan, matched: set[tuple[str, str]], snippet: str = "") -> tuple[str, ...]:
    """Why an example matched, in words a municipal employee reads (bokmål)."""
    out: list[str] = []
    if not plan.words:  # "lignende innovasjoner": the words it shares, and the sectors
        shared = list(dict.fromkeys(w.lower() for w in _MARKED.findall(snippet)))[:6]
        if shared:
            out.append("felles ord: " + ", ".join(shared))
        sectors = sorted(t for f, t in matched if f == "sector")
        if sectors:
            out.append("samme sektor: " + ", ".join(sectors))
        return tuple(out)
    in_field = {f: {t for g, t in matched if g == f} for f in ("title", "body", "municipality")}
    for t in dict.fromkeys(plan.words):
        where = [name for f, name in (("title", "tittelen"), ("body", "teksten")) if t.whole in in_field[f]]
        if where:
            out.append(f"«{t.word}» i {' og '.join(where)}")
        elif any(p in in_field["title"] | in_field["body"] for p in t.parts):
            parts = [p for p in t.parts if p in in_field["title"] | in_field["body"]]
            out.append(f"deler av «{t.word}» ({', '.join(parts)})")
        if t.word in in_field["municipality"]:
            applicant = hit_fields.get("applicant", "")
            today = hit_fields.get("municipality_today", "")
            out.append(f"kommunen: {applicant}" + (f" (i dag {today})" if today and today not in applicant else ""))
    typed_terms = {t.whole for t in plan.words}
    shown = 0
    for typed, syn in plan.synonyms:
        wholes = {w.whole for w in syn.words}
        if shown < MAX_SYNONYM_REASONS and not wholes <= typed_terms and wholes <= in_field["title"] | in_field["body"]:
            shown += 1
            typed_terms |= wholes
            out.append(f"synonym: «{syn.text}» for «{typed}»")
    return tuple(dict.fromkeys(out))


def _quoted(text: str) -> list[str]:
    parts = text.split('"')
    return [p for i, p in enumerate(parts) if i % 2 == 1 and i < len(parts) - 1 and p.strip()]


class PlainIndex:
    """The evaluation baseline: Whoosh's StandardAnalyzer, default BM25F, a plain OR parser over title+body.

    Built over the same example documents as the project's index, so a comparison measures the analysis
    and the query handling, nothing else.
    """

    def __init__(self, ix: Any) -> None:
        self._ix = ix

    @classmethod
    def build(cls, path: Path, docs: list[tuple[str, str, str]]) -> "PlainIndex":
        """`docs` are (example id, title, body); `path` is an empty folder that the caller cleans up."""
        from whoosh.analysis import StandardAnalyzer

        analyzer = StandardAnalyzer()
        schema = Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=analyzer),
                        body=TEXT(analyzer=analyzer))
        path.mkdir(parents=True, exist_ok=True)
        ix = whoosh_index.create_in(str(path), schema)
        with ix.writer() as w:
            for doc_id, title, body in docs:
                w.add_document(id=doc_id, title=title, body=body)
        return cls(ix)

    def search(self, text: str, limit: int = 20) -> list[str]:
        """Example ids, best first; an unparsable query finds nothing."""
        from whoosh.qparser import MultifieldParser, OrGroup

        parser = MultifieldParser(["title", "body"], self._ix.schema, group=OrGroup)
        try:
            q = parser.parse(text)
        except Exception:  # noqa: BLE001 - the baseline only has to be measured, never to be robust
            return []
        with self._ix.searcher() as s:
            return [hit["id"] for hit in s.search(q, limit=limit)]

    def close(self) -> None:
        self._ix.close()
