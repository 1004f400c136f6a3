"""The search library: one API for the Streamlit pages, the CLI and the tests.

Pages and commands stay thin: they call this, and turn its domain errors into messages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingest.records import Application, InnovationExample
from ingest.register import Register, normalize_name
from ingest.searchindex import Filters, SearchIndex, SearchResult

DEFAULT_INDEX = Path("index")
SAMPLE_NOTICE = (
    "Eksempelkorpus: søknadene her er illustrative eksempler skrevet for Innosøk, "
    "ikke de ekte søknadene til KMDs innovasjonspris."
)


def default_index_root() -> Path:
    return Path(os.environ.get("INNOSOK_INDEX", DEFAULT_INDEX))


@dataclass(frozen=True)
class ExampleView:
    """Everything the example page and `innosok show` need about one innovation example."""

    example: InnovationExample
    application: Application

    @property
    def siblings(self) -> tuple[InnovationExample, ...]:
        return tuple(e for e in self.application.examples if e.id != self.example.id)


class Library:
    """Search over the index at `index_root`; opened once and reused."""

    def __init__(self, index_root: Path | None = None) -> None:
        self.index_root = index_root or default_index_root()
        self._index = SearchIndex.open(self.index_root)
        self._register = Register.load()

    @property
    def is_sample(self) -> bool:
        return self._index.illustrative_count() > 0

    def municipality_keys(self, name: str) -> tuple[str, ...]:
        """Index keys for a municipality named by its then- or today's name (or number)."""
        name = name.strip()
        keys: set[str] = set()
        register = self._register
        row = register.by_number(name) if name.isdigit() else register.by_name(name)
        if row is not None:
            keys.add(row.number)
            if row.valid_to is None:  # today's municipality: include everything that became it
                keys.update(r.number for r in register.predecessors(row.number))
        keys.add(normalize_name(name))
        return tuple(sorted(k for k in keys if k))

    def search(
        self,
        text: str,
        *,
        sectors: tuple[str, ...] = (),
        criteria: tuple[str, ...] = (),
        years: tuple[int, ...] = (),
        municipality: str = "",
        counties: tuple[str, ...] = (),
        statuses: tuple[str, ...] = (),
        limit: int = 10,
        offset: int = 0,
    ) -> SearchResult:
        filters = Filters(
            sectors=sectors,
            criteria=criteria,
            years=years,
            counties=counties,
            municipality_keys=self.municipality_keys(municipality) if municipality else (),
            statuses=statuses,
        )
        return self._index.search(text, filters, limit=limit, offset=offset)

    def show(self, example_id: str) -> ExampleView:
        example, application = self._index.example(example_id)
        return ExampleView(example, application)

    def close(self) -> None:
        self._index.close()
