"""The form's text: labels in bokmål and nynorsk, and a source turned into blocks.

The ingest parser (written separately) relies on these labels character for character,
so every printed string lives here, in one place, and the drawing code in `pdf.py` only
decides how a block looks. A block list is a neutral description of one application:
`pdf.py` draws it, and tests can read it without a PDF.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .source import FREE_TEXT, QUESTIONS_2015, Answer, Example, Source

BlockKind = Literal[
    "title", "subtitle", "label", "heading", "sublabel", "para", "bullet", "numbered",
    "field", "columns", "letterhead", "dateline", "recipient", "letter_title", "signature",
]

QUESTION_LABELS: dict[str, dict[str, str]] = {
    "nb": {
        "beskrivelse": "Beskriv innovasjonen kort",
        "nytt": "Hva er nytt med løsningen?",
        "realisert": "Er løsningen tatt i bruk, og hvordan?",
        "verdi": "Hvilke resultater og hvilken verdi har innovasjonen skapt?",
        "arbeidsmater": "Hvordan har innovasjonen endret arbeidsmåter og samarbeid?",
        "spredning": "Kan løsningen tas i bruk av andre?",
    },
    "nn": {
        "beskrivelse": "Beskriv innovasjonen kort",
        "nytt": "Kva er nytt med løysinga?",
        "realisert": "Er løysinga teken i bruk, og korleis?",
        "verdi": "Kva resultat og kva verdi har innovasjonen skapt?",
        "arbeidsmater": "Korleis har innovasjonen endra arbeidsmåtar og samarbeid?",
        "spredning": "Kan løysinga takast i bruk av andre?",
    },
}

# 2016–2019 header fields: (field name, bokmål label, nynorsk label); {year} is filled in.
FIELDS_2016 = (
    ("felt1_kommune", "1. Kommune", "1. Kommune"),
    ("felt2_kontaktperson", "2. Kontaktperson", "2. Kontaktperson"),
    ("felt3_epost", "3. E-post", "3. E-post"),
    ("felt4_telefon", "4. Telefon", "4. Telefon"),
    ("felt5_hvorfor",
     "5. Fortell oss kort hvorfor akkurat deres kommune fortjener Innovasjonsprisen {year}",
     "5. Fortel oss kort kvifor akkurat dykkar kommune fortener Innovasjonsprisen {year}"),
)

# 2015: one form per project, ten numbered fields.
FIELDS_2015 = (
    ("felt1_kommune", "1. Kommune", "1. Kommune"),
    ("felt2_prosjektnavn", "2. Navn på prosjektet", "2. Namn på prosjektet"),
    ("felt3_beskrivelse", "3. Kort beskrivelse av prosjektet", "3. Kort skildring av prosjektet"),
    ("felt4_kontaktperson", "4. Kontaktperson", "4. Kontaktperson"),
    ("felt5_epost", "5. E-post", "5. E-post"),
    ("felt6_telefon", "6. Telefon", "6. Telefon"),
    ("felt7_bakgrunn", "7. Bakgrunn – Hvorfor gikk dere i gang?", "7. Bakgrunn – Kvifor gjekk de i gang?"),
    ("felt8_gjennomforing", "8. Hva er nytt, og hvordan har dere gått fram?",
     "8. Kva er nytt, og korleis har de gått fram?"),
    ("felt9_resultater", "9. Hvilke resultater har dere oppnådd?", "9. Kva resultat har de oppnådd?"),
    ("felt10_spredning", "10. Hvordan kan andre ta løsningen i bruk?",
     "10. Korleis kan andre ta løysinga i bruk?"),
)
HEADER_FIELD_COUNT_2015 = 6  # fields 1–6 describe the applicant; 7–10 are the project sections

_BULLET = re.compile(r"^\s*-\s+(.*)$")
_NUMBERED = re.compile(r"^\s*(\d{1,2})\.\s+(.*)$")


@dataclass(frozen=True)
class FieldSpec:
    """An AcroForm text field (layout `formfields`): ASCII name, tooltip = printed label."""

    name: str
    tooltip: str
    value: str


@dataclass(frozen=True)
class Block:
    """One printed unit: `text` is plain text (no markup); `marker` is a list item's number."""

    kind: BlockKind
    text: str = ""
    marker: str = ""
    field: FieldSpec | None = None


def _label(labels: tuple[str, str, str], source: Source) -> str:
    return (labels[1] if source.language == "nb" else labels[2]).format(year=source.year)


