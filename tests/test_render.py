"""Tests of the sample-corpus renderer (corpus/render): every layout, both languages.

Each test renders a small source into a temporary folder and reads the PDF back with
pypdf, the project's extractor, the way the ingest pipeline will.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pypdf
import pytest

from corpus.render import SourceError, build_corpus, load_source, render_pdf
from corpus.render.hyphen import hyphenate_all
from corpus.render.layout import text_blocks

LABELS_2016 = {
    "nb": ["1. Kommune", "2. Kontaktperson", "3. E-post", "4. Telefon",
           "5. Fortell oss kort hvorfor akkurat deres kommune fortjener Innovasjonsprisen 2017",
           "a) Beskriv innovasjonen kort", "b) Hva er nytt med løsningen?",
           "c) Kan løsningen tas i bruk av andre?"],
    "nn": ["1. Kommune", "2. Kontaktperson", "3. E-post", "4. Telefon",
           "5. Fortel oss kort kvifor akkurat dykkar kommune fortener Innovasjonsprisen 2017",
           "a) Beskriv innovasjonen kort", "b) Kva er nytt med løysinga?",
           "c) Kan løysinga takast i bruk av andre?"],
}
LABELS_2015 = {
    "nb": ["1. Kommune", "2. Navn på prosjektet", "3. Kort beskrivelse av prosjektet", "4. Kontaktperson",
           "5. E-post", "6. Telefon", "7. Bakgrunn – Hvorfor gikk dere i gang?",
           "8. Hva er nytt, og hvordan har dere gått fram?", "9. Hvilke resultater har dere oppnådd?",
           "10. Hvordan kan andre ta løsningen i bruk?"],
    "nn": ["1. Kommune", "2. Namn på prosjektet", "3. Kort skildring av prosjektet", "4. Kontaktperson",
           "5. E-post", "6. Telefon", "7. Bakgrunn – Kvifor gjekk de i gang?",
           "8. Kva er nytt, og korleis har de gått fram?", "9. Kva resultat har de oppnådd?",
           "10. Korleis kan andre ta løysinga i bruk?"],
}
FILLER = ("Tjenesten ble utviklet sammen med brukerne, og de ansatte i hjemmetjenesten "
          "testet løsningen i fire måneder før den ble tatt i bruk i hele kommunen. ")


def make_source(year: int = 2017, language: str = "nb", layout: str = "standard", *,
                hyphenate: bool = False, examples: int = 1, filler: int = 1) -> dict[str, Any]:
    """A small valid source in the TOML shape (the same dict `load_source` returns)."""
    q = ("bakgrunn", "gjennomforing", "resultater", "spredning") if year == 2015 else (
        "beskrivelse", "nytt", "spredning")
    exs = []
    for i in range(1, examples + 1):
        exs.append({
            "title": f"Trygg på natta {i} – «sensorer» i heimen",
            "sectors": ["helse", "digitalisering"], "phase": "i_bruk",
            "answers": [
                {"question": q[0], "criteria": [],
                 "text": f"Blåbærsyltetøy og ærlig øl, eksempel {i}.\n\n" + FILLER * filler},
                {"question": q[1], "criteria": ["nyhet"],
                 "text": "Dette er nytt:\n- første punkt\n- andre punkt\n\n1. steg én\n2. steg to"},
                {"question": "fritekst", "criteria": ["verdi"], "text": "Fri tekst uten etikett, ÆØÅ."},
                {"question": q[-1], "criteria": ["spredning"], "text": FILLER * filler},
            ],
        })
        if year == 2015:
            exs[-1]["summary"] = "Kort om prosjektet med æøå."
    source: dict[str, Any] = {
        "year": year, "slug": "testvik", "municipality": "Ærøy kommune", "kommunenummer": "9999",
        "fylkesnummer": "99", "status": "applicant", "language": language, "layout": layout,
        "hyphenate": hyphenate, "contact_name": "Åse Prøvesen", "contact_title": "rådgiver",
        "contact_email": "ase.provesen@aeroy.kommune.example", "contact_phone": "99 00 00 01",
        "why_us_criteria": ["helhet"] if year != 2015 else [], "examples": exs,
    }
    if year != 2015:
        source["why_us"] = "Vi jobber helhetlig med innovasjon på tvers av sektorene."
    return source


def read(path: Path) -> pypdf.PdfReader:
    reader = pypdf.PdfReader(path)
    if reader.is_encrypted:
        assert reader.decrypt("")
    return reader


def page_texts(path: Path) -> list[str]:
    return [page.extract_text() for page in read(path).pages]


def lines_of(path: Path) -> list[str]:
    return [line.strip() for text in page_texts(path) for line in text.splitlines()]


def to_toml(source: dict[str, Any]) -> str:
    """Minimal TOML writer for test sources (JSON string escapes are valid TOML)."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v, ensure_ascii=False)

    out = [f"{k} = {value(v)}" for k, v in source.items() if k != "examples"]
    for ex in source["examples"]:
        out += ["", "[[examples]]"] + [f"{k} = {value(v)}" for k, v in ex.items() if k != "answers"]
        for answer in ex["answers"]:
            out += ["", "[[examples.answers]]"] + [f"{k} = {value(v)}" for k, v in answer.items()]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("layout", ["standard", "twocolumn", "encrypted"])
