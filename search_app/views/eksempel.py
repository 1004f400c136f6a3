"""Eksempel: one innovation example in full — answers by jury criterion, tag evidence, contact, PDF, similar."""

from __future__ import annotations

import streamlit as st

from ingest.errors import InnosokError
from ingest.records import InnovationExample, Tag
from search_app import ui
from search_app.api import ExampleView, Library

OTHER = "_annet"  # answers the form does not tie to a jury criterion


def _answers_by_criterion(view: ExampleView) -> None:
    """The answers of the form, grouped under the jury criterion each question asks about."""
    tax = ui.taxonomy()
    groups: dict[str, list] = {}
    for section in view.example.sections:
        groups.setdefault(section.criterion or OTHER, []).append(section)
    known = tax.ids("criterion")
    order = [OTHER, *(c for c in known if c in groups), *(c for c in groups if c not in known and c != OTHER)]
    for key in order:
        if key not in groups:
            continue
        st.markdown(f"## {'Om innovasjonen' if key == OTHER else ui.safe(tax.name('criterion', key))}")
        for section in groups[key]:
            pages = (f"s. {section.page_start}" if section.page_start == section.page_end
                     else f"s. {section.page_start}–{section.page_end}")
            if section.label:
                st.markdown(f"<p class='inno-meta'><strong>{ui.safe(section.label)}</strong> · {pages}</p>",
                            unsafe_allow_html=True)
            st.markdown(ui.paragraphs(section.text), unsafe_allow_html=True)
    if view.application.why_us:
        st.markdown("## Kommunens innovasjonsarbeid (hele søknaden)")
        st.markdown(ui.paragraphs(view.application.why_us), unsafe_allow_html=True)


def _evidence(ex: InnovationExample, tag: Tag) -> list[str]:
    """Evidence as text: a passage id becomes the passage (with its page); anything else is a quote."""
    passages = {p.id: p for p in ex.passages}
    out = []
    for item in tag.evidence:
        p = passages.get(item)
        out.append(f"{ui.safe(p.text)} <span class='inno-meta'>(s. {p.page})</span>" if p else ui.safe(item))
    return out


def _tags(ex: InnovationExample) -> None:
    """Sector, criterion and phase tags, each with its confidence, source and the evidence behind it."""
    ui.section("Merkelapper")
    if not ex.tags:
        st.caption("Dette eksempelet har ingen merkelapper for sektor, kriterier eller fase ennå.")
        return
    for kind in ("sector", "criterion", "phase"):
        tags = [t for t in ex.tags if t.kind == kind]
        if not tags:
            continue
        st.markdown(f"<p class='inno-meta' style='margin-bottom:.2rem'>{ui.KIND_NAMES[kind]}</p>"
                    + ui.tag_chips(kind, [t.label for t in tags]), unsafe_allow_html=True)
    with st.expander("Hvorfor disse merkelappene?", icon=":material/help:"):
        for t in ex.tags:
            source = ui.SOURCE_NAMES.get(t.source, t.source)
            st.markdown(f"<p style='margin:.7rem 0 .1rem 0'><strong>{ui.safe(ui.label_name(t.kind, t.label))}</strong> "
                        f"<span class='inno-meta'>({ui.KIND_NAMES.get(t.kind, t.kind).lower()}, satt av {source}, "
                        f"sikkerhet {round(t.confidence * 100)} %)</span></p>", unsafe_allow_html=True)
            evidence = _evidence(ex, t)
            for line in evidence:
                st.markdown(f"<div class='inno-evidence'>{line}</div>", unsafe_allow_html=True)
            if not evidence:
                st.caption("Ingen begrunnelse er lagret for denne merkelappen.")


def _contact(view: ExampleView) -> None:
    c, m = view.application.contact, view.application.municipality
    with st.container(border=True, key="kontakt"):
        ui.section("Kontaktperson")
        if not (c.name or c.email or c.phone):
            st.caption("Søknaden oppgir ingen kontaktperson. Ta kontakt med kommunens postmottak.")
        else:
            lines = [f"**{ui.safe(c.name)}**" if c.name else "", ui.safe(c.title)]
            if c.email:
                lines.append(f"<a href='mailto:{ui.safe(c.email)}'>{ui.safe(c.email)}</a>")
            if c.phone:
                lines.append(f"Tlf. {ui.safe(c.phone)}")
            st.markdown("<br>".join(x for x in lines if x), unsafe_allow_html=True)
        year = f", søknad fra {view.application.year}" if view.application.year else ""
        st.caption(ui.md_escape(m.written or m.name) + year
                   + ". Kontaktinformasjonen er fra søknaden og kan ha endret seg.")


