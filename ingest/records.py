"""The records that flow through the pipeline: extract → parse → enrich → tag → write.

Every record is a frozen dataclass so a stage can never change what an earlier stage produced, and
every id is derived from content (the PDF's bytes) so that ingesting the same file again gives the
same ids — curators' decisions attach to them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any, Mapping, TypeVar

T = TypeVar("T")


def short_hash(*parts: str, length: int = 12) -> str:
    """A short, stable hex id from text parts (sha256, so ids never change between runs or machines)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


@dataclass(frozen=True)
class PageText:
    """The text of one PDF page (1-based), as extracted."""

    number: int
    text: str


@dataclass(frozen=True)
class ExtractedDocument:
    """What the extract stage got out of one PDF: text per page plus how it was read."""

    path: str
    sha256: str
    pages: tuple[PageText, ...]
    method: str = "pypdf"
    encrypted: bool = False

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.pages)


@dataclass(frozen=True)
class Problem:
    """A file that was not indexed, with a reason a municipal employee understands."""

    file: str
    kind: str  # one of ingest.errors.PROBLEM_KINDS
    message: str  # Norwegian, for people
    detail: str = ""  # technical, for operators


@dataclass(frozen=True)
class Contact:
    """The contact person named in an application (who to call)."""

    name: str = ""
    title: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Municipality:
    """The applicant in the municipality register: then (the year it applied) and now (2024 structure)."""

    written: str
    kind: str = "kommune"  # kommune | fylkeskommune | bydel
    number: str = ""  # kommunenummer valid in the application year ("" for a county municipality)
    name: str = ""  # register name at the time
    county_number: str = ""
    county: str = ""
    today_numbers: tuple[str, ...] = ()
    today_names: tuple[str, ...] = ()
    today_county: str = ""
    former_names: tuple[str, ...] = ()  # other names the same place had 2015–2024
    population: int | None = None
    population_year: int | None = None
    centrality: int | None = None  # SSB sentralitet 1–6 of today's municipality
    kostragruppe: str = ""

    @property
    def all_names(self) -> tuple[str, ...]:
        """Every name a searcher might use for this applicant: as written, then, today, former."""
        names: list[str] = []
        for n in (self.written, self.name, *self.today_names, *self.former_names):
            if n and n not in names:
                names.append(n)
        return tuple(names)


@dataclass(frozen=True)
class Tag:
    """A sector, criterion or phase label on an example, with its confidence and the evidence for it."""

    kind: str  # sector | criterion | phase
    label: str  # id from the taxonomy, e.g. "helse"
    confidence: float = 1.0
    source: str = "regel"  # regel (rule), modell (classifier), skjema (form question), kurator (curator)
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """One answer in an application form: the question it answers and the text."""

    question: str  # question id, e.g. "nytt"; "fritekst" for unlabelled text
    label: str  # the label as printed in the PDF
    text: str
    criterion: str | None = None  # the jury criterion the question asks about, if the form says
    page_start: int = 1
    page_end: int = 1


@dataclass(frozen=True)
class Passage:
    """One paragraph of an answer: the unit of snippets and of tag evidence."""

    id: str
    example_id: str
    question: str
    text: str
    page: int
    ordinal: int
    criteria: tuple[str, ...] = ()


@dataclass(frozen=True)
class InnovationExample:
    """The unit people search for: one innovation described in an application."""

    id: str
    application_id: str
    number: int  # 1–3 within the application
    title: str
    sections: tuple[Section, ...]
    passages: tuple[Passage, ...] = ()
    page_start: int = 1
    page_end: int = 1
    tags: tuple[Tag, ...] = ()
    recommended: bool = False  # "anbefalt eksempel": marked by a curator (ingest/curation.py)
    automatic_tags: tuple[Tag, ...] = ()  # the tagger's tags when a curator's decision replaced them (review, undo)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)

    def labels(self, kind: str) -> tuple[str, ...]:
        return tuple(t.label for t in self.tags if t.kind == kind)


@dataclass(frozen=True)
class Application:
    """One application PDF (søknad): a municipality's answer to one year's form."""

    id: str
    file: str  # path relative to the corpus folder
    sha256: str
    year: int | None
    form: str  # "2015" (one form per project), "2016-2019" (per municipality), "fritt" (no form found)
    municipality: Municipality
    contact: Contact = field(default_factory=Contact)
    why_us: str = ""
    status: str = "applicant"  # winner | finalist | applicant
    language: str = ""  # nb | nn, from the manifest or guessed
    page_count: int = 0
    illustrative: bool = False  # True for the bundled sample corpus
    examples: tuple[InnovationExample, ...] = ()
    text_from_ocr: bool = False  # read by OCR from page images: words may be misread


def to_dict(record: Any) -> dict[str, Any]:
    """A record as plain JSON-ready data (tuples become lists)."""
    return dataclasses.asdict(record)


def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """Rebuild a record from `to_dict` output, recursing into nested records and tuples of records."""
    nested = {
        Application: {"municipality": Municipality, "contact": Contact, "examples": InnovationExample},
        InnovationExample: {"sections": Section, "passages": Passage, "tags": Tag, "automatic_tags": Tag},
        ExtractedDocument: {"pages": PageText},
    }.get(cls, {})
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        value = data[f.name]
        inner = nested.get(f.name)
        if inner is not None and isinstance(value, (list, tuple)):
            value = tuple(from_dict(inner, v) for v in value)
        elif inner is not None and isinstance(value, Mapping):
            value = from_dict(inner, value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)
