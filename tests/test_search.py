"""Search over the real index of the sample corpus: ranking basics, filters, merged municipalities, no crashes,
and rankings, totals and facet counts that stay those of one unlimited Whoosh search."""

from __future__ import annotations

import shutil
import tomllib
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.scoring import BM25F

from ingest.searchindex import (
    FACET_FIELDS, MARK_END, MARK_START, MLT_TERMS, PREFER_WEIGHT, RECOMMENDED_BOOST, Filters, SearchIndex,
    _key_terms_query, plan_query,
)
from search_app.api import Library

QUESTIONS = [q["text"] for q in tomllib.loads(
    (Path(__file__).resolve().parents[1] / "eval" / "questions.toml").read_text(encoding="utf-8"))["questions"]]


@pytest.fixture(scope="module")
def lib(corpus_index: tuple[Path, Any]) -> Library:
    return Library(corpus_index[0])


def titles(result: Any) -> list[str]:
    return [h.title for h in result.hits]


def test_examples_not_applications_are_returned(lib: Library) -> None:
    result = lib.search("matleveranse hjemmetjenesten")
    assert result.hits[0].title == "Smart matleveranse i hjemmetjenesten"
    assert result.hits[0].municipality == "Bærum kommune"
    assert MARK_START in result.hits[0].snippet and MARK_END in result.hits[0].snippet
    assert result.hits[0].matched


def test_phrase_search(lib: Library) -> None:
    result = lib.search('"russisk matematikk"')
    assert result.hits and result.hits[0].title == "Russisk matematikk"


@pytest.mark.parametrize("name", ["Nordre Follo", "Oppegård", "Ski"])
def test_merged_municipality_filter_finds_predecessors(lib: Library, name: str) -> None:
    result = lib.search("", municipality=name, limit=50)
    found = {h.municipality for h in result.hits}
    if name == "Nordre Follo":
        assert found == {"Oppegård kommune", "Ski kommune"}
    else:
        assert found == {f"{name} kommune"}


def test_today_name_in_free_text_finds_the_old_municipality(lib: Library) -> None:
    result = lib.search("Øygarden")
    assert result.hits and result.hits[0].municipality == "Fjell kommune"


def test_year_filter(lib: Library) -> None:
    result = lib.search("innbyggere", years=(2015,), limit=50)
    assert result.hits and {h.year for h in result.hits} == {2015}


def test_norwegian_letters_in_queries(lib: Library) -> None:
    assert lib.search("Træna").hits[0].municipality == "Træna kommune"
    assert lib.search("bostedsløse").total > 0


@pytest.mark.parametrize("query", [
    "velferd-teknologi", "helse, omsorg", '"ubalansert', "(bolig", "bolig)", "AND OR NOT", "title:skole",
    "*", "?", "~", "^2", "[2015 TO 2019]", "", "   ", "\\", "-", "ø-å", "100%",
])
def test_query_syntax_never_crashes(lib: Library, query: str) -> None:
    lib.search(query)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_text_is_a_valid_query(lib: Library, text: str) -> None:
    lib.search(text)


# -- the ranking, totals and facet counts stay those of one unlimited Whoosh search -----------------------


class _Boost(BM25F):
    """The recommended boost as a final() step, as the index had it when every match was collected."""

    use_final = True

    def __init__(self, docs: frozenset[int]) -> None:
        super().__init__()
        self.docs = docs

    def final(self, searcher: Any, docnum: int, score: float) -> float:
        return score * RECOMMENDED_BOOST if docnum in self.docs else score


def reference(root: Path, text: str) -> list[tuple[str, float, dict[str, Any]]]:
    """(id, score, stored fields) of every example `text` matches, as `searcher.search(q, filter, limit=None)`
    ranks them: the ranking search() must keep however it gets there."""
    ix = whoosh_index.open_dir(str(SearchIndex.current_generation(root)))
    try:
        with ix.searcher() as s:
            boosted = frozenset(s.document_numbers(recommended="ja"))
        with ix.searcher(weighting=_Boost(boosted)) as s:
            found = s.search(plan_query(text).query, filter=Q.Term("kind", "example"), limit=None)
            return [(h["id"], h.score, h.fields()) for h in found]
    finally:
        ix.close()


def ranked(result: Any) -> list[tuple[str, float]]:
    return [(h.example_id, h.score) for h in result.hits]


def test_ranking_scores_and_totals_are_those_of_an_unlimited_whoosh_search(
        lib: Library, corpus_index: tuple[Path, Any]) -> None:
    """A top-N Whoosh collector ranks these wide queries differently (its pruning changes Or's coordination
    bonus) and estimates the total: search() must still give exactly what scoring every match gives."""
    prefer = Filters(size_bands=("5000-19999",), centralities=("3", "4"))
    for text in QUESTIONS[::4]:
        ref = reference(corpus_index[0], text)
        assert ranked(lib.search(text, limit=20)) == [(i, sc) for i, sc, _ in ref[:20]], text
        page2 = lib.search(text, limit=20, offset=20)
        assert ranked(page2) == [(i, sc) for i, sc, _ in ref[20:40]] and page2.total == len(ref), text
        by_year = sorted(ref, key=lambda r: -float(r[2].get("year") or 0))  # stable: ties keep the score order
        assert [h.example_id for h in lib.search(text, sort="year", limit=15).hits] == [r[0] for r in by_year[:15]]

        def lifted(r: tuple[str, float, dict[str, Any]]) -> float:
            shared = (r[2]["size_band"] in prefer.size_bands) + (r[2]["centrality"] in prefer.centralities)
            return -(r[1] * (1 + PREFER_WEIGHT * shared))

        favoured = sorted(ref, key=lifted)
        assert [h.example_id for h in lib.search(text, prefer=prefer, limit=15).hits] == [r[0] for r in favoured[:15]]


