"""The Streamlit app: AppTest on every page (search, example, overview), the export helpers, and
`innosok serve` answering on localhost. All against real indexes built from real PDFs."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, application
from ingest.records import Application, Tag
from search_app.api import Library, SearchRequest, export_csv, export_excel

APP = str(ROOT / "search_app" / "app.py")
EXAMPLE_PAGE = "views/eksempel.py"
OVERVIEW_PAGE = "views/oversikt.py"


@pytest.fixture(scope="module")
def lib(corpus_index: tuple[Path, Any]) -> Library:
    return Library(corpus_index[0])


def _app(index_root: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("INNOSOK_INDEX", str(index_root))
    monkeypatch.setenv("INNOSOK_CORPUS", str(ROOT / "corpus"))
    return AppTest.from_file(APP, default_timeout=60)


@pytest.fixture
def app(corpus_index: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch) -> AppTest:
    return _app(corpus_index[0], monkeypatch)


def _text(at: AppTest) -> str:
    """Everything the page wrote as Markdown or captions (one string to search in)."""
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def _result_links(at: AppTest) -> list[Any]:
    return [p for p in at.page_link if p.proto.page == "eksempel"]


def _cards(at: AppTest) -> list[str]:
    """The body of each result card (meta line, chips, snippet, why it matched) as written."""
    return [m.value for m in at.markdown if m.value.startswith('<p class="inno-meta">')]


def _count(option: str) -> int:
    """The count shown in a filter option such as "2018 (7)"."""
    m = re.search(r"\((\d+)\)$", option)
    assert m, option
    return int(m.group(1))


# -- search page ---------------------------------------------------------------------------------------


def test_front_page_in_norwegian_with_sample_notice(app: AppTest, lib: Library) -> None:
    app.run()
    assert not app.exception
    assert app.title[0].value == "Innosøk"
    assert "Eksempelkorpus" in app.info[0].value
    assert "Hva vil du løse?" in app.text_input(key="q").label
    # no question yet: the whole archive, newest first, with the count from the library
    total = lib.search("", limit=1).total
    assert f"Hele arkivet: {total} innovasjonseksempler" in _text(app)
    years = [int(m.group(1)) for m in re.finditer(r"· (\d{4}) ·", _text(app))]
    assert years and years == sorted(years, reverse=True)


def test_search_shows_escaped_marked_results(app: AppTest) -> None:
    app.run()
    app.text_input(key="q").input("smart matleveranse").run()
    assert not app.exception
    assert "Smart matleveranse i hjemmetjenesten" in [p.proto.label for p in _result_links(app)]
    texts = _text(app)
    assert "<mark>" in texts
    assert "treff for «smart matleveranse»" in texts
    assert "Treff på «" in texts  # why it matched


def test_example_questions_fill_the_search_box(app: AppTest) -> None:
    app.run()
    app.button(key="eks-bostedsløse ungdom bolig").click().run()
    assert app.text_input(key="q").value == "bostedsløse ungdom bolig"
    assert "treff for «bostedsløse ungdom bolig»" in _text(app)


def test_merged_municipality_filter_in_the_app(app: AppTest) -> None:
    app.run()
    assert "Øygarden" in app.selectbox(key="f_municipality").options
    app.selectbox(key="f_municipality").select("Øygarden").run()
    assert not app.exception
    assert "Fjell kommune" in _text(app)  # today's name finds the applications of the merged municipality
    assert "(i dag Øygarden)" in _text(app)


def test_filters_show_counts_and_narrow_the_results(app: AppTest, lib: Library) -> None:
    app.run()
    app.text_input(key="q").input("bolig").run()
    expected = lib.find(SearchRequest(text="bolig"), page_size=1).facets["year"]
    options = app.multiselect(key="f_year").options
    assert {o.split()[0]: _count(o) for o in options if _count(o)} == expected
    app.multiselect(key="f_year").select(2018).run()
    assert not app.exception
    assert f"{expected['2018']} treff for «bolig»" in _text(app)
    cards = _cards(app)
    assert cards and all("· 2018 ·" in c.split("</p>")[0] for c in cards)
    # a field's own filter does not change its counts; the other fields count within 2018 only
    assert app.multiselect(key="f_year").options == options
    in_2018 = lib.find(SearchRequest(text="bolig", years=(2018,)), page_size=1).facets["status"]
    assert {o.split(" (")[0]: _count(o) for o in app.multiselect(key="f_status").options if _count(o)} == {
        {"winner": "Vinner", "finalist": "Finalist", "applicant": "Søker"}[k]: v for k, v in in_2018.items()}


def test_status_filter_shows_only_winners(app: AppTest) -> None:
    app.run()
    app.multiselect(key="f_status").select("winner").run()
    cards = _cards(app)
    assert cards and all("status-winner" in c.split('<div class="inno-snippet">')[0] for c in cards)


def test_sort_by_year_and_pagination(app: AppTest, lib: Library) -> None:
    app.run()
    app.text_input(key="q").input("kommune").run()
    total = lib.search("kommune", limit=1).total
    assert total > 10, "the question must give more than one page"
    first_page = [p.proto.label for p in _result_links(app)]
    assert len(first_page) == 10
    assert f"Side 1 av {-(-total // 10)}" in _text(app)
    app.button(key="neste").click().run()
    second_page = [p.proto.label for p in _result_links(app)]
    assert second_page and not set(second_page) & set(first_page)
    assert f"Side 2 av {-(-total // 10)}" in _text(app)
    app.segmented_control(key="sort").set_value("year").run()
    assert "Side 1 av" in _text(app)  # a new order starts at page 1
    years = [int(m.group(1)) for m in re.finditer(r"· (\d{4}) ·", _text(app))]
    newest = lib.find(SearchRequest(text="kommune", sort="year"), page_size=1).hits[0].year
    assert years == sorted(years, reverse=True) and years[0] == newest


def test_kommuner_som_min_filters_to_similar_municipalities(app: AppTest, lib: Library) -> None:
    app.run()
    app.text_input(key="q").input("bolig").run()
    app.selectbox(key="like_name").select("Øygarden").run()
    profile = lib.profile("Øygarden")
    assert f"{profile.name}: " in _text(app) and "sentralitet" in _text(app)
    favoured = lib.find(SearchRequest(text="bolig", like=profile))
    assert f"{favoured.total} treff" in _text(app)  # favoured: nothing is left out
    app.radio(key="like_mode").set_value("filter").run()
    only = lib.find(SearchRequest(text="bolig", like=profile, like_mode="filter"))
    assert 0 < only.total < favoured.total
    assert all(h.size_band == profile.size_band for h in only.hits)
    cards = _cards(app)
    assert len(cards) == min(only.total, 10)
    assert all("Kommune som Øygarden: samme størrelse" in c.split('<p class="inno-why">')[1] for c in cards)


def test_no_hits_gives_advice(app: AppTest) -> None:
    app.run()
    app.text_input(key="q").input("xqzvyw").run()
    assert not app.exception
    assert "Ingen treff" in app.warning[0].value


def test_missing_index_gives_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(tmp_path / "none", monkeypatch)
    at.run()
    assert "innosok ingest" in at.error[0].value


# -- text from PDFs is escaped ---------------------------------------------------------------------------

MARKUP_TITLE = "<b>Fet</b> *stjerne* [lenke](https://x.example) :red[rød]"
MARKUP_TEXT = "Sensorene <script>alert(1)</script> og **fet** tekst sparer 1 200 timer."


def _tag_first_example(app: Application) -> Application:
    """A tagger for the test index: one sector tag with a passage as evidence, one criterion with a quote."""
    first = app.examples[0]
    tags = (Tag("sector", "helse", 0.9, "regel", (first.passages[0].id,)),
            Tag("criterion", "nyhet", 0.8, "skjema", ("Ingen andre kommuner har prøvd dette før.",)))
    return dataclasses.replace(app, examples=(dataclasses.replace(first, tags=tags), *app.examples[1:]))


@pytest.fixture
def markup_index(tmp_path: Path, make_pdf: Callable[..., Path]) -> tuple[Path, Path]:
    """A real index of one real PDF whose title and answer contain HTML and Markdown, tagged: (index, corpus)."""
    from ingest.pipeline import ingest

    source = application()
    source["examples"][0]["title"] = MARKUP_TITLE
    source["examples"][0]["answers"][0]["text"] = MARKUP_TEXT
    corpus = tmp_path / "corpus"
    make_pdf(source, "pdf/2017/2017-testvik.pdf", folder=corpus)
    index = tmp_path / "index"
    report = ingest(corpus, index, progress=False, tagger=_tag_first_example, curation=tmp_path / "kurator.sqlite")
    assert report.examples == 2, report.problems
    return index, corpus


def test_text_from_pdfs_is_escaped(markup_index: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(markup_index[0], monkeypatch)
    at.run()
    at.text_input(key="q").input("sensorene").run()
    assert not at.exception
    snippet = _cards(at)[0].split('<div class="inno-snippet">')[1].split("</div>")[0]
    assert "<script>" not in snippet and "**" not in snippet and "&#60;script&#62;" in snippet
    assert "<mark>Sensorene</mark>" in snippet
    label = _result_links(at)[0].proto.label
    assert "\\*stjerne\\*" in label and "\\[lenke\\]" in label and "\\<b\\>" in label


def test_example_page_shows_tags_with_evidence(markup_index: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    lib = Library(markup_index[0])
    example = lib.search("sensorene", limit=1).hits[0]
    at = _app(markup_index[0], monkeypatch)
    monkeypatch.setenv("INNOSOK_CORPUS", str(markup_index[1]))
    at.switch_page(EXAMPLE_PAGE)
    at.query_params["id"] = example.example_id
    at.run()
    assert not at.exception
    text = _text(at)
    assert 'class="inno-chip sector">Helse og omsorg<' in text
    assert "satt av søknadsskjemaet, sikkerhet 80 %" in text
    view = lib.show(example.example_id)
    assert f"<div class='inno-evidence'>{_escaped(view.example.passages[0].text)}" in text  # passage as evidence
    assert "Ingen andre kommuner har prøvd dette før&#46;" in text  # a quote as evidence
    assert at.title[0].value.startswith("\\<b\\>Fet\\</b\\> \\*stjerne\\*")  # Markdown-escaped


def _escaped(text: str) -> str:
    from search_app.ui import safe

    return safe(text)


# -- example page on the sample corpus --------------------------------------------------------------------


def test_example_page_in_full(app: AppTest, lib: Library) -> None:
    hit = lib.search("velferdsteknologi", limit=1).hits[0]
    view = lib.show(hit.example_id)
    app.switch_page(EXAMPLE_PAGE)
    app.query_params["id"] = hit.example_id
    app.run()
    assert not app.exception
    assert app.title[0].value == view.example.title
    text = _text(app)
    # answers grouped under the jury criterion each form question asks about
    from ingest.taxonomy import load_taxonomy

    tax = load_taxonomy()
    criteria = [s.criterion for s in view.example.sections if s.criterion]
    assert criteria, "the sample example answers criterion questions"
    for c in criteria:
        assert f"## {_escaped(tax.name('criterion', c))}" in text
    assert _escaped(view.example.sections[-1].text.split("\n\n")[0].strip()) in text
    # who to call
    assert "Kontaktperson" in text and _escaped(view.application.contact.name) in text
    # tags: the sample index has none until the tagger runs in the pipeline; the page says so rather than pretend
    if not view.example.tags:
        assert "ingen merkelapper" in text
    else:
        assert "Hvorfor disse merkelappene?" in [e.label for e in app.expander]
    # the original PDF, and where the example is in it
    assert app.download_button(key="pdf").label == "Last ned PDF"
    assert f"side {view.example.page_start}" in text
    # the other examples of the same application and "lignende innovasjoner", as links to their pages
    links = {p.proto.query_string for p in app.page_link if p.proto.page == "eksempel"}
    for sibling in view.siblings:
        assert f"id={sibling.id}" in links
    assert "## Lignende innovasjoner" in text
    similar = lib.similar(hit.example_id, limit=5).hits
    assert similar and all(f"id={h.example_id}" in links for h in similar)


def test_example_page_says_when_its_text_was_read_by_ocr(app: AppTest, lib: Library) -> None:
    scanned = lib.search("Næringshage for landbruket", limit=1).hits[0]
    typed = lib.search("velferdsteknologi", limit=1).hits[0]
    assert lib.show(scanned.example_id).application.text_from_ocr
    app.switch_page(EXAMPLE_PAGE)
    for hit, expected in ((scanned, True), (typed, False)):
        app.query_params["id"] = hit.example_id
        app.run()
        assert not app.exception
        assert ("tekstgjenkjenning (OCR)" in _text(app)) is expected


def test_example_page_shows_the_cited_pdf_page(app: AppTest, lib: Library) -> None:
    hit = lib.search("velferdsteknologi", limit=1).hits[0]
    app.switch_page(EXAMPLE_PAGE)
    app.query_params["id"] = hit.example_id
    app.run()
    app.toggle(key="vis_side").set_value(True).run()
    assert not app.exception
    view = lib.show(hit.example_id)
    assert len(app.get("image")) == view.example.page_end - view.example.page_start + 1
    png = lib.page_image(view, view.example.page_start)
    assert png.startswith(b"\x89PNG")


def test_example_page_unknown_id_and_missing_pdf(app: AppTest, lib: Library, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    app.switch_page(EXAMPLE_PAGE)
    app.query_params["id"] = "000000000000-9"
    app.run()
    assert "Fant ikke innovasjonseksempelet" in app.error[0].value
    monkeypatch.setenv("INNOSOK_CORPUS", str(tmp_path))  # the PDFs are not where the setting says
    app.query_params["id"] = lib.search("velferdsteknologi", limit=1).hits[0].example_id
    app.run()
    assert not app.exception
    assert any("INNOSOK_CORPUS" in w.value for w in app.warning)


# -- overview page and export ------------------------------------------------------------------------------


def test_overview_page(app: AppTest, lib: Library) -> None:
    app.switch_page(OVERVIEW_PAGE)
    app.run()
    assert not app.exception
    assert app.title[0].value == "Oversikt over arkivet"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Innovasjonseksempler"] == str(lib.search("", limit=1).total)
    assert len(app.get("vega_lite_chart")) >= 2  # per year, per county (+ per sector when tagged)
    assert {b.label for b in app.download_button} == {"Last ned CSV", "Last ned Excel"}


def test_export_csv_and_excel_round_trip(lib: Library) -> None:
    import pandas as pd

    request = SearchRequest(text="velferdsteknologi", years=(2016, 2017, 2018, 2019))
    table = lib.result_table(request)
    assert len(table) == lib.find(request, page_size=1).total
    data = export_csv(table)
    assert data.startswith("\ufeff".encode("utf-8"))  # Excel opens UTF-8 with æøå intact
    back = pd.read_csv(io.BytesIO(data), sep=";", encoding="utf-8-sig")
    assert list(back.columns) == list(table.columns) and "Kommune (søker)" in back.columns
    assert list(back["Id"]) == list(table["Id"])
    assert back["Tittel"].str.contains("[æøåÆØÅ]").any()
    assert "\x02" not in data.decode("utf-8-sig")  # no highlight markers in exports
    sheet = pd.read_excel(io.BytesIO(export_excel(table)), engine="openpyxl")
    assert list(sheet["Tittel"]) == list(table["Tittel"])


# -- served on localhost -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_on_localhost(corpus_index: tuple[Path, Any]) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "search_app.cli", "serve", "--port", str(port), "--index", str(corpus_index[0])],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as r:
                    assert r.read() == b"ok"
                    return
            except OSError:
                time.sleep(0.5)
        pytest.fail("innosok serve did not answer within 60 s")
    finally:
        proc.terminate()
        proc.wait(10)
