"""Enrich stage: a parsed form plus the manifest and the register become the Application record.

This is where ids are minted: from the PDF's bytes, so the same file always gives the same ids.
"""

from __future__ import annotations

import re

from ingest.manifest import ManifestEntry
from ingest.parse import ParsedApplication
from ingest.records import Application, ExtractedDocument, InnovationExample, Passage, Section
from ingest.register import Register

_NYNORSK_MARKERS = re.compile(r"\b(ikkje|kva|korleis|kvifor|eit|dykkar|tenester|heimetenesta|skule|ho|frå|også)\b", re.I)
_BOKMAL_MARKERS = re.compile(r"\b(ikke|hva|hvordan|hvorfor|et|deres|tjenester|hjemmetjenesten|skole|hun|fra)\b", re.I)


def guess_language(text: str) -> str:
    """'nn' or 'nb' by counting words only one of the two written standards uses."""
    nn = len(_NYNORSK_MARKERS.findall(text)) - text.lower().count("også")
    nb = len(_BOKMAL_MARKERS.findall(text))
    return "nn" if nn > nb else "nb"


def _year(parsed: ParsedApplication, entry: ManifestEntry | None, file: str) -> int | None:
    if entry and entry.year:
        return entry.year
    if parsed.year_in_text:
        return parsed.year_in_text
    m = re.search(r"(20[12]\d)", file)
    return int(m.group(1)) if m else None


def _passages(example_id: str, sections: tuple[Section, ...]) -> tuple[Passage, ...]:
    out: list[Passage] = []
    for section in sections:
        for para in (p for p in section.text.split("\n\n") if p.strip()):
            n = len(out) + 1
            crit = (section.criterion,) if section.criterion else ()
            out.append(Passage(f"{example_id}-p{n:02d}", example_id, section.question, para.strip(),
                               section.page_start, n, crit))
    return tuple(out)


def enrich(
    doc: ExtractedDocument,
    parsed: ParsedApplication,
    file: str,
    entry: ManifestEntry | None,
    register: Register,
) -> Application:
    """Build the Application: ids from the file hash, municipality then and now, status and language."""
    app_id = doc.sha256[:12]
    year = _year(parsed, entry, file)
    written = parsed.municipality_written or (entry.municipality if entry else "")
    if not written:
        written = _municipality_in_text(doc, register, year)
    municipality = register.municipality(
        written or "", year, number=entry.kommunenummer if entry else "",
        county_number=entry.fylkesnummer if entry else "")
    examples = []
    for ex in parsed.examples:
        ex_id = f"{app_id}-{ex.number}"
        examples.append(InnovationExample(
            id=ex_id, application_id=app_id, number=ex.number, title=ex.title or "(uten tittel)",
            sections=ex.sections, passages=_passages(ex_id, ex.sections),
            page_start=ex.page_start, page_end=ex.page_end,
        ))
    language = (entry.language if entry and entry.language else "") or guess_language(doc.text)
    return Application(
        id=app_id,
        file=file,
        sha256=doc.sha256,
        year=year,
        form=parsed.form,
        municipality=municipality,
        contact=parsed.contact,
        why_us=parsed.why_us,
        status=(entry.status if entry and entry.status else "applicant"),
        language=language,
        page_count=parsed.page_count,
        illustrative=bool(entry and entry.illustrative),
        examples=tuple(examples),
        text_from_ocr=doc.method == "ocr",
    )


def _municipality_in_text(doc: ExtractedDocument, register: Register, year: int | None) -> str:
    """'<Name> kommune' on the first page, if the register knows the name."""
    first = doc.pages[0].text if doc.pages else ""
    for m in re.finditer(r"([A-ZÆØÅ][\wæøåÆØÅ\-]+(?: [A-ZÆØÅ][\wæøåÆØÅ\-]+)?) (?:fylkes)?kommune", first):
        if register.by_name(m.group(1), year) or "fylkeskommune" in m.group(0):
            return m.group(0)
    return ""