@pytest.mark.parametrize("language", ["nb", "nn"])
def test_text_layouts_print_labels_header_footer(tmp_path: Path, layout: str, language: str) -> None:
    out = tmp_path / "a.pdf"
    pages = render_pdf(make_source(2017, language, layout, examples=2), out)
    texts = page_texts(out)
    assert len(texts) == pages
    lines = lines_of(out)
    for label in LABELS_2016[language]:
        assert label in lines, label
    assert "Innovasjonseksempel 2: Trygg på natta 2 – «sensorer» i heimen" in lines
    assert "Blåbærsyltetøy og ærlig øl, eksempel 1." in lines
    assert "Fri tekst uten etikett, ÆØÅ." in lines
    assert "• første punkt" in lines and "2. steg to" in lines
    word = "fra" if language == "nb" else "frå"
    for n, text in enumerate(texts, 1):
        page_lines = [line.strip() for line in text.splitlines()]
        assert page_lines[0] == f"Innovasjonsprisen 2017 – søknad {word} Ærøy kommune"
        assert page_lines[-1] == f"Side {n} av {pages}"


@pytest.mark.parametrize("language", ["nb", "nn"])
def test_2015_form(tmp_path: Path, language: str) -> None:
    out = tmp_path / "a.pdf"
    render_pdf(make_source(2015, language), out)
    lines = lines_of(out)
    subtitle = {"nb": "Søknadsskjema – ett skjema per prosjekt", "nn": "Søknadsskjema – eitt skjema per prosjekt"}
    assert lines[1:3] == ["Søknad om KMDs innovasjonspris 2015", subtitle[language]]
    positions = [lines.index(label) for label in LABELS_2015[language]]
    assert positions == sorted(positions)
    assert lines[lines.index(LABELS_2015[language][1]) + 1] == "Trygg på natta 1 – «sensorer» i heimen"
    assert lines.index("Fri tekst uten etikett, ÆØÅ.") > positions[-1]


def test_contact_answer_and_metadata(tmp_path: Path) -> None:
    out = tmp_path / "a.pdf"
    render_pdf(make_source(), out)
    lines = lines_of(out)
    assert lines[lines.index("2. Kontaktperson") + 1] == "Åse Prøvesen, rådgiver"
    meta = read(out).metadata
    assert meta.title == "Søknad om KMDs innovasjonspris 2017 – Ærøy kommune"
    assert meta.author == "Ærøy kommune"
    assert meta.subject == "Illustrativt eksempel laget for Innosøk (ikke en ekte søknad)"
    assert meta.creator == "Innosøk eksempelkorpus"


@pytest.mark.parametrize("layout", ["standard", "encrypted", "formfields"])
def test_same_source_gives_identical_bytes(tmp_path: Path, layout: str) -> None:
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    render_pdf(make_source(layout=layout, examples=2), a)
    render_pdf(make_source(layout=layout, examples=2), b)
    assert a.read_bytes() == b.read_bytes()


def test_scanned_has_no_text_layer(tmp_path: Path) -> None:
    out = tmp_path / "a.pdf"
    pages = render_pdf(make_source(layout="scanned"), out)
    reader = read(out)
    assert len(reader.pages) == pages
    for page in reader.pages:
        assert page.extract_text().strip() == ""
        assert "/Font" not in page["/Resources"]
        images = [x.get_object() for x in page["/Resources"]["/XObject"].values()]
        assert [im["/Filter"] for im in images] == ["/DCTDecode"]
    assert out.stat().st_size < 250_000 * pages


