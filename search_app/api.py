"""The search library: one API for the Streamlit pages, the CLI and the tests.

Pages and commands stay thin: they call this, and turn its domain errors into messages.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import RecordNotFoundError
from ingest.records import Application, InnovationExample
from ingest.register import Register, normalize_name
from ingest.searchindex import FACET_FIELDS, Filters, Hit, SearchIndex, SearchResult, size_band

if TYPE_CHECKING:  # pandas loads only when a table is asked for
    import pandas as pd

    from search_app.curation import CurationDesk

DEFAULT_INDEX = Path("index")
SAMPLE_NOTICE = (
    "Eksempelkorpus: søknadene her er illustrative eksempler skrevet for Innosøk, "
    "ikke de ekte søknadene til KMDs innovasjonspris."
)


def default_index_root() -> Path:
    return Path(os.environ.get("INNOSOK_INDEX", DEFAULT_INDEX))


def default_corpus_root() -> Path:
    """Where the original PDFs are (an Application's `file` is relative to it): $INNOSOK_CORPUS or ./corpus."""
    return Path(os.environ.get("INNOSOK_CORPUS", "corpus"))


SORTS = ("relevance", "year")
CENTRALITIES = ("1", "2", "3", "4", "5", "6")  # SSB sentralitet: 1 most central, 6 least


@dataclass(frozen=True)
class MunicipalityProfile:
    """A municipality as "kommuner som min" compares it: today's size band, centrality and county."""

    name: str
    number: str
    county: str
    population: int | None
    population_year: int | None
    centrality: int | None

    @property
    def size_band(self) -> str:
        return size_band(self.population)

    def similar(self, same_county: bool = False) -> Filters:
        """Same population band, centrality within one class, and (if asked) the same county."""
        c = self.centrality
        return Filters(
            size_bands=(self.size_band,) if self.size_band else (),
            centralities=tuple(str(x) for x in (c - 1, c, c + 1) if 1 <= x <= 6) if c else (),
            counties=(self.county,) if same_county and self.county else (),
        )


@dataclass(frozen=True)
class SearchRequest:
    """Everything one search page state asks for: text, filters, order and "kommuner som min"."""

    text: str = ""
    sectors: tuple[str, ...] = ()
    criteria: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    municipality: str = ""
    counties: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    size_bands: tuple[str, ...] = ()
    centralities: tuple[str, ...] = ()
    sort: str = "relevance"  # one of SORTS
    like: MunicipalityProfile | None = None
    like_mode: str = "favour"  # favour (sorted first) | filter (only those)
    like_county: bool = False
    recommended: bool = False  # only examples curators marked "anbefalt eksempel"

    @property
    def is_empty(self) -> bool:
        return self == SearchRequest(sort=self.sort, like_mode=self.like_mode, like_county=self.like_county)


EXPORT_COLUMNS = ("Tittel", "Kommune (søker)", "Kommune i dag", "Fylke i dag", "År", "Status", "Sektorer",
                  "Juryens kriterier", "Utdrag", "Id")
STATUS_NAMES = {"winner": "Vinner", "finalist": "Finalist", "applicant": "Søker"}


def export_csv(table: "pd.DataFrame") -> bytes:
    """CSV for Norwegian Excel: semicolon-separated, UTF-8 with BOM so æøå open intact."""
    return table.to_csv(index=False, sep=";").encode("utf-8-sig")


def export_excel(table: "pd.DataFrame", sheet: str = "Innosøk") -> bytes:
    """An .xlsx workbook (openpyxl) with one sheet."""
    import pandas as pd

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.to_excel(writer, index=False, sheet_name=sheet[:31])
    return buffer.getvalue()


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
        size_bands: tuple[str, ...] = (),
        centralities: tuple[str, ...] = (),
        recommended: bool = False,
        sort: str = "relevance",
        prefer: Filters | None = None,
        facets: bool = False,
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
            size_bands=size_bands,
            centralities=centralities,
            recommended=recommended,
        )
        return self._index.search(text, filters, limit=limit, offset=offset, sort=sort, prefer=prefer, facets=facets)

    def curation(self, store_path: Path | None = None) -> "CurationDesk":
        """The curators' desk over this index (store: $INNOSOK_CURATION or ./curation/innosok.sqlite)."""
        from search_app.curation import CurationDesk

        return CurationDesk(self.index_root, store_path)

    def show(self, example_id: str) -> ExampleView:
        example, application = self._index.example(example_id)
        return ExampleView(example, application)

    def similar(self, example_id: str, limit: int = 5) -> SearchResult:
        """"Lignende innovasjoner": the examples from other applications most like this one."""
        return self._index.similar(example_id, limit=limit)

    def by_description(self, text: str, limit: int = 10) -> SearchResult:
        """Search by a pasted description of one's own problem: the examples closest to it."""
        return self._index.by_description(text, limit=limit)

    def clear_query_cache(self) -> None:
        """Forget cached query runs, so the next search is timed as a new question (benchmarks)."""
        self._index.clear_query_cache()

    def suggestion(self, text: str) -> str:
        """"Mente du …": the text with unknown words replaced from the index's vocabulary ("" if none)."""
        return self._index.suggest(text)

    # -- the app's pages: filters with counts, pages of results, "kommuner som min", export, PDFs ------

    def find(self, request: SearchRequest, *, page: int = 1, page_size: int = 10, facets: bool = True) -> SearchResult:
        """One page (1-based) of results for a page state, with counts per filter value."""
        prefer = None
        size_bands, centralities, counties = request.size_bands, request.centralities, request.counties
        if request.like is not None:
            similar = request.like.similar(request.like_county)
            if request.like_mode == "filter":
                size_bands = size_bands or similar.size_bands
                centralities = centralities or similar.centralities
                counties = counties or similar.counties
            else:
                prefer = similar
        return self.search(
            request.text, sectors=request.sectors, criteria=request.criteria, years=request.years,
            municipality=request.municipality, counties=counties, statuses=request.statuses,
            size_bands=size_bands, centralities=centralities, recommended=request.recommended, sort=request.sort,
            prefer=prefer, facets=facets, limit=page_size, offset=(max(page, 1) - 1) * page_size,
        )

    def result_table(self, request: SearchRequest) -> "pd.DataFrame":
        """Every result of a request as a table with Norwegian column names (for CSV and Excel)."""
        first = self.find(request, page_size=1, facets=False)
        hits = self.find(request, page_size=max(first.total, 1), facets=False).hits if first.total else ()
        return hits_table(hits)

    def archive_table(self) -> "pd.DataFrame":
        """Every indexed example (the overview page's charts and the whole-archive export)."""
        return self.result_table(SearchRequest(sort="year"))

    def facet_values(self) -> dict[str, tuple[str, ...]]:
        """Every value each filter can take in this index (so a filter shows values with 0 hits too)."""
        counts = self.search("", facets=True, limit=1).facets
        return {name: tuple(sorted(counts.get(name, {}))) for name in FACET_FIELDS}

    def municipality_names(self) -> tuple[str, ...]:
        """Names the municipality filter offers: every applicant's register name then and today (and bydel)."""
        names: set[str] = set()
        for app_id in {fields["application_id"] for fields in self._index.all_examples()}:
            m = self._index.application(app_id)["municipality"]
            names.update((m.get("name") or m.get("written", ""), *m.get("today_names", ())))
            if m.get("kind") == "bydel":
                names.add(m.get("written", ""))
        return tuple(sorted((n for n in names if n), key=norwegian_key))

    def today_municipalities(self) -> tuple[str, ...]:
        """Today's municipalities from the register, in Norwegian alphabetical order."""
        return tuple(sorted((r.name for r in self._register.rows if r.valid_to is None), key=norwegian_key))

    def profile(self, name: str) -> MunicipalityProfile:
        """Size, centrality and county of a municipality (a former name gives today's municipality)."""
        row = self._register.by_number(name, 2024) if name.isdigit() else self._register.by_name(name)
        if row is not None and row.valid_to is not None:
            today = self._register.today(row)
            row = today[0] if len(today) == 1 else None
        if row is None:
            raise RecordNotFoundError(f"Fant ikke kommunen «{name}» i kommuneregisteret. Velg en kommune fra listen.")
        return MunicipalityProfile(row.name, row.number, row.county_2024 or row.county, row.population,
                                   row.population_year, row.centrality)

    def pdf_path(self, view: ExampleView) -> Path:
        """The original PDF of an example's application, from the corpus folder."""
        path = default_corpus_root() / view.application.file
        if not path.is_file():
            raise RecordNotFoundError(
                f"Originaldokumentet {view.application.file} finnes ikke i dokumentmappen {default_corpus_root()}. "
                "Be den som drifter Innosøk sjekke innstillingen INNOSOK_CORPUS.")
        return path

    def page_image(self, view: ExampleView, page: int, width: int = 1100) -> bytes:
        """One page of the original PDF as PNG (pypdfium2), so the page can be shown where it is cited."""
        import pypdfium2

        pdf = pypdfium2.PdfDocument(str(self.pdf_path(view)), password="")
        try:
            number = min(max(page, 1), len(pdf))
            pdf_page = pdf[number - 1]
            image = pdf_page.render(scale=width / pdf_page.get_width()).to_pil()
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            return buffer.getvalue()
        finally:
            pdf.close()

    def close(self) -> None:
        self._index.close()


