"""Søk: one search box, filters with counts, "kommuner som min", sorted and paged result cards, export."""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from ingest.errors import InnosokError
from search_app import ui
from search_app.api import (CENTRALITIES, SORTS, Library, MunicipalityProfile, SearchRequest, SearchResult,
                            export_csv, export_excel)

PAGE_SIZE = 10
EXAMPLES = ("velferdsteknologi i hjemmetjenesten", "bostedsløse ungdom bolig", "skule programmering")
SORT_NAMES = {"relevance": "Mest relevant", "year": "Nyeste først"}
LIKE_MODES = {"favour": "Vis dem først", "filter": "Vis bare dem"}
PERSIST = {"persist_state": "session"}  # filters survive a visit to an example page


def _use_example(text: str) -> None:
    st.session_state["q"] = text


def _filters(lib: Library, counts: dict[str, dict[str, int]]) -> None:
    """The filter column: every value with its count (as if that filter alone were not set)."""
    values = lib_values(lib)
    tax = ui.taxonomy()

    def with_count(field: str, name: Callable[[Any], str]) -> Callable[[Any], str]:
        return lambda v: f"{name(v)} ({counts.get(field, {}).get(str(v), 0)})"

    ui.section("Avgrens søket")
    st.multiselect("År", values["year"], key="f_year", placeholder="Alle år",
                   format_func=with_count("year", str), **PERSIST)
    st.multiselect("Sektor", tax.ids("sector"), key="f_sector", placeholder="Alle sektorer",
                   format_func=with_count("sector", lambda v: tax.name("sector", v)), **PERSIST)
    st.multiselect("Juryens kriterier", tax.ids("criterion"), key="f_criterion", placeholder="Alle kriterier",
                   format_func=with_count("criterion", lambda v: tax.name("criterion", v)), **PERSIST)
    st.multiselect("Status", ("winner", "finalist", "applicant"), key="f_status", placeholder="Alle",
                   format_func=with_count("status", ui.status_name), **PERSIST)
    st.multiselect("Fylke (dagens eller tidligere)", values["county_today"], key="f_county",
                   placeholder="Hele landet", format_func=with_count("county_today", str), **PERSIST)
    st.selectbox("Kommune (navnet da eller i dag)", values["municipality"], index=None, key="f_municipality",
                 placeholder="Alle kommuner", accept_new_options=True, **PERSIST)
    st.multiselect("Kommunestørrelse", tuple(ui.SIZE_NAMES), key="f_size", placeholder="Alle størrelser",
                   format_func=with_count("size_band", ui.SIZE_NAMES.get), **PERSIST)
    st.multiselect("Sentralitet (SSB)", CENTRALITIES, key="f_centrality", placeholder="Alle",
                   format_func=with_count("centrality", ui.CENTRALITY_NAMES.get), **PERSIST,
                   help="SSBs sentralitetsindeks: 1 er de mest sentrale kommunene, 6 de minst sentrale.")


@st.cache_data(show_spinner=False)
def _values(index_key: str, _lib: Library) -> dict[str, tuple]:
    values: dict[str, tuple] = dict(_lib.facet_values())
    values["year"] = tuple(int(y) for y in values["year"])
    values["municipality"] = _lib.municipality_names()
    values["today"] = _lib.today_municipalities()
    return values


def lib_values(lib: Library) -> dict[str, tuple]:
    return _values(str(lib.index_root), lib)


def _like_mine(lib: Library) -> MunicipalityProfile | None:
    """"Kommuner som min": the user's municipality, and whether similar ones are favoured or the only ones."""
    with st.container(border=True, key="kommuner-som-min"):
        ui.section("Kommuner som min")
        name = st.selectbox("Min kommune", lib_values(lib)["today"], index=None, key="like_name",
                            placeholder="Velg kommunen din", **PERSIST)
        if not name:
            st.caption("Velg kommunen din for å se eksempler fra kommuner med omtrent samme størrelse og "
                       "sentralitet først.")
            return None
        try:
            profile = lib.profile(name)
        except InnosokError as exc:
            st.warning(str(exc))
            return None
        st.radio("Kommuner som min", tuple(LIKE_MODES), format_func=LIKE_MODES.get, key="like_mode",
                 horizontal=True, label_visibility="collapsed", **PERSIST)
        st.checkbox(f"Bare {profile.county}", key="like_county", **PERSIST)
        facts = [f"{ui.number(profile.population)} innbyggere ({profile.population_year})"] if profile.population else []
        if profile.centrality:
            facts.append(f"sentralitet {profile.centrality}")
        st.caption(f"{profile.name}: " + ", ".join(facts + [profile.county]) + ". Lignende: "
                   f"{ui.SIZE_NAMES.get(profile.size_band, 'ukjent størrelse')}"
                   + (f", sentralitet {profile.centrality - 1 or 1}–{min(profile.centrality + 1, 6)}"
                      if profile.centrality else "") + ".")
        return profile


