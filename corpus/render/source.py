"""Load and validate sample-application sources (see corpus/sources/FORMAT.md).

The renderer validates strictly because the sources are the corpus' truth: a typo in a
question id or a character the standard PDF fonts cannot show would silently produce a
PDF that differs from its gold labels. Errors name the file and the reason, so a batch
build can report the bad file and go on.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECTORS = frozenset({"helse", "oppvekst", "sosial", "integrering", "kultur", "teknisk", "plan",
                     "digitalisering", "innbyggerdialog", "ledelse"})
CRITERIA = frozenset({"helhet", "nyhet", "realisert", "verdi", "arbeidsmater", "spredning"})
PHASES = frozenset({"behov", "utvikling", "i_bruk"})
QUESTIONS_2015 = ("bakgrunn", "gjennomforing", "resultater", "spredning")
QUESTIONS_2016 = ("beskrivelse", "nytt", "realisert", "verdi", "arbeidsmater", "spredning")
FREE_TEXT = "fritekst"
LAYOUTS = frozenset({"standard", "twocolumn", "scanned", "formfields", "encrypted", "letter"})
STATUSES = frozenset({"winner", "finalist", "applicant"})
LANGUAGES = frozenset({"nb", "nn"})

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class SourceError(ValueError):
    """A source file (or mapping) that cannot be rendered; carries the file name and reason."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class Answer:
    """One answer in an example section; `question` is a question id or `fritekst`."""

    question: str
    criteria: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Example:
    """One innovation example (2015: the single project of the form)."""

    title: str
    summary: str
    sectors: tuple[str, ...]
    phase: str
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Source:
    """A validated application source; the renderer works only on this."""

    year: int
    slug: str
    municipality: str
    kommunenummer: str
    fylkesnummer: str
    status: str
    language: str
    layout: str
    hyphenate: bool
    contact_name: str
    contact_title: str
    contact_email: str
    contact_phone: str
    why_us: str
    why_us_criteria: tuple[str, ...]
    examples: tuple[Example, ...]

    @property
    def stem(self) -> str:
        """`<year>-<slug>`: the file name of both the source and the PDF, without suffix."""
        return f"{self.year}-{self.slug}"

    @property
    def is_2015_form(self) -> bool:
        """2015 used a different form (one project per form, ten numbered fields)."""
        return self.year == 2015


