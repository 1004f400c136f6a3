"""End to end in a real headless browser (Debian's chromium driven by Playwright) against `innosok serve`
on localhost: search, filter, open an example, follow "lignende innovasjoner", export CSV.

Every step saves a screenshot to test-artifacts/browser/ (git-ignored). The expected answers come from
the library over the same index, never from hard-coded lists.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import ROOT
from search_app.api import Library, SearchRequest

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "browser"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-quic"]
# The page has settled: no script run in progress, no stale (greyed) element, no loading skeleton.
SETTLED = """() => !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-stale="true"]') && !document.querySelector('[data-testid="stSkeleton"]')"""
QUERY = "velferdsteknologi i hjemmetjenesten"


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is not installed. `make test` installs it (apt-get install chromium).")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(corpus_index: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`innosok serve` on a free port over the sample corpus index; yields the base URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "INNOSOK_CORPUS": str(ROOT / "corpus")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "search_app.cli", "serve", "--port", str(port), "--index", str(corpus_index[0])],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as r:
                        if r.read() == b"ok":
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("innosok serve did not start:\n" + log.read_text(encoding="utf-8", errors="replace"))
                time.sleep(0.3)
            yield f"http://localhost:{port}"
        finally:
            proc.terminate()
            proc.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1300}, locale="nb-NO", accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(scope="module")
def lib(corpus_index: tuple[Path, Any]) -> Library:
    return Library(corpus_index[0])


def settle(page: Any) -> None:
    page.wait_for_function(SETTLED)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def result_titles(page: Any) -> list[str]:
    links = page.locator('[class*="st-key-treff-"] [data-testid="stPageLink"] a [data-testid="stMarkdownContainer"]')
    return [t.strip() for t in links.all_inner_texts()]


def test_a_shared_link_to_an_example_opens_the_app(server: str, page: Any, lib: Library) -> None:
    """The first visit to a freshly started server may be a link to an example: it gets the whole app."""
    hit = lib.search("velferdsteknologi", limit=1).hits[0]
    page.goto(f"{server}/eksempel?id={hit.example_id}")
    page.get_by_role("heading", name=hit.title, level=1).wait_for()
    page.get_by_text("Kontaktperson").wait_for()
    shot(page, "00-lenke-til-eksempel")
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0  # not Streamlit's legacy page list
    assert page.get_by_role("link", name="Oversikt").count() == 1  # the app's own navigation


def test_search_filter_open_similar_export(server: str, page: Any, lib: Library) -> None:
    # 1. the front page, in Norwegian with æøå intact
    page.goto(server)
    box = page.get_by_label("Hva vil du løse?")
    box.wait_for()
    page.get_by_text("Kommuner som min").first.wait_for()
    shot(page, "01-forside")
    body = page.inner_text("body")
    assert "Innosøk" in body and "Eksempelkorpus: søknadene" in body and "Avgrens søket" in body

    # 2. search: the cards are the library's first page, in its order
    box.fill(QUERY)
    box.press("Enter")
    page.get_by_role("heading", name=f"treff for «{QUERY}»").wait_for()
    settle(page)
    expected = lib.find(SearchRequest(text=QUERY))
    assert result_titles(page) == [h.title for h in expected.hits]
    assert page.locator("mark").count() > 0
    shot(page, "02-sok")

    # 3. filter on a year, picked from the options with their counts
    year = max(expected.facets["year"], key=lambda y: expected.facets["year"][y])
    page.locator(".st-key-f_year input").click()
    page.get_by_role("option", name=f"{year} ({expected.facets['year'][year]})").click()
    page.keyboard.press("Escape")
    filtered = lib.find(SearchRequest(text=QUERY, years=(int(year),)))
    page.get_by_role("heading", name=f"{filtered.total} treff for «{QUERY}»").wait_for()
    settle(page)
    assert result_titles(page) == [h.title for h in filtered.hits]
    shot(page, "03-filter")

    # 4. open the first example
    first = filtered.hits[0]
    page.locator(".st-key-treff-1 [data-testid='stPageLink'] a").click()
    page.get_by_role("heading", name=first.title, level=1).wait_for()
    page.get_by_text("Kontaktperson").wait_for()
    view = lib.show(first.example_id)
    if view.application.contact.name:
        assert view.application.contact.name in page.inner_text("body")
    shot(page, "04-eksempel")

    # 5. follow "lignende innovasjoner"
    similar = lib.similar(first.example_id, limit=5).hits
    assert similar
    page.get_by_role("heading", name="Lignende innovasjoner").scroll_into_view_if_needed()
    page.locator(".st-key-lignende-1 [data-testid='stPageLink'] a").click()
    page.get_by_role("heading", name=similar[0].title, level=1).wait_for()
    page.wait_for_url(f"**/eksempel?id={similar[0].example_id}")  # the address names the example shown
    page.wait_for_function("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop === 0")
    shot(page, "05-lignende")

    # 6. back to the search (question and filter kept), and export the result list as CSV
    page.get_by_role("link", name="Tilbake til søket").click()
    page.get_by_role("heading", name=f"{filtered.total} treff for «{QUERY}»").wait_for()
    button = page.locator(".st-key-eksport-csv button")
    button.scroll_into_view_if_needed()
    shot(page, "06-eksport")
    with page.expect_download() as info:
        button.click()
    target = ARTIFACTS / "innosok-treff.csv"
    info.value.save_as(str(target))
    data = target.read_bytes()
    assert data.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert [r["Id"] for r in rows] == [h.example_id for h in lib.find(SearchRequest(text=QUERY, years=(int(year),)),
                                                                       page_size=filtered.total).hits]
    assert any(ch in "".join(r["Tittel"] + r["Kommune (søker)"] for r in rows) for ch in "æøåÆØÅ")