def norwegian_key(name: str) -> str:
    """Sort key in Norwegian alphabetical order (… x y z æ ø å)."""
    return name.lower().translate(str.maketrans({"æ": "{", "ø": "|", "å": "}", "é": "e"}))


def plain(text: str) -> str:
    """Text without the highlight markers."""
    from ingest.searchindex import MARK_END, MARK_START

    return text.replace(MARK_START, "").replace(MARK_END, "")


def archive_counts(table: "pd.DataFrame") -> dict[str, "pd.DataFrame"]:
    """The overview's figures from a hits table: examples per year (by status), per sector, per county."""
    import pandas as pd

    per_year = (table.pivot_table(index="År", columns="Status", values="Id", aggfunc="count", fill_value=0)
                .reindex(columns=[s for s in STATUS_NAMES.values() if s in set(table["Status"])]))
    sectors = table.assign(Sektor=table["Sektorer"].str.split("; ")).explode("Sektor")
    sectors = sectors[sectors["Sektor"].fillna("") != ""]
    per_sector = sectors.groupby("Sektor").size().rename("Eksempler").sort_values(ascending=False).to_frame()
    per_county = (table[table["Fylke i dag"] != ""].groupby("Fylke i dag").size().rename("Eksempler")
                  .sort_values(ascending=False).to_frame())
    year_sector = (sectors.pivot_table(index="År", columns="Sektor", values="Id", aggfunc="count", fill_value=0)
                   if len(sectors) else pd.DataFrame())
    return {"per_year": per_year, "per_sector": per_sector, "per_county": per_county, "year_sector": year_sector}


def hits_table(hits: "tuple[Hit, ...] | list[Hit]") -> "pd.DataFrame":
    """Hits as a table with Norwegian column names and Norwegian names for taxonomy ids."""
    import pandas as pd

    from ingest.taxonomy import load_taxonomy

    tax = load_taxonomy()
    rows = [{
        "Tittel": h.title,
        "Kommune (søker)": h.municipality,
        "Kommune i dag": h.municipality_today,
        "Fylke i dag": h.county,
        "År": h.year,
        "Status": STATUS_NAMES.get(h.status, h.status),
        "Sektorer": "; ".join(tax.name("sector", x) for x in h.sectors),
        "Juryens kriterier": "; ".join(tax.name("criterion", x) for x in h.criteria),
        "Utdrag": " ".join(plain(h.snippet).split()),
        "Id": h.example_id,
    } for h in hits]
    return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))
