"""Form parsing on PDFs generated in the test: both form generations, bokmål and nynorsk, every layout."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from conftest import application
from ingest.extract import extract
from ingest.parse import detect_form, clean_lines, parse
from ingest.records import PageText


@pytest.mark.parametrize("language", ["nb", "nn"])
@pytest.mark.parametrize("layout", ["standard", "twocolumn", "formfields", "encrypted"])
def test_2016_form(make_pdf: Callable[..., Path], language: str, layout: str) -> None:
    source = application(2017, language, layout=layout)
    parsed = parse(extract(make_pdf(source)))
    assert parsed.form == "2016-2019"
    assert parsed.year_in_text == 2017
    assert parsed.municipality_written == source["municipality"]
    assert parsed.contact.name == "Kari Prøvesen"
    assert parsed.contact.email == "kari.provesen@test.kommune.example"
    assert parsed.contact.phone == "99 00 00 01"
    assert parsed.why_us.startswith(source["why_us"][:40])
    assert [e.title for e in parsed.examples] == [e["title"] for e in source["examples"]]
    first = parsed.examples[0]
    assert [s.question for s in first.sections] == ["beskrivelse", "nytt", "verdi"]
    assert [s.criterion for s in first.sections] == [None, "nyhet", "verdi"]
    assert first.sections[2].text == source["examples"][0]["answers"][2]["text"]
    assert [s.question for s in parsed.examples[1].sections] == ["beskrivelse", "spredning"]


@pytest.mark.parametrize("language", ["nb", "nn"])
def test_2015_form(make_pdf: Callable[..., Path], language: str) -> None:
    source = application(2015, language)
    parsed = parse(extract(make_pdf(source)))
    assert parsed.form == "2015"
    assert len(parsed.examples) == 1
    example = parsed.examples[0]
    assert example.title == source["examples"][0]["title"]
    assert [s.question for s in example.sections] == ["sammendrag", "bakgrunn", "gjennomforing", "resultater", "spredning"]
    assert [s.criterion for s in example.sections][-2:] == ["verdi", "spredning"]
    assert parsed.contact.email == "kari.provesen@test.kommune.example"


def test_free_form_answers_become_one_section_per_paragraph(make_pdf: Callable[..., Path]) -> None:
    source = application(2018)
    source["examples"][0]["answers"] = [
        {"question": "fritekst", "criteria": ["nyhet"], "text": "Første avsnitt om noe nytt og annerledes."},
        {"question": "fritekst", "criteria": ["verdi"], "text": "Andre avsnitt om resultatene vi har fått."},
    ]
    parsed = parse(extract(make_pdf(source)))
    texts = [s.text for s in parsed.examples[0].sections]
    assert texts == ["Første avsnitt om noe nytt og annerledes.", "Andre avsnitt om resultatene vi har fått."]


def test_a_letter_without_a_form_is_one_example(make_pdf: Callable[..., Path]) -> None:
    source = application(2016, layout="letter")
    source["examples"] = source["examples"][:1]
    parsed = parse(extract(make_pdf(source)))
    assert parsed.form == "fritt"
    assert parsed.examples[0].title == source["examples"][0]["title"]
    assert parsed.municipality_written == "Bærum kommune"
    assert parsed.contact.email == "kari.provesen@test.kommune.example"


def test_hyphenated_line_ends_are_joined(make_pdf: Callable[..., Path]) -> None:
    long_words = ("Velferdsteknologiprosjektet og tjenesteinnovasjonsarbeidet i hjemmetjenesten ga "
                  "kommunikasjonsmedarbeiderne og sykepleiertjenesten nye arbeidsmetoder. ") * 6
    source = application(2017, hyphenate=True)
    source["examples"][0]["answers"][2]["text"] = long_words.strip()
    parsed = parse(extract(make_pdf(source)))
    text = parsed.examples[0].sections[2].text
    assert "Velferdsteknologiprosjektet" in text and "tjenesteinnovasjonsarbeidet" in text
    assert "- " not in text.replace(" – ", " ")


def test_page_numbers_follow_the_answers(make_pdf: Callable[..., Path]) -> None:
    source = application(2017)
    source["examples"][0]["answers"][2]["text"] = "\n\n".join(["Et langt avsnitt om resultater. " * 30] * 6)
    parsed = parse(extract(make_pdf(source)))
    assert parsed.page_count >= 2
    second = parsed.examples[1]
    assert second.page_start >= 2 and second.sections[0].page_start == second.page_start


def test_running_headers_and_page_numbers_are_removed() -> None:
    body = {1: "Om bolig for unge.", 2: "Om skole og barnehage.", 3: "Om eldre."}
    pages = tuple(PageText(i, f"Innovasjonsprisen 2017 – søknad fra Testvik kommune\n{body[i]}\nSide {i} av 3")
                  for i in (1, 2, 3))
    lines = clean_lines(pages)
    assert [ln.text for ln in lines] == list(body.values())
    assert detect_form(lines) == "fritt"


def test_a_list_stays_one_passage_with_its_lead_in(make_pdf: Callable[..., Path]) -> None:
    source = application(2017)
    source["examples"][0]["answers"][-1]["text"] = (
        "Vi har fulgt med på tre ting.\n\nResultatene etter første år:\n"
        "- 14 brukere har fått et fast tilbud\n- pårørende melder mindre belastning\n"
        "- kostnaden per dag er den samme\n\nDet siste avsnittet står for seg selv.")
    parsed = parse(extract(make_pdf(source)))
    texts = [para for s in parsed.examples[0].sections for para in s.text.split("\n\n")]
    listed = next(t for t in texts if t.startswith("Resultatene etter første år:"))
    assert listed.count("\n") == 3 and "kostnaden per dag er den samme" in listed
    assert "Vi har fulgt med på tre ting." in texts and "Det siste avsnittet står for seg selv." in texts
