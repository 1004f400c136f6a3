"""Search over the real index of the sample corpus: ranking basics, filters, merged municipalities, no crashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.searchindex import MARK_END, MARK_START
from search_app.api import Library


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
