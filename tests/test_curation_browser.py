"""The curation page in a real browser (Debian chromium driven by Playwright) against `innosok serve`:
sign in, correct a sector tag, mark the example recommended, see both in search, sign out."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import ROOT, copy_sample

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-quic"]
PASSWORD = "Korrekt hest batteri 42"
FILES = ("pdf/2016/2016-bergen.pdf", "pdf/2017/2017-stjordal.pdf", "pdf/2018/2018-molde.pdf")
ARTIFACTS = ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A small real index, a curator made with the real CLI, and `innosok serve` on a free port."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: `make test` installs it (apt-get install chromium)")
    base = tmp_path_factory.mktemp("browser")
    corpus = copy_sample(base / "corpus", FILES)
    env = {**os.environ, "INNOSOK_INDEX": str(base / "index"), "INNOSOK_CURATION": str(base / "kur.sqlite"),
           "INNOSOK_CORPUS": str(corpus), "INNOSOK_UPLOAD_MAX_MB": "1"}
    cli = [sys.executable, "-m", "search_app.cli"]
    subprocess.run([*cli, "ingest", str(corpus), "--index", str(base / "index"), "--quiet"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    subprocess.run([*cli, "users", "add", "kari", "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT,
                   env=env, check=True, capture_output=True)
    port = _free_port()
    # Its own process group: `innosok serve` starts streamlit as a child, which must end with it.
    proc = subprocess.Popen([*cli, "serve", "--port", str(port), "--index", str(base / "index")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("innosok serve did not answer within 60 s")
                time.sleep(0.3)
        yield {"url": url, "store": str(base / "kur.sqlite"), "index": str(base / "index")}
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the server and its streamlit child (the whole process group); kill what ignores SIGTERM."""
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                proc.wait(timeout=5)
                return
            proc.poll()
            time.sleep(0.2)


@contextmanager
def _page(failure_png: str) -> Iterator[Any]:
    """A Norwegian-locale page in Debian chromium; a screenshot named `failure_png` if the test fails."""
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=60_000)  # the server's first save loads the Norwegian lexicon (seconds, once)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="nb-NO")
        page.set_default_timeout(30_000)
        try:
            yield page
        except Exception:
            page.screenshot(path=str(ARTIFACTS / failure_png), full_page=True)
            raise
        finally:
            browser.close()


def _sign_in(page: Any) -> None:
    page.get_by_label("Brukernavn").fill("kari")
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()


def test_sign_in_correct_recommend_search_sign_out(server: dict[str, str]) -> None:
    from playwright.sync_api import expect

    from ingest.curation import CurationStore

    with _page("kurator-feil.png") as page:
        page.goto(f"{server['url']}/kurator")
        expect(page.get_by_label("Brukernavn")).to_be_visible()
        assert page.get_by_text("Gjennomgang").count() == 0  # nothing of the desk before signing in
        _sign_in(page)
        expect(page.get_by_role("tab", name="Gjennomgang")).to_be_visible()
        expect(page.get_by_text("Innlogget som")).to_be_visible()

        form = page.locator('[data-testid="stForm"]')
        title = page.locator('[data-testid="stMarkdownContainer"] h4').first.inner_text().strip()
        sectors = form.locator('[data-testid="stMultiSelect"]').filter(has_text="Sektorer")
        sectors.locator("input").click()
        page.keyboard.type("Kultur, idrett")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        form.get_by_text("Anbefalt eksempel").click()
        form.get_by_role("button", name="Lagre og merk som gjennomgått").click()
        expect(page.get_by_text("Lagret.")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "kurator-lagret.png"), full_page=True)

        decisions = [d for d in CurationStore(Path(server["store"])).decisions().values()]
        assert len(decisions) == 1
        assert "kultur" in (decisions[0].sectors or ()) and decisions[0].recommended
        assert decisions[0].updated_by == "kari"

        page.get_by_role("link", name="Søk").click()  # in-app navigation keeps the session
        box = page.get_by_label("Hva vil du løse?")
        box.fill(title)
        box.press("Enter")
        card = page.locator('[data-testid="stVerticalBlockBorderWrapper"], [class*="st-key-treff-"]').filter(
            has_text=title).first
        expect(card).to_be_visible()
        expect(card.get_by_text("Anbefalt", exact=True)).to_be_visible()
        expect(card.get_by_text("Kultur, idrett og frivillighet")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "kurator-i-sok.png"), full_page=True)

        page.get_by_role("link", name="Kurering").click()
        expect(page.get_by_text("Innlogget som")).to_be_visible()
        page.get_by_role("button", name="Logg ut").click()
        expect(page.get_by_role("button", name="Logg inn")).to_be_visible()
        expect(page.get_by_role("tab", name="Gjennomgang")).to_have_count(0)


def test_oversized_and_renamed_uploads_are_refused_in_norwegian(server: dict[str, str]) -> None:
    """A PDF over the limit (1 MB here) and a Word file named .pdf: the curator reads why, in Norwegian."""
    from playwright.sync_api import expect

    big = b"%PDF-1.4\n" + b"0" * (1536 * 1024)  # 1.5 MB: over the limit, under the browser's own cut-off
    word = b"PK\x03\x04" + b"\x00" * 2048  # a .docx is a zip archive
    with _page("kurator-opplasting-feil.png") as page:
        page.goto(f"{server['url']}/kurator")
        _sign_in(page)
        page.get_by_role("tab", name="Last opp søknader").click()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files([
            {"name": "stor-soknad.pdf", "mimeType": "application/pdf", "buffer": big},
            {"name": "soknad-fra-word.pdf", "mimeType": "application/pdf", "buffer": word},
        ])
        page.get_by_role("button", name="Legg inn").click()
        expect(page.get_by_text("«stor-soknad.pdf» er for stor")).to_be_visible()
        expect(page.get_by_text("«soknad-fra-word.pdf» er ikke en PDF")).to_be_visible()
        assert page.get_by_text("File must be").count() == 0  # not Streamlit's English refusal
        page.screenshot(path=str(ARTIFACTS / "kurator-opplasting-avvist.png"), full_page=True)
