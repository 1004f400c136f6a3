"""Parse stage: page texts in, the application form's parts out.

Two form generations exist: 2015 (one form per project, numbered fields 1–7 and more) and 2016–2019
(one form per municipality: fields 1–5, then one to three innovation examples). Labels are found in
the text, tolerant of nynorsk wording, line wraps and missing numbers; a document with no form is
kept as one free-form example rather than dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ingest.records import Contact, ExtractedDocument, PageText, Section

# -- labels ---------------------------------------------------------------------------------------

_WS = r"[ \t]*"


def _flex(words: str) -> str:
    """A label as a regex that allows any whitespace (including a line wrap) between words."""
    return r"\s+".join(re.escape(w) for w in words.split())


def _alt(*variants: str) -> str:
    return "(?:" + "|".join(_flex(v) for v in variants) + ")"


# 2016–2019 head fields. Field 5 may wrap over two lines and ends with the year.
HEAD_FIELDS_2016: tuple[tuple[str, str], ...] = (
    ("kommune", r"1\.?\s*" + _alt("Kommune", "Kommune/fylkeskommune", "Søker", "Søkar")),
    ("kontaktperson", r"2\.?\s*" + _alt("Kontaktperson")),
    ("epost", r"3\.?\s*" + _alt("E-post", "Epost", "E-postadresse")),
    ("telefon", r"4\.?\s*" + _alt("Telefon", "Telefonnummer", "Mobil")),
    ("hvorfor", r"5\.?\s*" + _alt("Fortell oss kort hvorfor", "Fortel oss kort kvifor")
     + r"[\s\S]{0,120}?" + _alt("Innovasjonsprisen", "innovasjonsprisen") + r"(?:\s+\d{4})?\s*\??"),
)

HEAD_FIELDS_2015: tuple[tuple[str, str], ...] = (
    ("kommune", r"1\.?\s*" + _alt("Kommune", "Søker", "Søkar")),
    ("prosjekt", r"2\.?\s*" + _alt("Navn på prosjektet", "Namn på prosjektet")),
    ("sammendrag", r"3\.?\s*" + _alt("Kort beskrivelse av prosjektet", "Kort skildring av prosjektet")),
    ("kontaktperson", r"4\.?\s*" + _alt("Kontaktperson")),
    ("epost", r"5\.?\s*" + _alt("E-post", "Epost")),
    ("telefon", r"6\.?\s*" + _alt("Telefon", "Telefonnummer")),
    ("bakgrunn", r"7\.?\s*" + _alt("Bakgrunn – Hvorfor gikk dere i gang?", "Bakgrunn - Hvorfor gikk dere i gang?",
                                   "Bakgrunn – Kvifor gjekk de i gang?", "Bakgrunn - Kvifor gjekk de i gang?",
                                   "Bakgrunn")),
    ("gjennomforing", r"8\.?\s*" + _alt("Hva er nytt, og hvordan har dere gått fram?",
                                        "Kva er nytt, og korleis har de gått fram?")),
    ("resultater", r"9\.?\s*" + _alt("Hvilke resultater har dere oppnådd?", "Kva resultat har de oppnådd?")),
    ("spredning", r"10\.?\s*" + _alt("Hvordan kan andre ta løsningen i bruk?", "Korleis kan andre ta løysinga i bruk?")),
)

# Sub-questions of an innovation example (2016–2019) and the criterion each asks about.
QUESTIONS_2016: tuple[tuple[str, str, str | None], ...] = (
    ("beskrivelse", _alt("Beskriv innovasjonen kort", "Kort beskrivelse", "Kort skildring"), None),
    ("nytt", _alt("Hva er nytt med løsningen?", "Kva er nytt med løysinga?", "Hva er nytt?", "Kva er nytt?"), "nyhet"),
    ("realisert", _alt("Er løsningen tatt i bruk, og hvordan?", "Er løysinga teken i bruk, og korleis?",
                       "Er løsningen tatt i bruk?", "Er løysinga teken i bruk?"), "realisert"),
    ("verdi", _alt("Hvilke resultater og hvilken verdi har innovasjonen skapt?",
                   "Kva resultat og kva verdi har innovasjonen skapt?", "Resultater og verdi"), "verdi"),
    ("arbeidsmater", _alt("Hvordan har innovasjonen endret arbeidsmåter og samarbeid?",
                          "Korleis har innovasjonen endra arbeidsmåtar og samarbeid?"), "arbeidsmater"),
    ("spredning", _alt("Kan løsningen tas i bruk av andre?", "Kan løysinga takast i bruk av andre?"), "spredning"),
)

QUESTION_CRITERION_2015: dict[str, str | None] = {
    "bakgrunn": None,
    "gjennomforing": None,
    "resultater": "verdi",
    "spredning": "spredning",
}

_EXAMPLE_HEADER = re.compile(
    r"(?im)^[ \t]*(?:\d+\.?[ \t]*)?(?:innovasjons)?eksempel[ \t]*(?:nr\.?[ \t]*)?(?P<n>[1-3])"
    r"[ \t]*(?:[:.\-–][ \t]*(?P<title>[^\n]*))?$"
)
_SUBQ_PREFIX = r"(?:[a-hA-H]\)[ \t]*|\d\.\d[ \t]*)?"

_PAGE_NUMBER = re.compile(r"^\s*(?:(?:side|page|s\.)\s*\d+(?:\s*(?:av|of|/)\s*\d+)?|-?\s*\d{1,3}\s*-?)\s*$", re.I)
_BULLET = re.compile(r"^\s*(?:[•·▪◦‣\-–*]|\d{1,2}[.)])\s+")
_SENTENCE_END = re.compile(r"[.!?:;»\")]\s*$")
_KEEP_HYPHEN_BEFORE = {"og", "eller", "som", "til", "i", "å", "på", "and", "or"}
_EMAIL = re.compile(r"[\w.+\-æøåÆØÅ]+@[\w\-æøåÆØÅ]+(?:\.[\w\-æøåÆØÅ]+)+")
_APPLICANT = re.compile(r"(?:Bydel [A-ZÆØÅ][\wæøå\-]+, )?[A-ZÆØÅ][\wæøåÆØÅ\-]+(?: [A-ZÆØÅ][\wæøåÆØÅ\-]+)? (?:fylkes)?kommune")
_PHONE = re.compile(r"(?:\+47[ \t]?)?(?:\d[ \t]?){8}\b")


@dataclass(frozen=True)
class Line:
    """One text line and the page it sits on."""

    text: str
    page: int
    full: int = 0  # length of a full line on this page (0: unknown)


@dataclass(frozen=True)
class ParsedExample:
    """An innovation example as found in the form, before ids and enrichment."""

    number: int
    title: str
    sections: tuple[Section, ...]
    page_start: int
    page_end: int


@dataclass(frozen=True)
class ParsedApplication:
    """What the form says, before the municipality register and the manifest are consulted."""

    form: str  # "2015", "2016-2019" or "fritt"
    municipality_written: str
    contact: Contact
    why_us: str
    why_us_page: int
    examples: tuple[ParsedExample, ...]
    year_in_text: int | None
    page_count: int


# -- cleaning -------------------------------------------------------------------------------------


def _is_label(line: str) -> bool:
    """A form label can open many pages by chance; it is never a running header."""
    text = line.strip()
    return bool(_EXAMPLE_HEADER.match(text)) or any(
        re.match(r"(?i)" + _SUBQ_PREFIX + pat + r"\s*$", text) for _, pat, _ in QUESTIONS_2016
    ) or any(re.match(r"(?i)" + pat + r"\s*$", text) for _, pat in (*HEAD_FIELDS_2015, *HEAD_FIELDS_2016))


def _boilerplate(pages: list[list[str]]) -> set[str]:
    """Lines that repeat at the top or bottom of many pages: running headers and footers."""
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        edge = [ln for ln in lines if ln.strip()]
        for ln in set(edge[:2] + edge[-2:]):
            if not _is_label(ln):
                counts[re.sub(r"\d+", "#", ln.strip())] += 1
    need = max(2, (len(pages) + 1) // 2)
    return {key for key, n in counts.items() if n >= need}


def clean_lines(pages: tuple[PageText, ...]) -> list[Line]:
    """Page texts as lines, without running headers, footers or page numbers."""
    split = [p.text.replace("\r", "").split("\n") for p in pages]
    repeated = _boilerplate(split)
    out: list[Line] = []
    for page, lines in zip(pages, split):
        for ln in lines:
            stripped = ln.strip()
            if not stripped or _PAGE_NUMBER.match(stripped):
                continue
            if re.sub(r"\d+", "#", stripped) in repeated:
                continue
            out.append(Line(re.sub(r"[ \t]+", " ", stripped), page.number))
    widths = _full_width(out)
    return [Line(ln.text, ln.page, widths[ln.page]) for ln in out]


def _join(a: str, b: str) -> str:
    """Join two wrapped lines, undoing a word-processor hyphenation ("velferds-" + "teknologi")."""
    if a.endswith("-") and len(a) > 1 and a[-2].isalpha() and a[-2].islower() and b[:1].islower():
        first = b.split(" ", 1)[0].rstrip(".,;:")
        if first not in _KEEP_HYPHEN_BEFORE:
            return a[:-1] + b
    return a + " " + b


def _full_width(lines: list[Line]) -> dict[int, int]:
    """Per page, the length of a full line (90th percentile): shorter lines may end a paragraph."""
    by_page: dict[int, list[int]] = {}
    for ln in lines:
        by_page.setdefault(ln.page, []).append(len(ln.text))
    return {page: sorted(v)[int(0.9 * (len(v) - 1))] for page, v in by_page.items()}


def paragraphs(lines: list[Line]) -> list[tuple[str, int]]:
    """Group wrapped lines into paragraphs (text, first page), guessing breaks from ragged lines.

    A list is one paragraph with its lead-in («Resultata etter første år:»), one item a line: a bullet
    read alone («• 14 brukarar har no eit fast tilbod») has lost what it is an example of, both for the
    tagger and for a reader of a search hit."""
    return _group_lists(_plain_paragraphs(lines))


def _group_lists(paras: list[tuple[str, int]]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for text, page in paras:
        if out and _BULLET.match(text) and (_BULLET.match(out[-1][0].rsplit("\n", 1)[-1])
                                            or out[-1][0].rstrip().endswith(":")):
            out[-1] = (out[-1][0] + "\n" + text, out[-1][1])
        else:
            out.append((text, page))
    return out


def _plain_paragraphs(lines: list[Line]) -> list[tuple[str, int]]:
    if not lines:
        return []
    paras: list[tuple[str, int]] = []
    current = ""
    page = lines[0].page
    for i, ln in enumerate(lines):
        starts_item = bool(_BULLET.match(ln.text))
        if current and starts_item:
            paras.append((current, page))
            current = ""
        if not current:
            current, page = ln.text, ln.page
        else:
            current = _join(current, ln.text)
        nxt = lines[i + 1].text if i + 1 < len(lines) else ""
        short = len(ln.text) < 0.8 * (ln.full or len(ln.text))
        # a list item's last line ends it even without a full stop («- kostnaden er den same»)
        if not nxt or (short and (_SENTENCE_END.search(ln.text) or _BULLET.match(current))) or _BULLET.match(nxt):
            paras.append((current, page))
            current = ""
    if current:
        paras.append((current, page))
    return paras


def _text_of(lines: list[Line]) -> str:
    return "\n\n".join(p for p, _ in paragraphs(lines))


# -- segmentation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Marker:
    kind: str  # "field", "example", "question"
    key: str
    start_line: int
    end_line: int  # first line after the label
    label: str
    inline: str = ""  # text after the label on the same line (e.g. an example title)


def _find(lines: list[Line], pattern: str, kind: str, key: str) -> list[_Marker]:
    """Every place a label matches at the start of a line (possibly spanning wrapped lines)."""
    joined = "\n".join(ln.text for ln in lines)
    starts = [0]
    for ln in lines[:-1]:
        starts.append(starts[-1] + len(ln.text) + 1)
    rx = re.compile(r"(?im)^" + _WS + "(?:" + pattern + r")" + _WS + r"(?::[ \t]*(?P<rest>[^\n]*))?$")
    found = []
    for m in rx.finditer(joined):
        first = _line_at(starts, m.start())
        last = _line_at(starts, max(m.start(), m.end() - 1))
        found.append(_Marker(kind, key, first, last + 1, re.sub(r"\s+", " ", m.group(0)).strip(),
                             (m.group("rest") or "").strip()))
    return found


def _line_at(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _first_of_each(markers: list[_Marker]) -> list[_Marker]:
    seen: set[str] = set()
    out = []
    for m in sorted(markers, key=lambda m: m.start_line):
        if m.key not in seen:
            seen.add(m.key)
            out.append(m)
    return out


def _example_headers(lines: list[Line], after: int) -> list[_Marker]:
    markers = []
    starts = [0]
    joined = "\n".join(ln.text for ln in lines)
    for ln in lines[:-1]:
        starts.append(starts[-1] + len(ln.text) + 1)
    expected = 1
    for m in _EXAMPLE_HEADER.finditer(joined):
        line_no = _line_at(starts, m.start())
        n = int(m.group("n"))
        if line_no < after or n != expected:
            continue
        expected += 1
        markers.append(_Marker("example", str(n), line_no, line_no + 1, m.group(0).strip(),
                               (m.group("title") or "").strip()))
    return markers


def _year_in_text(lines: list[Line]) -> int | None:
    for ln in lines[:40]:
        m = re.search(r"[Ii]nnovasjonspris(?:en)?\s+(20[12]\d)", ln.text)
        if m:
            return int(m.group(1))
    return None


def _slice(lines: list[Line], start: int, end: int) -> list[Line]:
    return lines[start:end]


def _pages(lines: list[Line], default: int = 1) -> tuple[int, int]:
    if not lines:
        return default, default
    return lines[0].page, lines[-1].page


def _contact_from(name_line: str, email: str, phone: str) -> Contact:
    name, _, title = name_line.partition(",")
    return Contact(name=name.strip(), title=title.strip(), email=email.strip(), phone=phone.strip())


def _title_continuation(lines: list[Line], start: int, end: int, title: str) -> tuple[str, int]:
    """A long title wraps: take following lines that continue it in lower case."""
    i = start
    while i < end and lines[i].text[:1].islower() and len(title) + len(lines[i].text) < 200 \
            and not _SENTENCE_END.search(title) and not re.match(r"[a-h]\)", lines[i].text):
        title = _join(title, lines[i].text)
        i += 1
    return title, i


def _parse_2016(lines: list[Line], page_count: int) -> ParsedApplication:
    fields = _first_of_each([m for key, pat in HEAD_FIELDS_2016 for m in _find(lines, pat, "field", key)])
    head_end = max((m.end_line for m in fields), default=0)
    examples_at = _example_headers(lines, head_end)
    stop = examples_at[0].start_line if examples_at else len(lines)
    values: dict[str, list[Line]] = {}
    for i, m in enumerate(fields):
        nxt = fields[i + 1].start_line if i + 1 < len(fields) else stop
        body = _slice(lines, m.end_line, nxt)
        values[m.key] = ([Line(m.inline, lines[m.start_line].page)] if m.inline else []) + body
    flat = {k: " ".join(ln.text for ln in v) for k, v in values.items()}
    why_lines = values.get("hvorfor", [])
    examples = []
    for i, ex in enumerate(examples_at):
        end = examples_at[i + 1].start_line if i + 1 < len(examples_at) else len(lines)
        examples.append(_parse_example(lines, ex, end))
    return ParsedApplication(
        form="2016-2019",
        municipality_written=flat.get("kommune", ""),
        contact=_contact_from(flat.get("kontaktperson", ""), flat.get("epost", ""), flat.get("telefon", "")),
        why_us=_text_of(why_lines),
        why_us_page=why_lines[0].page if why_lines else 1,
        examples=tuple(examples),
        year_in_text=_year_in_text(lines),
        page_count=page_count,
    )


def _parse_example(lines: list[Line], header: _Marker, end: int) -> ParsedExample:
    title = header.inline
    body_start = header.end_line
    if not title and body_start < end:
        title, body_start = lines[body_start].text, body_start + 1
    title, body_start = _title_continuation(lines, body_start, end, title)
    region = lines[body_start:end]
    qmarks = _first_of_each([
        m for key, pat, _ in QUESTIONS_2016 for m in _find(region, _SUBQ_PREFIX + pat, "question", key)
    ])
    criterion = {key: crit for key, _, crit in QUESTIONS_2016}
    sections: list[Section] = []
    lead = region[: qmarks[0].start_line] if qmarks else region
    sections.extend(_free_sections(lead))
    for i, m in enumerate(qmarks):
        nxt = qmarks[i + 1].start_line if i + 1 < len(qmarks) else len(region)
        body = region[m.end_line:nxt]
        if m.inline:
            body = [Line(m.inline, region[m.start_line].page)] + body
        first, last = _pages(body, region[m.start_line].page)
        sections.append(Section(m.key, m.label, _text_of(body), criterion[m.key], first, last))
    first, last = _pages(lines[header.start_line:end], lines[header.start_line].page)
    return ParsedExample(int(header.key), title.strip(" :–-"), tuple(s for s in sections if s.text), first, last)


def _free_sections(lines: list[Line]) -> list[Section]:
    """Unlabelled text as one free-form section per paragraph (so each can carry its own criteria)."""
    return [Section("fritekst", "", text, None, page, page) for text, page in paragraphs(lines)]


def _parse_2015(lines: list[Line], page_count: int) -> ParsedApplication:
    fields = _first_of_each([m for key, pat in HEAD_FIELDS_2015 for m in _find(lines, pat, "field", key)])
    values: dict[str, list[Line]] = {}
    labels: dict[str, str] = {}
    for i, m in enumerate(fields):
        nxt = fields[i + 1].start_line if i + 1 < len(fields) else len(lines)
        body = _slice(lines, m.end_line, nxt)
        values[m.key] = ([Line(m.inline, lines[m.start_line].page)] if m.inline else []) + body
        labels[m.key] = m.label
    flat = {k: " ".join(ln.text for ln in v) for k, v in values.items()}
    sections: list[Section] = []
    if values.get("sammendrag"):
        first, last = _pages(values["sammendrag"])
        sections.append(Section("sammendrag", labels["sammendrag"], _text_of(values["sammendrag"]), None, first, last))
    for key in ("bakgrunn", "gjennomforing", "resultater", "spredning"):
        body = values.get(key, [])
        if not body:
            continue
        first, last = _pages(body)
        sections.append(Section(key, labels[key], _text_of(body), QUESTION_CRITERION_2015[key], first, last))
    title = flat.get("prosjekt", "").strip()
    first, last = _pages(lines)
    example = ParsedExample(1, title, tuple(s for s in sections if s.text), first, last)
    return ParsedApplication(
        form="2015",
        municipality_written=flat.get("kommune", ""),
        contact=_contact_from(flat.get("kontaktperson", ""), flat.get("epost", ""), flat.get("telefon", "")),
        why_us="",
        why_us_page=1,
        examples=(example,),
        year_in_text=_year_in_text(lines),
        page_count=page_count,
    )


def _guess_title(lines: list[Line]) -> tuple[str, int]:
    """The title of a document without a form: the first short line after the addressee, if any."""
    start = 0
    for i, ln in enumerate(lines[:15]):
        if re.match(r"(?i)^til\s", ln.text):
            start = i + 1
            break
    for i in range(start, min(len(lines), start + 10)):
        text = lines[i].text
        if 6 <= len(text) <= 120 and not _SENTENCE_END.search(text) and not re.search(r"\d{4}$", text):
            return text, i + 1
    return (lines[0].text if lines else ""), 1


def _parse_free(lines: list[Line], page_count: int) -> ParsedApplication:
    title, after = _guess_title(lines)
    body = lines[after:]
    joined = " ".join(ln.text for ln in lines)
    email = _EMAIL.search(joined)
    phone = _PHONE.search(joined[email.end():] if email else joined)
    name = ""
    if email:
        before = [ln.text for ln in lines if email.group(0) not in ln.text and ln.text in joined[: email.start()]]
        name = before[-2] if len(before) >= 2 else ""
    named = (_APPLICANT.search(ln.text) for ln in lines[:6])
    municipality = next((m.group(0) for m in named if m), "")
    first, last = _pages(lines)
    sections = tuple(_free_sections(body))
    example = ParsedExample(1, title, sections, first, last)
    return ParsedApplication(
        form="fritt",
        municipality_written=municipality,
        contact=Contact(name=name, email=email.group(0) if email else "", phone=phone.group(0).strip() if phone else ""),
        why_us="",
        why_us_page=1,
        examples=(example,),
        year_in_text=_year_in_text(lines),
        page_count=page_count,
    )


def detect_form(lines: list[Line]) -> str:
    """Which form generation a document uses, from the labels it contains."""
    if _find(lines, HEAD_FIELDS_2016[4][1], "field", "hvorfor"):
        return "2016-2019"
    hits_2015 = sum(bool(_find(lines, pat, "field", key)) for key, pat in HEAD_FIELDS_2015[1:3])
    if hits_2015:
        return "2015"
    if _example_headers(lines, 0) and _find(lines, HEAD_FIELDS_2016[0][1], "field", "kommune"):
        return "2016-2019"
    return "fritt"


def parse(doc: ExtractedDocument) -> ParsedApplication:
    """Parse an extracted application into its form fields and innovation examples."""
    lines = clean_lines(doc.pages)
    form = detect_form(lines)
    if form == "2016-2019":
        parsed = _parse_2016(lines, len(doc.pages))
        if parsed.examples:
            return parsed
        # a 2016+ head without example headers: the rest is one free-form example
        return _fallback_examples(parsed, lines)
    if form == "2015":
        return _parse_2015(lines, len(doc.pages))
    return _parse_free(lines, len(doc.pages))


def _fallback_examples(parsed: ParsedApplication, lines: list[Line]) -> ParsedApplication:
    free = _parse_free(lines, parsed.page_count)
    return ParsedApplication(
        form=parsed.form,
        municipality_written=parsed.municipality_written,
        contact=parsed.contact,
        why_us=parsed.why_us,
        why_us_page=parsed.why_us_page,
        examples=free.examples,
        year_in_text=parsed.year_in_text,
        page_count=parsed.page_count,
    )