def test_total_counts_every_match_and_pages_add_up(lib: Library) -> None:
    for text, filters in (("kommune tjenester", {}), ("innbyggere digital", {"sectors": ("helse",)})):
        everything = lib.search(text, limit=1000, **filters)
        assert everything.total == len(everything.hits) > 12  # more than one page matches
        assert lib.search(text, limit=3, **filters).total == everything.total
        paged = [h.example_id for offset in range(0, everything.total, 7)
                 for h in lib.search(text, limit=7, offset=offset, **filters).hits]
        assert paged == [h.example_id for h in everything.hits]


FACET_VALUES = {  # facet field -> (the Library.search filter on it, its values in a hit)
    "year": ("years", lambda h: [str(h.year)] if h.year else []),
    "sector": ("sectors", lambda h: list(h.sectors)),
    "criterion": ("criteria", lambda h: list(h.criteria)),
    "county_today": ("counties", lambda h: [h.county] if h.county else []),
    "status": ("statuses", lambda h: [h.status] if h.status else []),
    "size_band": ("size_bands", lambda h: [h.size_band] if h.size_band else []),
    "centrality": ("centralities", lambda h: [h.centrality] if h.centrality else []),
}


@pytest.mark.parametrize("text, filters", [
    ("innbyggere", {}),
    ("innbyggere tjenester", {"sectors": ("helse",), "years": (2017, 2018)}),
    ("", {"statuses": ("winner", "finalist"), "size_bands": ("under-5000", "5000-19999")}),
    ("skole", {"municipality": "Nordre Follo", "criteria": ("nyhet",)}),
])
def test_facet_counts_equal_counts_over_every_hit(lib: Library, text: str, filters: dict[str, Any]) -> None:
    """Each field counted over every hit of the same search without that field's own filter."""
    assert set(FACET_VALUES) == set(FACET_FIELDS)
    facets = lib.search(text, facets=True, limit=1, **filters).facets
    for name, (own, values) in FACET_VALUES.items():
        others = {k: v for k, v in filters.items() if k != own}
        hits = lib.search(text, limit=1000, **others).hits
        assert facets[name] == dict(Counter(v for h in hits for v in values(h))), name


def test_a_reused_query_gives_what_a_fresh_index_gives(lib: Library, corpus_index: tuple[Path, Any]) -> None:
    """Filters, sorting and paging on a query already run reuse its scores: nothing may differ."""
    text = "velferdsteknologi i hjemmetjenesten"
    lib.search(text, facets=True)
    for kwargs in ({"sectors": ("helse",)}, {"years": (2016, 2017), "offset": 3}, {"sort": "year"}, {}):
        fresh = Library(corpus_index[0])
        try:
            assert lib.search(text, facets=True, **kwargs) == fresh.search(text, facets=True, **kwargs), kwargs
        finally:
            fresh.close()


def test_similar_is_whooshs_top_five_with_its_total(lib: Library, corpus_index: tuple[Path, Any]) -> None:
    """similar() hands Whoosh its filter and mask as sets of document numbers: same hits, same total."""
    ix = whoosh_index.open_dir(str(SearchIndex.current_generation(corpus_index[0])))
    try:
        with ix.searcher() as s:
            for hit in lib.search("skole helse bolig", limit=4).hits:
                fields = s.document(id=hit.example_id, kind="example")
                terms = s.key_terms_from_text("body", f"{fields['title']}\n{fields['body']}", numterms=MLT_TERMS)
                q = _key_terms_query(terms, [x for x in fields["sector"].split(",") if x])
                found = s.search(q, filter=Q.Term("kind", "example"), limit=5,
                                 mask=Q.Term("application_id", fields["application_id"]))
                similar = lib.similar(hit.example_id)
                assert ranked(similar) == [(h["id"], h.score) for h in found]
                assert similar.total == len(found) > 5
    finally:
        ix.close()


def test_recommended_boost_lifts_an_example_and_search_sees_the_commit(
        corpus_index: tuple[Path, Any], tmp_path: Path) -> None:
    root = tmp_path / "index"
    shutil.copytree(corpus_index[0], root)
    index = SearchIndex.open(root)
    try:
        text = "kommune"
        before = index.search(text, limit=20).hits
        i = next(i for i in range(1, len(before)) if before[i - 1].score < before[i].score * 1.2)
        target = before[i]
        example, _ = index.example(target.example_id)
        index.update_examples([replace(example, recommended=True)])
        after = index.search(text, limit=20).hits  # the same SearchIndex: its cached generation is stale now
        rank = [h.example_id for h in after].index(target.example_id)
        assert rank < i and after[rank].recommended
        assert after[rank].score == pytest.approx(target.score * RECOMMENDED_BOOST, rel=0.05)
        assert ranked(index.search(text, limit=20)) == [(x, sc) for x, sc, _ in reference(root, text)[:20]]
    finally:
        index.close()