@pytest.mark.parametrize("language", ["nb", "nn"])
def test_formfields_hold_the_answers(tmp_path: Path, language: str) -> None:
    out = tmp_path / "a.pdf"
    render_pdf(make_source(2017, language, "formfields"), out)
    reader = read(out)
    fields = reader.get_fields()
    assert fields is not None
    assert fields["felt1_kommune"]["/V"] == "Ærøy kommune"
    assert fields["felt2_kontaktperson"]["/V"] == "Åse Prøvesen, rådgiver"
    label5 = LABELS_2016[language][4]
    assert fields["felt5_hvorfor"]["/TU"] == label5
    assert fields["eks1_tittel"]["/V"] == "Trygg på natta 1 – «sensorer» i heimen"
    assert fields["eks1_tittel"]["/TU"] == "Innovasjonseksempel 1"
    assert fields["eks1_a"]["/TU"] == "a) Beskriv innovasjonen kort"
    assert fields["eks1_a"]["/V"].startswith("Blåbærsyltetøy og ærlig øl, eksempel 1.\n\n")
    assert fields["eks1_b"]["/V"] == "Dette er nytt:\n- første punkt\n- andre punkt\n\n1. steg én\n2. steg to"
    assert all(name.isascii() for name in fields)
    text = "\n".join(page_texts(out))
    assert label5 in text and "a) Beskriv innovasjonen kort" in text
    assert "Ærøy kommune\n" not in text.split("\n", 1)[1]  # only in the running header
    assert "Blåbærsyltetøy" not in text and "Prøvesen" not in text


def test_encrypted_opens_with_empty_password(tmp_path: Path) -> None:
    out = tmp_path / "a.pdf"
    render_pdf(make_source(layout="encrypted"), out)
    reader = pypdf.PdfReader(out)
    assert reader.is_encrypted
    assert reader.trailer["/Encrypt"]["/CF"]["/StdCF"]["/CFM"] == "/AESV2"
    assert reader.decrypt("") == pypdf.PasswordType.USER_PASSWORD
    assert "1. Kommune" in reader.pages[0].extract_text()
    assert pypdf.PdfReader(out).decrypt("innosok-eier") == pypdf.PasswordType.OWNER_PASSWORD


@pytest.mark.parametrize("language", ["nb", "nn"])
def test_letter_has_no_form_labels(tmp_path: Path, language: str) -> None:
    out = tmp_path / "a.pdf"
    render_pdf(make_source(2017, language, "letter", examples=2), out)
    lines = lines_of(out)
    assert lines[1] == "Ærøy kommune"
    assert "Ærøy, 28. februar 2017" in lines
    assert "Til juryen for KMDs innovasjonspris 2017" in lines
    assert "Trygg på natta 1 – «sensorer» i heimen" in lines
    assert "Vi jobber helhetlig med innovasjon på tvers av sektorene." in lines
    assert not {"1. Kommune", "a) Beskriv innovasjonen kort"} & set(lines)
    assert not any(line.startswith("Innovasjonseksempel") for line in lines)
    greeting = "Med vennlig hilsen" if language == "nb" else "Med venleg helsing"
    tail = lines[lines.index(greeting):]
    assert tail[1:4] == ["Åse Prøvesen", "rådgiver", "Ærøy kommune"]
    assert "E-post: ase.provesen@aeroy.kommune.example" in tail and "Telefon: 99 00 00 01" in tail


def test_hyphenate_breaks_long_words_at_line_ends(tmp_path: Path) -> None:
    words = ["kommunesammenslåingen", "og", "velferdsteknologiprosjektet", "gir", "innbyggerdialogen", "nytt", "liv"]
    source = make_source(hyphenate=True)
    source["why_us"] = " ".join(words * 12)
    out = tmp_path / "a.pdf"
    render_pdf(source, out)
    text = "\n".join(page_texts(out))
    breaks = [line for line in text.splitlines() if line.rstrip().endswith("-") and line.rstrip()[-2].isalpha()]
    assert breaks, "expected at least one hyphenated line end"
    joined = text.replace("-\n", "")
    assert joined.count("velferdsteknologiprosjektet") == 12
    assert joined.count("kommunesammenslåingen") == 12
    plain = tmp_path / "b.pdf"
    render_pdf(source | {"hyphenate": False}, plain)
    assert not any(line.rstrip().endswith("-") for text in page_texts(plain) for line in text.splitlines())


def test_hyphenation_points() -> None:
    assert hyphenate_all("velferdsteknologi") == "vel-ferds-tek-no-logi"
    assert hyphenate_all("organisasjonen") == "orga-ni-sa-sjo-nen"
    assert hyphenate_all("kommunestyre") == "kom-mu-ne-styre"
    assert hyphenate_all("kortord") == "kortord"