def _original(lib: Library, view: ExampleView) -> None:
    ex, app = view.example, view.application
    with st.container(border=True, key="original"):
        ui.section("Originalsøknaden")
        pages = f"side {ex.page_start}" if ex.page_start == ex.page_end else f"side {ex.page_start}–{ex.page_end}"
        st.caption(f"Eksempelet står på {pages} av {app.page_count or '?'} i PDF-en.")
        try:
            path = lib.pdf_path(view)
        except InnosokError as exc:
            st.warning(str(exc))
            return
        st.download_button("Last ned PDF", path.read_bytes, file_name=path.name, mime="application/pdf",
                           key="pdf", on_click="ignore", icon=":material/picture_as_pdf:", width="stretch")
        if st.toggle(f"Vis {pages} her", key="vis_side"):
            for page in range(ex.page_start, ex.page_end + 1):
                try:
                    st.image(lib.page_image(view, page), caption=f"Side {page}")
                except Exception:  # noqa: BLE001 - a PDF that cannot be drawn must not break the page
                    st.warning(f"Side {page} kunne ikke vises. Last ned PDF-en i stedet.")


def _siblings(view: ExampleView) -> None:
    if not view.siblings:
        return
    with st.container(border=True, key="samme-soknad"):
        ui.section("Andre eksempler i samme søknad")
        for s in view.siblings:
            st.page_link(ui.EXAMPLE_PAGE, label=ui.md_escape(s.title), query_params={"id": s.id},
                         icon=":material/article:")


def _similar(lib: Library, view: ExampleView) -> None:
    st.markdown("## Lignende innovasjoner")
    try:
        similar = lib.similar(view.example.id, limit=5)
    except InnosokError as exc:
        st.caption(str(exc))
        return
    hits = similar.hits
    if not hits:
        st.caption("Fant ingen lignende innovasjoner.")
        return
    for rank, hit in enumerate(hits, 1):
        with st.container(border=True, key=f"lignende-{rank}"):
            st.page_link(ui.EXAMPLE_PAGE, label=ui.md_escape(hit.title), query_params={"id": hit.example_id},
                         icon=":material/article:")
            st.markdown(f"<p class='inno-meta'>{ui.safe(hit.municipality)} · {hit.year or ''}</p>"
                        + ui.tag_chips("sector", hit.sectors), unsafe_allow_html=True)


def main() -> None:
    lib = ui.get_library()
    example_id = st.query_params.get("id", "")
    ui.document_setup()
    st.page_link(ui.SEARCH_PAGE, label="Tilbake til søket", icon=":material/arrow_back:")
    if not example_id:
        st.info("Velg et innovasjonseksempel fra søket for å se det her.", icon=":material/info:")
        return
    try:
        view = lib.show(example_id)
    except InnosokError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.query_params["id"] = example_id  # a link from one example to another: the address names the one shown
    ex, app, m = view.example, view.application, view.application.municipality
    st.title(ui.md_escape(ex.title))
    where = m.written or m.name
    today = ", ".join(m.today_names)
    if not ui.same_place(where, today):
        where += f" (i dag {today})"
    facts = [where, str(app.year or "ukjent år")] + ([m.today_county or m.county] if (m.today_county or m.county) else [])
    if m.population:
        facts.append(f"{ui.number(m.population)} innbyggere")
    chips = ui.status_chip(app.status) + (ui.chip("Anbefalt", "recommended") if ex.recommended else "")
    st.markdown(f"<p class='inno-meta' style='font-size:1rem'>{ui.safe(' · '.join(facts))}</p>{chips}",
                unsafe_allow_html=True)
    if lib.is_sample:
        st.caption("Eksempelkorpus: illustrativ søknad skrevet for Innosøk.")
    if app.text_from_ocr:
        st.caption("Søknaden er skannet: teksten er lest med tekstgjenkjenning (OCR) og kan ha feillesninger. "
                   "Se originalen for ordlyden.")
    body, aside = st.columns([2.3, 1], gap="large")
    with aside:
        _contact(view)
        _original(lib, view)
        _siblings(view)
    with body:
        _tags(ex)
        _answers_by_criterion(view)
        _similar(lib, view)


main()