def header_text(source: Source) -> str:
    """Running header of every page."""
    word = "fra" if source.language == "nb" else "frå"
    return f"Innovasjonsprisen {source.year} – søknad {word} {source.municipality}"


def footer_text(page: int, total: int) -> str:
    """Running footer (the same words in bokmål and nynorsk)."""
    return f"Side {page} av {total}"


def title_text(source: Source) -> str:
    """Page 1 title, also the PDF title without the municipality."""
    return f"Søknad om KMDs innovasjonspris {source.year}"


def subtitle_text(source: Source) -> str:
    if not source.is_2015_form:
        return "Søknadsskjema"
    if source.language == "nb":
        return "Søknadsskjema – ett skjema per prosjekt"
    return "Søknadsskjema – eitt skjema per prosjekt"


def metadata(source: Source) -> dict[str, str]:
    """Document information: fixed strings only, so the bytes stay reproducible."""
    return {
        "title": f"{title_text(source)} – {source.municipality}",
        "author": source.municipality,
        "subject": "Illustrativt eksempel laget for Innosøk (ikke en ekte søknad)",
        "creator": "Innosøk eksempelkorpus",
    }


def contact_line(source: Source) -> str:
    return f"{source.contact_name}, {source.contact_title}" if source.contact_title else source.contact_name


def text_blocks(text: str) -> list[Block]:
    """Split answer text: blank lines part paragraphs, '- ' bullets, '1. ' numbered items.

    Consecutive plain lines join into one paragraph (sources may be hard-wrapped); an
    indented line right after a list item continues that item.
    """
    blocks: list[Block] = []
    for chunk in re.split(r"\n[ \t]*\n", text.strip()):
        plain: list[str] = []

        def flush() -> None:
            if plain:
                blocks.append(Block("para", " ".join(plain)))
                plain.clear()

        for line in chunk.splitlines():
            if not line.strip():
                continue
            if (bullet := _BULLET.match(line)) is not None:
                flush()
                blocks.append(Block("bullet", bullet.group(1).strip()))
            elif (numbered := _NUMBERED.match(line)) is not None:
                flush()
                blocks.append(Block("numbered", numbered.group(2).strip(), marker=f"{numbered.group(1)}."))
            elif line[:1] in " \t" and not plain and blocks and blocks[-1].kind in ("bullet", "numbered"):
                last = blocks.pop()
                blocks.append(Block(last.kind, f"{last.text} {line.strip()}", marker=last.marker))
            else:
                plain.append(line.strip())
        flush()
    return blocks


def answer_letters(example: Example) -> list[str]:
    """'a', 'b', ... for labelled answers in source order; '' for `fritekst` answers."""
    letters, n = [], 0
    for answer in example.answers:
        if answer.question == FREE_TEXT:
            letters.append("")
        else:
            letters.append(chr(ord("a") + n))
            n += 1
    return letters