def load_source(path: Path) -> dict[str, Any]:
    """Read and validate one TOML source; return the parsed dict (the public shape)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SourceError(path.name, f"cannot read: {exc}") from exc
    source = parse_source(data, name=path.name)
    if path.suffix != ".toml" or path.stem != source.stem:
        raise SourceError(path.name, f"file name must be {source.stem}.toml")
    return data


def parse_source(data: Mapping[str, Any], name: str | None = None) -> Source:
    """Validate a source mapping (TOML shape) and freeze it into a `Source`."""
    label = name or f"{data.get('year', '?')}-{data.get('slug', '?')}"
    return _Parser(label).source(data)


class _Parser:
    """Collects the checks of one source so every error carries the same file name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, reason: str) -> SourceError:
        return SourceError(self.name, reason)

    def text(self, data: Mapping[str, Any], key: str, where: str = "", required: bool = True) -> str:
        value = data.get(key, "")
        if not isinstance(value, str):
            raise self.fail(f"{where}{key} must be a string")
        if required and not value.strip():
            raise self.fail(f"{where}{key} is missing or empty")
        self.check_charset(value, f"{where}{key}")
        return value.strip()

    def check_charset(self, value: str, where: str) -> None:
        """Standard PDF fonts show only WinAnsi (cp1252) characters; refuse the rest."""
        for pos, char in enumerate(value):
            if char in "\n\t":
                continue
            if ord(char) < 32 or char in "\u00ad\u007f":
                raise self.fail(f"{where}: control character U+{ord(char):04X} at {pos}")
            try:
                char.encode("cp1252")
            except UnicodeEncodeError:
                raise self.fail(f"{where}: character {char!r} (U+{ord(char):04X}) at {pos} "
                                "is not in WinAnsi; the standard PDF fonts cannot show it") from None

    def ids(self, data: Mapping[str, Any], key: str, allowed: frozenset[str], where: str,
            minimum: int = 0, maximum: int = 99) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise self.fail(f"{where}{key} must be a list")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise self.fail(f"{where}{key}: unknown ids {unknown}")
        if not minimum <= len(value) <= maximum:
            raise self.fail(f"{where}{key}: needs {minimum} to {maximum} ids, has {len(value)}")
        return tuple(value)

    def choice(self, data: Mapping[str, Any], key: str, allowed: frozenset[str]) -> str:
        value = data.get(key)
        if value not in allowed:
            raise self.fail(f"{key} must be one of {sorted(allowed)}, not {value!r}")
        return str(value)

    def source(self, data: Mapping[str, Any]) -> Source:
        year = data.get("year")
        if not isinstance(year, int) or not 2015 <= year <= 2019:
            raise self.fail(f"year must be an integer 2015–2019, not {year!r}")
        slug = self.text(data, "slug")
        if not _SLUG.fullmatch(slug):
            raise self.fail(f"slug {slug!r} must be lower-case ASCII words joined by '-'")
        kommunenummer = data.get("kommunenummer", "")
        if not isinstance(kommunenummer, str) or not re.fullmatch(r"\d{4}|", kommunenummer):
            raise self.fail("kommunenummer must be 4 digits or empty")
        fylkesnummer = data.get("fylkesnummer", "")
        if not isinstance(fylkesnummer, str) or not re.fullmatch(r"\d{2}", fylkesnummer):
            raise self.fail("fylkesnummer must be 2 digits")
        hyphenate = data.get("hyphenate", False)
        if not isinstance(hyphenate, bool):
            raise self.fail("hyphenate must be true or false")
        email = self.text(data, "contact_email")
        if not email.endswith(".example") or "@" not in email:
            raise self.fail("contact_email must be an address under the .example domain")
        examples = self.examples(data.get("examples", []), year)
        why_us = self.text(data, "why_us", required=year != 2015)
        return Source(
            year=year, slug=slug,
            municipality=self.text(data, "municipality"),
            kommunenummer=kommunenummer, fylkesnummer=fylkesnummer,
            status=self.choice(data, "status", STATUSES),
            language=self.choice(data, "language", LANGUAGES),
            layout=self.choice(data, "layout", LAYOUTS),
            hyphenate=hyphenate,
            contact_name=self.text(data, "contact_name"),
            contact_title=self.text(data, "contact_title", required=False),
            contact_email=email,
            contact_phone=self.text(data, "contact_phone"),
            why_us=why_us,
            why_us_criteria=self.ids(data, "why_us_criteria", CRITERIA, ""),
            examples=examples,
        )

    def examples(self, raw: Any, year: int) -> tuple[Example, ...]:
        if not isinstance(raw, list) or not all(isinstance(e, Mapping) for e in raw):
            raise self.fail("examples must be an array of tables ([[examples]])")
        if year == 2015 and len(raw) != 1:
            raise self.fail(f"a 2015 form holds exactly one example, not {len(raw)}")
        if not 1 <= len(raw) <= 3:
            raise self.fail(f"an application holds one to three examples, not {len(raw)}")
        return tuple(self.example(e, i, year) for i, e in enumerate(raw, 1))

    def example(self, data: Mapping[str, Any], number: int, year: int) -> Example:
        where = f"example {number}: "
        questions = set(QUESTIONS_2015 if year == 2015 else QUESTIONS_2016) | {FREE_TEXT}
        raw_answers = data.get("answers", [])
        if not isinstance(raw_answers, list) or not raw_answers:
            raise self.fail(f"{where}answers missing ([[examples.answers]])")
        answers = []
        for j, answer in enumerate(raw_answers, 1):
            at = f"{where}answer {j}: "
            if not isinstance(answer, Mapping):
                raise self.fail(f"{at}must be a table")
            question = answer.get("question")
            if question not in questions:
                raise self.fail(f"{at}question {question!r} is not one of {sorted(questions)}")
            answers.append(Answer(question=str(question),
                                  criteria=self.ids(answer, "criteria", CRITERIA, at),
                                  text=self.text(answer, "text", at)))
        phase = data.get("phase")
        if phase not in PHASES:
            raise self.fail(f"{where}phase must be one of {sorted(PHASES)}, not {phase!r}")
        return Example(
            title=self.text(data, "title", where),
            summary=self.text(data, "summary", where, required=year == 2015),
            sectors=self.ids(data, "sectors", SECTORS, where, minimum=1, maximum=3),
            phase=str(phase),
            answers=tuple(answers),
        )
