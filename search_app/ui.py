"""Shared pieces of the Streamlit pages: the cached library, escaping, names, chips and result cards.

Every text that comes from a PDF goes through `safe()` (or `marked()`) before it reaches st.markdown:
HTML is escaped and the characters Markdown would act on become entities, so an application can never
inject markup, links or formatting into the page.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import streamlit as st

from ingest.errors import InnosokError
from ingest.searchindex import MARK_END, MARK_START, SIZE_BANDS, Hit
from ingest.taxonomy import Taxonomy, load_taxonomy
from search_app.api import SAMPLE_NOTICE, STATUS_NAMES, Library, SearchRequest, default_index_root

SEARCH_PAGE = "views/sok.py"
EXAMPLE_PAGE = "views/eksempel.py"

SIZE_NAMES = {band: name for band, _, name in SIZE_BANDS}
CENTRALITY_NAMES = {
    "1": "1 – mest sentrale", "2": "2", "3": "3", "4": "4", "5": "5", "6": "6 – minst sentrale",
}
KIND_NAMES = {"sector": "Sektor", "criterion": "Juryens kriterium", "phase": "Fase"}
SOURCE_NAMES = {"regel": "regel", "modell": "modell", "skjema": "søknadsskjemaet", "kurator": "kurator"}
FIELD_NAMES = {"title": "tittelen", "body": "svarene", "context": "søknadens begrunnelse", "municipality": "kommunenavnet"}

_MD_SPECIAL = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~$:<>&\"'="})

STYLE = """
<style>
:root { --inno-blue: #0062ba; --inno-ink: #1e2b3c; --inno-muted: #4b5a6b; --inno-line: #d5dde6; }
.block-container { padding-top: 4rem; max-width: 1200px; }
h1, h2, h3 { color: var(--inno-ink); letter-spacing: -0.01em; }
[data-testid="stMain"] h2 { font-size: 1.5rem; }
mark { background: #fff0b3; color: inherit; padding: 0 .1em; border-radius: 2px; }
.inno-meta { color: var(--inno-muted); font-size: .92rem; margin: 0 0 .35rem 0; }
.inno-why { color: var(--inno-muted); font-size: .85rem; margin-top: .35rem; }
.inno-chip { display: inline-block; font-size: .78rem; line-height: 1.3; padding: .12rem .55rem;
  margin: 0 .3rem .3rem 0; border-radius: 999px; border: 1px solid var(--inno-line); background: #f3f6f9;
  color: var(--inno-ink); }
.inno-chip.sector { background: #e8f1fb; border-color: #b9d3ee; }
.inno-chip.criterion { background: #eef6ee; border-color: #bcdcbf; }
.inno-chip.phase { background: #f6f0fa; border-color: #d9c6e6; }
.inno-chip.status-winner { background: #fff4d6; border-color: #e9cf7f; font-weight: 600; }
.inno-chip.status-finalist { background: #f1f1f1; border-color: #c9c9c9; font-weight: 600; }
.inno-chip.recommended { background: #e3f4ec; border-color: #8cc9a8; font-weight: 600; }
.inno-snippet { color: #24313f; font-size: .95rem; line-height: 1.5; }
.inno-answer { line-height: 1.6; }
.inno-evidence { border-left: 3px solid var(--inno-line); padding: .1rem 0 .1rem .7rem; color: #24313f;
  font-size: .9rem; margin: .3rem 0; }
.inno-section { font-size: 1.05rem; font-weight: 600; color: var(--inno-ink); margin: 0 0 .4rem 0; }
.inno-lead { font-size: 1.1rem; color: var(--inno-muted); margin: -.4rem 0 .6rem 0; }
[class*="st-key-treff-"] [data-testid="stPageLink"] a p,
[class*="st-key-lignende-"] [data-testid="stPageLink"] a p { font-size: 1.15rem; font-weight: 600; color: var(--inno-blue); }
[class*="st-key-treff-"] [data-testid="stPageLink"] a,
[class*="st-key-lignende-"] [data-testid="stPageLink"] a { padding-left: 0; }
[class*="st-key-treff-"] [data-testid="stPageLink"] a:hover p { text-decoration: underline; }
[class*="st-key-lignende-"] [data-testid="stPageLink"] a, .st-key-samme-soknad [data-testid="stPageLink"] a,
[class*="st-key-treff-"] [data-testid="stPageLink"] a { background: transparent !important; }
[class*="st-key-lignende-"] [data-testid="stPageLink"] a:hover p { text-decoration: underline; }
.st-key-eksempler button p { color: var(--inno-blue); }
.st-key-samme-soknad [data-testid="stPageLink"] a p { color: var(--inno-blue); font-weight: 600; }
[data-testid="stPageLink"] a, [data-testid="stPageLink"] a * { white-space: normal !important;
  overflow: visible !important; text-overflow: clip !important; max-width: 100%; }
</style>
"""


# -- the library, once per server ----------------------------------------------------------------------


@st.cache_resource(show_spinner="Åpner søkeindeksen …")
def library(index_root: str) -> Library:
    """One library (index, register, lexicon) per index per server process, shared by every session.

    One warm-up search loads the lazy parts (stemmer, lexicon) here, not on the first user's query.
    """
    lib = Library(Path(index_root))
    lib.search("kommune innovasjon", limit=1, facets=True)
    return lib


@st.cache_resource
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def get_library() -> Library:
    """The library, or a message a municipal employee understands and the page stops."""
    try:
        return library(str(default_index_root()))
    except InnosokError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
        raise  # st.stop() raises; this line only satisfies type checkers


# Runs once per browser tab: the document's language is bokmål (screen readers, hyphenation), and
# when the address changes (another example opened, a new search, another result page) the page
# scrolls back to the top instead of keeping the old position.
_DOCUMENT_SCRIPT = """<script>
document.documentElement.lang = 'nb';
if (!window.innosokScroll) {
  window.innosokScroll = true;
  let last = location.href;
  setInterval(() => {
    if (location.href !== last) {
      last = location.href;
      const main = document.querySelector('[data-testid="stMain"]');
      if (main) { main.scrollTo(0, 0); }
    }
  }, 100);
}
</script>"""


def document_setup() -> None:
    """The page style and the document script (trusted, fixed text: no data from PDFs goes in here)."""
    st.markdown(STYLE, unsafe_allow_html=True)
    st.html(_DOCUMENT_SCRIPT, unsafe_allow_javascript=True)


def page_header(lib: Library, title: str, lead: str = "") -> None:
    document_setup()
    st.title(title)
    if lead:
        st.markdown(f'<p class="inno-lead">{lead}</p>', unsafe_allow_html=True)
    if lib.is_sample:
        st.info(SAMPLE_NOTICE, icon=":material/info:")


# -- escaping ------------------------------------------------------------------------------------------


def safe(text: str) -> str:
    """Text from a PDF, safe inside st.markdown(unsafe_allow_html=True): no HTML, no Markdown."""
    return text.translate(_MD_SPECIAL)


def marked(snippet: str) -> str:
    """Escape first, then turn the search engine's match markers into <mark>."""
    snippet = re.sub(r"…(\s*…)+", "…", snippet)
    return safe(snippet).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def paragraphs(text: str, css: str = "inno-answer") -> str:
    """Escaped text with its paragraphs and line breaks kept."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f'<p class="{css}">{safe(p).replace(chr(10), "<br>")}</p>' for p in parts)


# -- names and chips -----------------------------------------------------------------------------------


def label_name(kind: str, label: str) -> str:
    return taxonomy().name(kind, label)


def status_name(status: str) -> str:
    return STATUS_NAMES.get(status, status)


def number(n: int | None) -> str:
    """A whole number the Norwegian way: 12 345 (with a no-break space)."""
    return "" if n is None else f"{n:,}".replace(",", "\u00a0")


def section(title: str) -> None:
    """A small section heading (inside cards and the filter column)."""
    st.markdown(f'<p class="inno-section">{html.escape(title)}</p>', unsafe_allow_html=True)


def chip(text: str, css: str = "") -> str:
    return f'<span class="inno-chip {css}">{html.escape(text)}</span>'


def tag_chips(kind: str, labels: tuple[str, ...] | list[str]) -> str:
    return "".join(chip(label_name(kind, x), kind) for x in labels)


def status_chip(status: str) -> str:
    return chip(status_name(status), f"status-{status}") if status in ("winner", "finalist") else ""


# -- result cards --------------------------------------------------------------------------------------


def why_matched(hit: Hit, request: SearchRequest) -> str:
    """A short sentence: which words matched where, and what "kommuner som min" had in common."""
    parts = [f"Treff på {'; '.join(safe(r) for r in hit.reasons)}"] if hit.reasons else _matched_words(hit)
    like = request.like
    if like is not None:
        shared = []
        if like.size_band and hit.size_band == like.size_band:
            shared.append("samme størrelse")
        if like.centrality and hit.centrality and abs(int(hit.centrality) - like.centrality) <= 1:
            shared.append("lik sentralitet")
        if like.county and hit.county == like.county:
            shared.append("samme fylke")
        if shared:
            parts.append(f"Kommune som {safe(like.name)}: {_join(shared)}")
    return " · ".join(parts)


def _matched_words(hit: Hit) -> list[str]:
    """The marked words of title and snippet, and the fields they matched in."""
    words: list[str] = []
    for text in (hit.title_marked, hit.snippet):
        for w in re.findall(f"{MARK_START}(.*?){MARK_END}", text):
            if w.lower() not in (x.lower() for x in words):
                words.append(w)
    fields = [FIELD_NAMES[f] for f in dict.fromkeys(f for f, _ in hit.matched) if f in FIELD_NAMES]
    parts = []
    if words:
        quoted = ", ".join(f"«{safe(w)}»" for w in words[:6])
        parts.append(f"Treff på {quoted}" + (f" i {_join(fields)}" if fields else ""))
    elif fields:
        parts.append(f"Treff i {_join(fields)}")
    return parts


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " og " + items[-1]


def result_card(hit: Hit, request: SearchRequest, rank: int) -> None:
    """One result: title (link to the example), municipality, year, chips, snippet, why it matched."""
    with st.container(border=True, key=f"treff-{rank}"):
        st.page_link(EXAMPLE_PAGE, label=md_escape(hit.title), query_params={"id": hit.example_id},
                     icon=":material/article:")
        where = safe(hit.municipality)
        if not same_place(hit.municipality, hit.municipality_today):
            where += f" (i dag {safe(hit.municipality_today)})"
        meta = f"{where} · {hit.year or 'ukjent år'}" + (f" · {safe(hit.county)}" if hit.county else "")
        chips = status_chip(hit.status) + (chip("Anbefalt", "recommended") if hit.recommended else "")
        chips += tag_chips("sector", hit.sectors)
        why = why_matched(hit, request)
        # one element for the rest of the card: fewer elements make a page of results render faster
        st.markdown(f'<p class="inno-meta">{meta}</p>' + (f"<div>{chips}</div>" if chips else "")
                    + f'<div class="inno-snippet">{marked(hit.snippet)}</div>'
                    + (f'<p class="inno-why">{why}</p>' if why else ""), unsafe_allow_html=True)


def same_place(applicant: str, today: str) -> bool:
    """True when today's municipality is the applicant itself (so "i dag …" would say nothing new)."""
    from ingest.register import normalize_name

    first = today.split(",")[0].split(" - ")[0]
    return not first or normalize_name(first) in normalize_name(applicant)


def md_escape(title: str) -> str:
    """For Markdown-only places (page-link labels, st.title): backslash-escape what Markdown acts on."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~$<>:])", r"\\\1", title)