def _request(lib: Library) -> SearchRequest:
    ss = st.session_state
    profile = _like_mine(lib)
    return SearchRequest(
        text=ss.get("q", "") or "",
        years=tuple(ss.get("f_year") or ()), sectors=tuple(ss.get("f_sector") or ()),
        criteria=tuple(ss.get("f_criterion") or ()), statuses=tuple(ss.get("f_status") or ()),
        counties=tuple(ss.get("f_county") or ()), municipality=ss.get("f_municipality") or "",
        size_bands=tuple(ss.get("f_size") or ()), centralities=tuple(ss.get("f_centrality") or ()),
        sort=ss.get("sort") or "relevance", like=profile,
        like_mode=ss.get("like_mode") or "favour", like_county=bool(ss.get("like_county")),
    )


def _pager(total: int) -> None:
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(st.session_state.get("side", 1), pages)
    if pages == 1:
        return
    left, mid, right = st.columns([1, 2, 1], vertical_alignment="center")
    if left.button("← Forrige", key="forrige", disabled=page <= 1, width="stretch"):
        st.session_state["side"] = page - 1
        st.rerun()
    mid.markdown(f"<p style='text-align:center;margin:0'>Side {page} av {pages}</p>", unsafe_allow_html=True)
    if right.button("Neste →", key="neste", disabled=page >= pages, width="stretch"):
        st.session_state["side"] = page + 1
        st.rerun()


def main() -> None:
    lib = ui.get_library()
    ui.page_header(lib, "Innosøk", "Finn innovasjoner andre kommuner har søkt KMDs innovasjonspris med "
                   "– og hvem du kan ringe.")
    st.text_input("Hva vil du løse?", key="q", placeholder="Skriv med egne ord, for eksempel: "
                  + EXAMPLES[0], bind="query-params", icon=":material/search:")
    with st.container(horizontal=True, vertical_alignment="center", key="eksempler", gap="medium"):
        st.caption("Eller prøv:", width="content")
        for text in EXAMPLES:
            st.button(text, key=f"eks-{text}", on_click=_use_example, args=(text,), type="tertiary",
                      icon=":material/north_east:")

    side, main_col = st.columns([1, 2.6], gap="large")
    with side:
        request = _request(lib)
    # a new question or filter starts again at page 1
    if st.session_state.get("_last_request") != request:
        shared = st.query_params.get("side", "1") if "_last_request" not in st.session_state else "1"
        st.session_state["_last_request"] = request
        st.session_state["side"] = int(shared) if shared.isdigit() and int(shared) > 0 else 1
    page = st.session_state["side"]
    result = lib.find(request, page=page, page_size=PAGE_SIZE)
    if page > 1 and not result.hits:  # a page number from an old link, beyond the last page
        page = st.session_state["side"] = 1
        result = lib.find(request, page=page, page_size=PAGE_SIZE)
    if page > 1:  # in the address too: a result page can be shared, and a new page scrolls to the top
        st.query_params["side"] = str(page)
    elif "side" in st.query_params:
        del st.query_params["side"]
    with main_col:  # written before the filters: the results are what the user waits for
        _results(lib, request, result, page)
    with side:
        _filters(lib, result.facets)


def _results(lib: Library, request: SearchRequest, result: SearchResult, page: int) -> None:
    """The heading with the count, the order, "mente du", the result cards, the pager and the export."""
    head, sort_col = st.columns([2, 1.3], vertical_alignment="bottom")
    if request.is_empty:
        head.markdown(f"## Hele arkivet: {ui.number(result.total)} innovasjonseksempler")
        head.caption("Nyeste først. Skriv noen ord om det du vil løse, eller velg filtre, så finner du "
                     "eksemplene som passer best.")
    else:
        about = f" for «{ui.safe(request.text)}»" if request.text.strip() else ""
        head.markdown(f"## {ui.number(result.total)} treff{about}", unsafe_allow_html=True)
    if request.text.strip():
        sort_col.segmented_control("Sorter", SORTS, format_func=SORT_NAMES.get, key="sort", default="relevance",
                                   required=True, label_visibility="collapsed", **PERSIST)
    if result.suggestion and result.suggestion != request.text:
        st.button(f"Mente du «{ui.md_escape(result.suggestion)}»?", key="mente-du", type="tertiary",
                  on_click=_use_example, args=(result.suggestion,), icon=":material/spellcheck:")
    if not result.hits:
        st.warning("Ingen treff. Prøv færre eller andre ord, eller fjern et filter.", icon=":material/search_off:")
        return
    for rank, hit in enumerate(result.hits, start=(page - 1) * PAGE_SIZE + 1):
        ui.result_card(hit, request, rank)
    _pager(result.total)
    _export(lib, request, result.total)


def _export(lib: Library, request: SearchRequest, total: int) -> None:
    st.markdown(f"<p class='inno-meta' style='margin-top:1rem'>Last ned alle {ui.number(total)} treff som tabell:</p>",
                unsafe_allow_html=True)
    csv_col, xlsx_col, _ = st.columns([1, 1, 2])
    csv_col.download_button("CSV", lambda: export_csv(lib.result_table(request)), file_name="innosok-treff.csv",
                            mime="text/csv", key="eksport-csv", on_click="ignore", icon=":material/download:",
                            width="stretch")
    xlsx_col.download_button(
        "Excel", lambda: export_excel(lib.result_table(request)), file_name="innosok-treff.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="eksport-xlsx",
        on_click="ignore", icon=":material/download:", width="stretch")


main()
