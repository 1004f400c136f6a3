"""The municipality register (SSB, 2015–2024): who an applicant was then, and who it is today.

Municipalities merged in 2020 and 2024 (Oppegård and Ski → Nordre Follo; Fjell → Øygarden), so an
application is stored with both its number at the time and today's successor(s), and a search for
today's name finds the predecessors' applications.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ingest.records import Municipality


@dataclass(frozen=True)
class RegisterRow:
    """One kommunenummer for the years it was in use."""

    number: str
    name: str
    county_number: str
    county: str
    valid_from: int | None
    valid_to: int | None
    replaced_by: tuple[str, ...]
    population: int | None
    population_year: int | None
    centrality: int | None
    former_names: tuple[str, ...]
    numbers_2024: tuple[str, ...]
    county_2024: str
    kostragruppe: str

    def valid_in(self, year: int) -> bool:
        return (self.valid_from or 0) <= year <= (self.valid_to or 9999)

    @property
    def names(self) -> tuple[str, ...]:
        """The official name, each part of a multi-language name, and former names."""
        parts = [self.name, *[p.strip() for p in self.name.split(" - ")], *self.former_names]
        return tuple(dict.fromkeys(p for p in parts if p))


@dataclass(frozen=True)
class CountyRow:
    number: str
    name: str
    valid_from: int | None
    valid_to: int | None
    replaced_by: tuple[str, ...]


def _year(value: str) -> int | None:
    return int(value[:4]) if value else None


def _int(value: str) -> int | None:
    return int(value) if value.strip() else None


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split(";") if v)


def normalize_name(text: str) -> str:
    """A municipality name reduced for matching: case, 'kommune', parentheses and dashes removed."""
    t = unicodedata.normalize("NFC", text).lower().strip()
    t = re.sub(r"\(.*?\)", " ", t)
    t = re.sub(r"\b(fylkes)?kommunen?\b|\bkommune\b", " ", t)
    t = re.sub(r"[^\wæøå\- ]", " ", t)
    return re.sub(r"\s+", " ", t).strip(" -")


class Register:
    """Look-ups over the register: by number and year, by name and year, successors and predecessors."""

    def __init__(self, rows: list[RegisterRow], counties: list[CountyRow]) -> None:
        self.rows = rows
        self.counties = counties
        self._by_number: dict[str, list[RegisterRow]] = {}
        for row in rows:
            self._by_number.setdefault(row.number, []).append(row)

    @classmethod
    def load(cls) -> "Register":
        return _load_default()

    def by_number(self, number: str, year: int | None = None) -> RegisterRow | None:
        rows = self._by_number.get(number, [])
        if year is not None:
            valid = [r for r in rows if r.valid_in(year)]
            rows = valid or rows
        return rows[-1] if rows else None

    def by_name(self, name: str, year: int | None = None) -> RegisterRow | None:
        """The municipality with this name in `year` (or its most recent holder of the name)."""
        key = normalize_name(name)
        if not key:
            return None
        hits = [r for r in self.rows if key in {normalize_name(n) for n in r.names}]
        if year is not None:
            valid = [r for r in hits if r.valid_in(year)]
            hits = valid or hits
        # prefer the row valid latest (today's holder of a reused name)
        hits.sort(key=lambda r: (r.valid_to or 9999))
        return hits[-1] if hits else None

    def today(self, row: RegisterRow) -> tuple[RegisterRow, ...]:
        """The 2024 municipalities a row's territory belongs to today."""
        out = []
        for number in row.numbers_2024:
            current = self.by_number(number, 2024)
            if current is not None:
                out.append(current)
        return tuple(out)

    def predecessors(self, name_or_number: str) -> tuple[RegisterRow, ...]:
        """Every row, 2015–2024, whose territory lies in the named municipality today."""
        target = self.by_number(name_or_number, 2024) if name_or_number.isdigit() else self.by_name(name_or_number, 2024)
        if target is None:
            return ()
        return tuple(r for r in self.rows if target.number in r.numbers_2024)

    def county(self, number: str, year: int | None = None) -> CountyRow | None:
        rows = [c for c in self.counties if c.number == number]
        if year is not None:
            valid = [c for c in rows if (c.valid_from or 0) <= year <= (c.valid_to or 9999)]
            rows = valid or rows
        return rows[-1] if rows else None

    def county_by_name(self, name: str) -> CountyRow | None:
        key = normalize_name(name)
        hits = [c for c in self.counties if normalize_name(c.name) == key]
        return hits[0] if hits else None

    def county_today(self, county: CountyRow) -> tuple[CountyRow, ...]:
        """Follow county reforms to the 2024 counties (Hordaland → Vestland; Akershus → Viken → Akershus)."""
        if county.valid_to is None:
            return (county,)
        out: list[CountyRow] = []
        for number in county.replaced_by:
            nxt = self.county(number, (county.valid_to or 2019) + 1)
            if nxt is not None and nxt is not county:
                out.extend(self.county_today(nxt))
        same = [c for c in out if c.name == county.name]
        return tuple(dict.fromkeys(same or out))

    def municipality(self, written: str, year: int | None, number: str = "", county_number: str = "") -> Municipality:
        """Resolve an applicant as written (with the number and county a manifest may give) in `year`."""
        kind = "fylkeskommune" if re.search(r"(?i)fylkeskommune", written) else (
            "bydel" if re.search(r"(?i)\bbydel\b", written) else "kommune")
        if kind == "fylkeskommune":
            county = self.county(county_number, year) if county_number else self.county_by_name(
                re.sub(r"(?i)fylkeskommune", "", written))
            if county is None:
                return Municipality(written=written, kind=kind)
            today = self.county_today(county)
            return Municipality(
                written=written, kind=kind, name=f"{county.name} fylkeskommune", county_number=county.number,
                county=county.name, today_names=tuple(f"{c.name} fylkeskommune" for c in today),
                today_county=today[0].name if today else "",
            )
        row = self.by_number(number, year) if number else None
        if row is None and kind == "bydel":
            row = self.by_name(written.split(",")[-1], year) or self.by_name("Oslo", year)
        if row is None:
            row = self.by_name(written, year)
        if row is None:
            return Municipality(written=written, kind=kind)
        today = self.today(row)
        population = row.population
        population_year = row.population_year
        if population is None and len(today) == 1:
            population, population_year = today[0].population, today[0].population_year
        return Municipality(
            written=written,
            kind=kind,
            number=row.number,
            name=row.name,
            county_number=row.county_number,
            county=row.county,
            today_numbers=tuple(r.number for r in today),
            today_names=tuple(r.name for r in today),
            today_county=today[0].county if today else "",
            former_names=tuple(n for n in row.former_names if n != row.name),
            population=population,
            population_year=population_year,
            centrality=today[0].centrality if len(today) == 1 else None,
            kostragruppe=today[0].kostragruppe if len(today) == 1 else "",
        )


@lru_cache(maxsize=1)
def _load_default() -> Register:
    data = resources.files("ingest") / "data"
    with (data / "kommuner.csv").open(encoding="utf-8") as fh:
        rows = [
            RegisterRow(
                number=r["kommunenummer"],
                name=r["navn"],
                county_number=r["fylkesnummer"],
                county=r["fylke"],
                valid_from=_year(r["gyldig_fra"]),
                valid_to=_year(r["gyldig_til"]),
                replaced_by=_split(r["erstattet_av"]),
                population=_int(r["folkemengde"]),
                population_year=_int(r["folkemengde_aar"]),
                centrality=_int(r["sentralitet"]),
                former_names=_split(r["tidligere_navn"]),
                numbers_2024=_split(r["kommunenummer_2024"]),
                county_2024=r["fylke_2024"],
                kostragruppe=r["kostragruppe"],
            )
            for r in csv.DictReader(fh)
        ]
    with (data / "fylker.csv").open(encoding="utf-8") as fh:
        counties = [
            CountyRow(r["fylkesnummer"], r["navn"], _year(r["gyldig_fra"]), _year(r["gyldig_til"]), _split(r["erstattet_av"]))
            for r in csv.DictReader(fh)
        ]
    return Register(rows, counties)