class _Builder:
    """Builds the block list of one form, printed (answers as text) or with form fields."""

    def __init__(self, source: Source, fields: bool) -> None:
        self.source = source
        self.fields = fields
        self.blocks: list[Block] = []
        self.names: set[str] = set()

    def unique(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self.names:
            n += 1
            candidate = f"{name}_{n}"
        self.names.add(candidate)
        return candidate

    def answer(self, text: str, name: str, tooltip: str) -> None:
        """The answer to a label: paragraphs, or one form field holding the whole text."""
        if self.fields:
            self.blocks.append(Block("field", field=FieldSpec(self.unique(name), tooltip, text.strip())))
        else:
            self.blocks.extend(text_blocks(text))

    def labelled(self, kind: BlockKind, label: str, text: str, name: str) -> None:
        self.blocks.append(Block(kind, label))
        self.answer(text, name, label)

    def title(self) -> None:
        self.blocks += [Block("title", title_text(self.source)), Block("subtitle", subtitle_text(self.source))]


def form_blocks(source: Source, *, fields: bool = False, columns: bool = False) -> list[Block]:
    """The whole form; `fields` puts answers in AcroForm fields, `columns` marks where the
    two-column part starts (a `columns` block: everything after it is set in two columns)."""
    build = _Builder(source, fields)
    build.title()
    if source.is_2015_form:
        _form_2015(build, columns)
    else:
        _form_2016(build, columns)
    return build.blocks


def _form_2016(build: _Builder, columns: bool) -> None:
    source = build.source
    values = (source.municipality, contact_line(source), source.contact_email, source.contact_phone, source.why_us)
    for spec, value in zip(FIELDS_2016, values):
        build.labelled("label", _label(spec, source), value, spec[0])
    if columns:
        build.blocks.append(Block("columns"))
    labels = QUESTION_LABELS[source.language]
    for i, example in enumerate(source.examples, 1):
        if build.fields:
            build.labelled("heading", f"Innovasjonseksempel {i}", example.title, f"eks{i}_tittel")
        else:
            build.blocks.append(Block("heading", f"Innovasjonseksempel {i}: {example.title}"))
        free = 0
        for answer, letter in zip(example.answers, answer_letters(example)):
            if letter:
                build.labelled("sublabel", f"{letter}) {labels[answer.question]}", answer.text, f"eks{i}_{letter}")
            else:
                free += 1
                build.answer(answer.text, f"eks{i}_fritekst{free}", "")


def _form_2015(build: _Builder, columns: bool) -> None:
    source = build.source
    example = source.examples[0]
    values = (source.municipality, example.title, example.summary, contact_line(source),
              source.contact_email, source.contact_phone)
    for spec, value in zip(FIELDS_2015, values):
        build.labelled("label", _label(spec, source), value, spec[0])
    if columns:
        build.blocks.append(Block("columns"))
    for spec, question in zip(FIELDS_2015[HEADER_FIELD_COUNT_2015:], QUESTIONS_2015):
        build.blocks.append(Block("label", _label(spec, source)))
        answers = _answers_to(example.answers, question)
        for answer in answers:
            build.answer(answer.text, spec[0], _label(spec, source))
        if not answers and build.fields:  # an unanswered form field is still there, empty
            build.answer("", spec[0], _label(spec, source))
    for n, answer in enumerate(_answers_to(example.answers, FREE_TEXT), 1):
        build.answer(answer.text, f"felt_fritekst{n}", "")


def _answers_to(answers: tuple[Answer, ...], question: str) -> list[Answer]:
    return [a for a in answers if a.question == question]


def place_name(municipality: str) -> str:
    """'Hamar kommune' -> 'Hamar'; 'Bydel Alna, Oslo kommune' -> 'Oslo'; county names stay whole."""
    name = municipality.split(",")[-1].strip()
    if name.endswith(" kommune") and not name.endswith("fylkeskommune"):
        return name[: -len(" kommune")]
    return name


def letter_blocks(source: Source) -> list[Block]:
    """Layout `letter`: no form, no labels; a letter from the municipality to the jury."""
    blocks = [
        Block("letterhead", source.municipality),
        Block("dateline", f"{place_name(source.municipality)}, 28. februar {source.year}"),
        Block("recipient", f"Til juryen for KMDs innovasjonspris {source.year}"),
        Block("letter_title", source.examples[0].title),
    ]
    signed = False
    for i, example in enumerate(source.examples):
        if i:
            blocks.append(Block("letter_title", example.title))
        texts = [source.why_us] if i == 0 and source.why_us else []
        texts += [example.summary] if example.summary else []
        for text in texts + [answer.text for answer in example.answers]:
            body, closing = _split_closing(text)
            blocks += text_blocks(body) if body else []
            blocks += [Block("signature", line) for line in closing]
            signed = signed or bool(closing)
    greeting = "Med vennlig hilsen" if source.language == "nb" else "Med venleg helsing"
    if not signed:
        blocks.append(Block("signature", greeting))
    blocks.append(Block("signature", ""))  # room for the handwritten signature
    contact = [source.contact_name, source.contact_title, "" if signed else source.municipality,
               f"E-post: {source.contact_email}", f"Telefon: {source.contact_phone}"]
    blocks += [Block("signature", line) for line in contact if line]
    return blocks


_CLOSING = re.compile(r"^(med (venn?lig|venn?leg) (hilsen|helsing)|vennlig hilsen|venleg helsing)\b",
                      re.IGNORECASE)


def _split_closing(text: str) -> tuple[str, list[str]]:
    """A source text may end with its own closing ("Med vennlig hilsen\nHamar kommune"):
    keep its lines as lines, and let the letter not greet twice."""
    chunks = re.split(r"\n[ \t]*\n", text.strip())
    if len(chunks) > 0 and _CLOSING.match(chunks[-1].strip()):
        return "\n\n".join(chunks[:-1]), [line.strip() for line in chunks[-1].splitlines() if line.strip()]
    return text, []
