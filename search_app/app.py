"""Innosøk in the browser (Streamlit). Thin: every answer comes from search_app.api."""

from __future__ import annotations

import html
from pathlib import Path

import streamlit as st

from ingest.errors import InnosokError
from ingest.searchindex import MARK_END, MARK_START
from search_app.api import SAMPLE_NOTICE, Library, default_index_root

STATUS_NO = {"winner": "Vinner", "finalist": "Finalist", "applicant": "Søker"}
EXAMPLES = ["velferdsteknologi i hjemmetjenesten", "bostedsløse ungdom bolig", "skule programmering"]


@st.cache_resource(show_spinner="Åpner søkeindeksen …")
def library(index_root: str) -> Library:
    """One library (index + register) per index per server process, shared by every session."""
    return Library(Path(index_root))


def marked(snippet: str) -> str:
    """Escape text from the PDFs first, then turn the match markers into <mark>."""
    return html.escape(snippet).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def main() -> None:
    st.set_page_config(page_title="Innosøk", page_icon="🔎", layout="wide")
    st.title("Innosøk")
    st.caption("Finn innovasjoner andre kommuner har søkt KMDs innovasjonspris med – og hvem du kan ringe.")
    try:
        lib = library(str(default_index_root()))
    except InnosokError as exc:
        st.error(str(exc))
        return
    if lib.is_sample:
        st.info(SAMPLE_NOTICE, icon="ℹ️")
    query = st.text_input("Hva leter du etter?", placeholder="f.eks. " + " · ".join(EXAMPLES), key="query")
    col1, col2 = st.columns(2)
    municipality = col1.text_input("Kommune (dagens eller tidligere navn)", key="municipality")
    years = col2.multiselect("År", [2015, 2016, 2017, 2018, 2019], key="years")
    if not query and not municipality and not years:
        st.write("Skriv noen ord om det du vil løse, for eksempel: " + ", ".join(f"«{e}»" for e in EXAMPLES) + ".")
        return
    result = lib.search(query, municipality=municipality, years=tuple(years), limit=20)
    st.subheader(f"{result.total} treff")
    if not result.hits:
        st.write("Ingen treff. Prøv færre eller andre ord, eller fjern et filter.")
    for hit in result.hits:
        with st.container(border=True):
            st.markdown(f"**{html.escape(hit.title)}**")
            st.caption(f"{html.escape(hit.municipality)} · {hit.year} · "
                       f"{STATUS_NO.get(hit.status, hit.status)}")
            st.markdown(marked(hit.snippet), unsafe_allow_html=True)


main()
