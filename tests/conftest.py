"""Shared fixtures: real PDFs made on the fly, the real-world PDF set, a real index of the corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

from corpus.render import render_pdf

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


def copy_sample(folder: Path, files: Iterable[str]) -> Path:
    """A corpus folder holding some of the sample PDFs (paths relative to corpus/) and the manifest."""
    for rel in files:
        src = CORPUS / rel
        if not src.exists():
            pytest.fail(f"sample PDF missing: {src}")
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, folder / rel)
    shutil.copy(CORPUS / "manifest.csv", folder / "manifest.csv")
    return folder


def shared_dir() -> Path:
    """The shared folder beside the checkout (real-world PDFs); CI always has it."""
    path = Path(os.environ.get("INNOSOK_SHARED", ROOT.parent / "shared"))
    if not (path / "pdfs" / "realworld" / "manifest.csv").exists():
        pytest.fail(f"The shared test data is missing: expected {path}/pdfs/realworld (set INNOSOK_SHARED).")
    return path


def application(year: int = 2017, language: str = "nb", **overrides: Any) -> dict[str, Any]:
    """A small, valid source for the renderer: a municipality with two innovation examples."""
    nn = language == "nn"
    source: dict[str, Any] = {
        "year": year,
        "slug": "testvik",
        "municipality": "Voss kommune" if nn else "Bærum kommune",
        "kommunenummer": "1235" if nn else "0219",
        "fylkesnummer": "12" if nn else "02",
        "status": "applicant",
        "language": language,
        "layout": "standard",
        "contact_name": "Kari Prøvesen",
        "contact_title": "rådgjevar" if nn else "rådgiver",
        "contact_email": "kari.provesen@test.kommune.example",
        "contact_phone": "99 00 00 01",
        "why_us": ("Kommunen vår har arbeidd systematisk med innovasjon sidan 2014, med ein eigen strategi. "
                   "Me deler alt me lærer med andre kommunar.") if nn else
                  ("Kommunen har arbeidet systematisk med innovasjon siden 2014, med en egen strategi. "
                   "Vi deler det vi lærer med andre kommuner, og ansatte får opplæring i tjenestedesign."),
        "why_us_criteria": ["helhet"],
        "examples": [
            {
                "title": "Digitalt tilsyn i heimetenesta" if nn else "Digitalt tilsyn i hjemmetjenesten",
                "sectors": ["helse"],
                "phase": "i_bruk",
                "answers": [
                    {"question": "beskrivelse", "criteria": [],
                     "text": ("Heimetenesta nyttar sensorar om natta i staden for fysiske tilsyn." if nn else
                              "Hjemmetjenesten bruker sensorer om natten i stedet for fysiske tilsyn.")},
                    {"question": "nytt", "criteria": ["nyhet"],
                     "text": ("Ingen andre kommunar i regionen har prøvd dette før." if nn else
                              "Ingen andre kommuner i regionen har prøvd dette før.")},
                    {"question": "verdi", "criteria": ["verdi"],
                     "text": ("Me sparer 1 200 timar i året, og brukarane søv betre." if nn else
                              "Vi sparer 1 200 timer i året, og brukerne sover bedre.")},
                ],
            },
            {
                "title": "Skulebibliotek for alle" if nn else "Skolebibliotek for alle",
                "sectors": ["oppvekst", "kultur"],
                "phase": "utvikling",
                "answers": [
                    {"question": "beskrivelse", "criteria": [],
                     "text": ("Biblioteket er ope for elevar og innbyggjarar." if nn else
                              "Biblioteket er åpent for elever og innbyggere.")},
                    {"question": "spredning", "criteria": ["spredning"],
                     "text": ("Modellen kan takast i bruk av alle kommunar." if nn else
                              "Modellen kan tas i bruk av alle kommuner.")},
                ],
            },
        ],
    }
    if year == 2015:
        first = source["examples"][0]
        first["summary"] = ("Sensorar erstattar nattlege tilsyn." if nn else "Sensorer erstatter nattlige tilsyn.")
        first["answers"] = [
            {"question": "bakgrunn", "criteria": [], "text": "Nattevakter brukte mye tid på å kjøre mellom brukerne."},
            {"question": "gjennomforing", "criteria": ["nyhet"], "text": "Vi prøvde ut sensorer hos 20 brukere."},
            {"question": "resultater", "criteria": ["verdi"], "text": "Færre forstyrrelser om natten og spart tid."},
            {"question": "spredning", "criteria": ["spredning"], "text": "Andre kommuner kan kopiere rutinene våre."},
        ]
        source["examples"] = [first]
        source.pop("why_us")
        source.pop("why_us_criteria")
    source.update(overrides)
    return source


@pytest.fixture
def make_pdf(tmp_path: Path) -> Callable[..., Path]:
    """Render a source dict to a real PDF in a temporary folder."""

    def make(source: dict[str, Any], name: str = "soknad.pdf", folder: Path | None = None) -> Path:
        out = (folder or tmp_path) / name
        out.parent.mkdir(parents=True, exist_ok=True)
        render_pdf(source, out)
        return out

    return make


@pytest.fixture(scope="session", autouse=True)
def isolated_curation_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tests never read or write a developer's real curation store (./curation)."""
    path = tmp_path_factory.mktemp("curation-store") / "innosok.sqlite"
    os.environ["INNOSOK_CURATION"] = str(path)
    return path


@pytest.fixture(scope="session", autouse=True)
def isolated_embedding_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tests never lean on vectors a developer's earlier runs cached: only the shipped ones and what they embed."""
    path = tmp_path_factory.mktemp("embedding-cache") / "embeddings.sqlite"
    os.environ["INNOSOK_EMBEDDING_CACHE"] = str(path)
    return path


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The bundled sample corpus ingested once into a real temporary index: (index root, report)."""
    from ingest.pipeline import ingest

    root = tmp_path_factory.mktemp("corpus-index")
    report = ingest(CORPUS, root, progress=False)
    return root, report