def test_text_blocks_paragraphs_bullets_numbers() -> None:
    blocks = text_blocks("Første linje\nsamme avsnitt.\n\nInnledning:\n- a\n  fortsatt a\n- b\n\n3. tre\n10. ti")
    assert [(b.kind, b.text, b.marker) for b in blocks] == [
        ("para", "Første linje samme avsnitt.", ""), ("para", "Innledning:", ""),
        ("bullet", "a fortsatt a", ""), ("bullet", "b", ""),
        ("numbered", "tre", "3."), ("numbered", "ti", "10."),
    ]


def test_load_source_reports_file_and_reason(tmp_path: Path) -> None:
    bad = make_source()
    bad["examples"][0]["answers"][0]["question"] = "hvorfor"
    path = tmp_path / "2017-testvik.toml"
    path.write_text(to_toml(bad), encoding="utf-8")
    with pytest.raises(SourceError, match=r"2017-testvik\.toml: .*question 'hvorfor'"):
        load_source(path)
    wrong_name = tmp_path / "2017-annet.toml"
    wrong_name.write_text(to_toml(make_source()), encoding="utf-8")
    with pytest.raises(SourceError, match="file name must be 2017-testvik.toml"):
        load_source(wrong_name)
    good = tmp_path / "ok" / "2017-testvik.toml"
    good.parent.mkdir()
    good.write_text(to_toml(make_source()), encoding="utf-8")
    assert load_source(good) == make_source()


def test_render_refuses_characters_outside_winansi(tmp_path: Path) -> None:
    source = make_source()
    source["why_us"] = "Pil → fram"
    with pytest.raises(SourceError, match="U\\+2192"):
        render_pdf(source, tmp_path / "a.pdf")


def test_build_corpus_writes_pdfs_manifest_and_gold(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "sources" / "2017").mkdir(parents=True)
    (root / "sources" / "2015").mkdir(parents=True)
    (root / "sources" / "2017" / "2017-testvik.toml").write_text(to_toml(make_source(examples=2)), encoding="utf-8")
    s2015 = make_source(2015, "nn") | {"slug": "testvik-2", "kommunenummer": ""}
    (root / "sources" / "2015" / "2015-testvik-2.toml").write_text(to_toml(s2015), encoding="utf-8")
    (root / "sources" / "2015" / "2015-broken.toml").write_text("year = 2015\n", encoding="utf-8")

    report = build_corpus(root)
    assert [p.name for p in report.rendered] == ["2015-testvik-2.pdf", "2017-testvik.pdf"]
    assert [(p.name, "slug" in reason) for p, reason in report.failed] == [("2015-broken.toml", True)]
    manifest = list(csv.DictReader(io.StringIO((root / "manifest.csv").read_text(encoding="utf-8"))))
    assert [r["file"] for r in manifest] == ["pdf/2015/2015-testvik-2.pdf", "pdf/2017/2017-testvik.pdf"]
    row = manifest[1]
    assert (row["municipality"], row["kommunenummer"], row["language"], row["examples"], row["illustrative"]) == (
        "Ærøy kommune", "9999", "nb", "2", "ja")
    assert manifest[0]["kommunenummer"] == ""
    assert int(row["pages"]) == len(read(root / row["file"]).pages)
    examples = list(csv.DictReader(io.StringIO((root / "gold" / "examples.csv").read_text(encoding="utf-8"))))
    assert examples[1] == {"file": "pdf/2017/2017-testvik.pdf", "example": "1",
                           "title": "Trygg på natta 1 – «sensorer» i heimen",
                           "sectors": "helse;digitalisering", "phase": "i_bruk"}
    answers = list(csv.DictReader(io.StringIO((root / "gold" / "answers.csv").read_text(encoding="utf-8"))))
    why = [a for a in answers if a["example"] == "0"]
    assert [(a["file"], a["question"], a["criteria"]) for a in why] == [
        ("pdf/2017/2017-testvik.pdf", "why_us", "helhet")]
    assert len(answers) == 1 + 2 * 4 + 4
    assert answers[-1]["text"] == FILLER.strip()
    assert (root / "gold" / "README.md").exists()

    before = (root / "pdf" / "2017" / "2017-testvik.pdf").stat().st_mtime_ns
    partial = build_corpus(root, only="2015-*")
    assert [p.name for p in partial.rendered] == ["2015-testvik-2.pdf"]
    assert [p.name for p in partial.kept] == ["2017-testvik.pdf"]
    assert (root / "pdf" / "2017" / "2017-testvik.pdf").stat().st_mtime_ns == before
    assert (root / "manifest.csv").read_text(encoding="utf-8").count("\n") == 3
