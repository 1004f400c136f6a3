"""The curation page (Kurering): sign-in, the review queue, tag corrections, "anbefalt", notes,
bulk actions, history with undo, and uploads of new application PDFs.

Thin: every decision goes through search_app.curation.CurationDesk, which checks the sign-in on every
call. Changes run in button callbacks whose arguments were bound when the page was drawn, so the
version a curator saw is the version the store compares against — a change made meanwhile by someone
else is reported, never overwritten.

Usable two ways: `render()` from the app's page registry, or as a page script (`__main__`).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import streamlit as st

from ingest.curation import (
    NO_CURATORS_MESSAGE,
    AuthenticationError,
    ConflictError,
    Curator,
    CurationError,
    default_store_path,
)
from ingest.errors import InnosokError
from ingest.records import Tag
from ingest.taxonomy import load_taxonomy
from search_app.ui import md_escape
from search_app.api import default_corpus_root, default_index_root
from search_app.curation import BULK_ACTIONS, QUEUE_VIEWS, CurationDesk, EditResult, QueueItem
from search_app.upload import max_upload_bytes, run_ingest, save_uploads

SESSION_KEY = "kurator"
MESSAGE_KEY = "kurator-melding"
KIND_NAMES = {"sector": "Sektorer", "criterion": "Kriterier", "phase": "Fase"}
SOURCE_NAMES = {"regel": "regel", "modell": "modell", "skjema": "skjema", "kurator": "kurator"}


@st.cache_resource(show_spinner=False)
def _desk(index_root: str, store_path: str) -> CurationDesk:
    return CurationDesk(Path(index_root), Path(store_path))


def desk() -> CurationDesk:
    return _desk(str(default_index_root()), str(default_store_path()))


# -- messages carried from a callback to the next drawing ------------------------------------------


def _say(kind: str, text: str) -> None:
    st.session_state.setdefault(MESSAGE_KEY, []).append((kind, text))


def _show_messages() -> None:
    for kind, text in st.session_state.pop(MESSAGE_KEY, []):
        getattr(st, kind)(text)


def _done(result: EditResult, what: str) -> None:
    _say("success", what)
    if result.index_message:
        _say("warning", result.index_message)


def _guarded(fn: Any, *args: Any) -> None:
    """Run a change; turn domain errors into messages (a conflict shows who changed it and when)."""
    try:
        fn(*args)
    except ConflictError as exc:
        _say("error", str(exc))
    except AuthenticationError as exc:
        st.session_state.pop(SESSION_KEY, None)
        _say("error", str(exc))
    except InnosokError as exc:
        _say("error", str(exc))


# -- sign-in ---------------------------------------------------------------------------------------


def _sign_in() -> None:
    try:
        curator = desk().sign_in(st.session_state.get("kurator-bruker", ""), st.session_state.get("kurator-passord", ""))
    except InnosokError as exc:
        _say("error", str(exc))
        return
    finally:
        st.session_state["kurator-passord"] = ""
    st.session_state[SESSION_KEY] = curator


def _sign_out() -> None:
    st.session_state.pop(SESSION_KEY, None)
    for key in [k for k in st.session_state if str(k).startswith(("k-", "kurator-"))]:
        del st.session_state[key]
    _say("info", "Du er logget ut.")


def signed_in() -> Curator | None:
    """The session's curator if the sign-in is still valid (user exists, not expired), else None."""
    curator = st.session_state.get(SESSION_KEY)
    if curator is None:
        return None
    try:
        return desk().check(curator)
    except AuthenticationError as exc:
        st.session_state.pop(SESSION_KEY, None)
        _say("warning", str(exc))
        return None


def _sign_in_form() -> None:
    st.write("Denne siden er for kuratorer i Digdir som gjennomgår og retter merkingen av eksemplene. "
             "Søket er åpent for alle uten innlogging.")
    if not desk().has_curators():
        st.warning(NO_CURATORS_MESSAGE)
        return
    with st.form("kurator-innlogging"):
        st.text_input("Brukernavn", key="kurator-bruker", autocomplete="username")
        st.text_input("Passord", type="password", key="kurator-passord", autocomplete="current-password")
        st.form_submit_button("Logg inn", on_click=_sign_in, type="primary")


# -- changes (callbacks) ---------------------------------------------------------------------------


def _save(curator: Curator, example_id: str, version: int) -> None:
    key = f"k-{example_id}-{version}"
    _guarded(lambda: _done(desk().edit(
        curator, example_id, version,
        sectors=tuple(st.session_state.get(f"{key}-sector", ())),
        criteria=tuple(st.session_state.get(f"{key}-criterion", ())),
        recommended=bool(st.session_state.get(f"{key}-anbefalt")),
        note=st.session_state.get(f"{key}-notat", ""),
        reviewed=True,
    ), "Lagret. Eksempelet er merket som gjennomgått, og søket viser endringen."))


def _undo(curator: Curator, example_id: str, version: int) -> None:
    _guarded(lambda: _done(desk().undo(curator, example_id, version), "Siste endring er angret."))


def _bulk(curator: Curator, versions: dict[str, int]) -> None:
    chosen = st.session_state.get("k-utvalg", [])
    action = st.session_state.get("k-handling", "")
    label = st.session_state.get("k-handling-sektor", "") if action.endswith("-sektor") else ""
    picked = {i: versions[i] for i in chosen if i in versions}
    _guarded(lambda: _done(desk().bulk(curator, picked, action, label),
                           f"{BULK_ACTIONS.get(action, action).rstrip(' …')} er gjort på {len(picked)} eksempler."))
    st.session_state["k-utvalg"] = []


# -- drawing ---------------------------------------------------------------------------------------


def _conf(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _tag_line(tag: Tag, names: Any) -> str:
    return f"{names(tag.kind, tag.label)} ({_conf(tag.confidence)}, {SOURCE_NAMES.get(tag.source, tag.source)})"


def _queue(curator: Curator) -> None:
    taxonomy = load_taxonomy()
    view = st.selectbox("Utvalg", list(QUEUE_VIEWS), format_func=QUEUE_VIEWS.get, key="k-utvalg-visning")
    items = desk().queue(curator, view)
    st.caption(f"{len(items)} eksempler i utvalget. De som trenger mest oppmerksomhet (uten sektor, lavest "
               "sikkerhet) står først.")
    if not items:
        st.info("Ingen eksempler i dette utvalget.")
        return
    rows = [{
        "Tittel": i.title, "Kommune": i.municipality, "År": i.year,
        "Sektorer": ", ".join(taxonomy.name("sector", s) for s in i.labels("sector")) or "–",
        "Laveste sikkerhet": "–" if i.lowest_confidence is None else _conf(i.lowest_confidence),
        "Hvorfor": ", ".join(i.reasons) or "–",
        "Anbefalt": "★" if i.decision.recommended else "",
    } for i in items]
    st.dataframe(rows, hide_index=True, width="stretch", height=min(38 + 35 * len(rows), 320))

    label = {i.example_id: f"{i.title} — {i.municipality} ({i.year})" for i in items}
    with st.expander("Handling på flere eksempler"):
        st.multiselect("Velg eksempler", list(label), format_func=label.get, key="k-utvalg",
                       placeholder="Velg ett eller flere eksempler")
        cols = st.columns([2, 2, 1])
        action = cols[0].selectbox("Handling", list(BULK_ACTIONS), format_func=BULK_ACTIONS.get, key="k-handling")
        if action.endswith("-sektor"):
            cols[1].selectbox("Sektor", taxonomy.ids("sector"), format_func=lambda s: taxonomy.name("sector", s),
                              key="k-handling-sektor")
        cols[2].button("Utfør", on_click=_bulk, args=(curator, {i.example_id: i.version for i in items}),
                       key="k-utfor")

    chosen = st.selectbox("Eksempel som gjennomgås", list(label), format_func=label.get, key="k-valgt")
    item = next(i for i in items if i.example_id == chosen)
    _example(curator, item)


def _example(curator: Curator, item: QueueItem) -> None:
    taxonomy = load_taxonomy()
    names = taxonomy.name
    d = item.decision
    with st.container(border=True):
        badge = " ★ Anbefalt eksempel" if d.recommended else ""
        st.markdown(f"#### {md_escape(item.title)}{badge}")
        st.caption(f"{html.escape(item.municipality)} · {item.year} · id {item.example_id} · versjon {d.version}"
                   + (f" · sist endret av {d.updated_by}" if d.updated_by else ""))
        st.markdown("**Automatisk merking** (sikkerhet 0–1 og begrunnelse)")
        if not item.automatic:
            st.write("Merkingen fant ingen sektorer eller kriterier for dette eksempelet.")
        for tag in item.automatic:
            if tag.kind == "phase" or not tag.evidence:
                st.write("• " + _tag_line(tag, names))
            else:
                with st.expander("• " + _tag_line(tag, names)):
                    for sentence in tag.evidence:
                        st.markdown(f"> {md_escape(sentence)}")
        key = f"k-{item.example_id}-{d.version}"
        with st.form(f"{key}-skjema"):
            st.multiselect("Sektorer", taxonomy.ids("sector"), default=list(item.labels("sector")),
                           format_func=lambda s: names("sector", s), key=f"{key}-sector",
                           placeholder="Ingen sektorer valgt")
            st.multiselect("Kriterier", taxonomy.ids("criterion"), default=list(item.labels("criterion")),
                           format_func=lambda s: names("criterion", s), key=f"{key}-criterion",
                           placeholder="Ingen kriterier valgt")
            st.checkbox("Anbefalt eksempel (vises med merke og løftes i søket)", value=d.recommended,
                        key=f"{key}-anbefalt")
            st.text_area("Notat", value=d.note, max_chars=4000, key=f"{key}-notat")
            st.form_submit_button("Lagre og merk som gjennomgått", type="primary", on_click=_save,
                                  args=(curator, item.example_id, d.version))
        st.button("Angre siste endring", on_click=_undo, args=(curator, item.example_id, d.version),
                  key=f"{key}-angre", disabled=d.version == 0)
        history = desk().history(curator, item.example_id, limit=50)
        if history:
            st.markdown("**Historikk**")
            st.dataframe([{"Når": h.at.replace("T", " ")[:16], "Hvem": h.user, "Hva": h.action,
                           "Versjon": h.version} for h in history], hide_index=True, width="stretch")


def _history(curator: Curator) -> None:
    entries = desk().history(curator, limit=300)
    if not entries:
        st.info("Ingen endringer ennå.")
        return
    st.dataframe([{"Når": h.at.replace("T", " ")[:16], "Hvem": h.user, "Eksempel": h.example_id, "Hva": h.action,
                   "Versjon": h.version} for h in entries], hide_index=True, width="stretch")


UPLOAD_HEADROOM = 4


def _upload(curator: Curator) -> None:
    limit_mb = max_upload_bytes() / (1024 * 1024)
    st.write(f"Last opp nye søknader som PDF (høyst {limit_mb:.0f} MB per fil). De leses inn, merkes og blir "
             "søkbare med en gang; du får en rapport over hva som ble lagt inn og hva som ikke kunne brukes.")
    # The widget lets files up to UPLOAD_HEADROOM × the limit through, so that an oversized PDF gets our
    # Norwegian refusal from save_uploads (which checks size and content) rather than Streamlit's English
    # one; only a file beyond that is refused by the browser at once.
    files = st.file_uploader("Søknader (PDF)", accept_multiple_files=True, key="k-filer",
                             max_upload_size=max(1, int(-(-limit_mb * UPLOAD_HEADROOM // 1))))
    if not st.button("Legg inn", type="primary", disabled=not files, key="k-legg-inn"):
        return
    try:
        outcome = save_uploads([(f.name, f.getvalue()) for f in files or []], default_corpus_root(), curator)
    except InnosokError as exc:
        st.error(str(exc))
        return
    for refusal in outcome.refused:
        st.error(refusal.message)
    for twin in outcome.already_there:
        st.info(f"Filen finnes allerede som {twin} og ble ikke lagt inn på nytt.")
    if not outcome.saved:
        return
    bar = st.progress(0.0, text="Leser søknadene …")

    def progress(done: int, total: int, name: str) -> None:
        bar.progress(done / total if total else 1.0, text=f"Leser {done + 1 if name else done} av {total}: {name}"
                     if name else f"Ferdig: {done} av {total} filer lest.")

    try:
        report = run_ingest(default_corpus_root(), default_index_root(), default_store_path(), progress)
    except InnosokError as exc:
        st.error(str(exc))
        return
    st.success(f"Innlesingen er ferdig på {report.seconds:.1f} s: {len(report.added)} nye, "
               f"{len(report.changed)} endrede filer. Indeksen har {report.examples} innovasjonseksempler.")
    for note in report.notes:
        st.info(note)
    for problem in report.problems:
        st.error(f"{problem.file}: {problem.message}")
    st.download_button("Last ned rapporten (JSON)", report.to_json(), file_name="innlesing.json",
                       mime="application/json", key="k-rapport")


def render() -> None:
    """The whole page."""
    st.title("Kurering")
    try:
        desk()
    except InnosokError as exc:
        st.error(str(exc))
        return
    curator = signed_in()
    _show_messages()
    if curator is None:
        _sign_in_form()
        return
    who, out = st.columns([5, 1], vertical_alignment="center")
    who.caption(f"Innlogget som **{html.escape(curator.username)}**")
    out.button("Logg ut", on_click=_sign_out, key="kurator-logg-ut", width="stretch")
    tabs = st.tabs(["Gjennomgang", "Historikk", "Last opp søknader"])
    for tab, part in zip(tabs, (_queue, _history, _upload)):
        with tab:  # each tab on its own: no index yet must not hide the upload that would build one
            try:
                part(curator)
            except AuthenticationError as exc:
                st.session_state.pop(SESSION_KEY, None)
                st.error(str(exc))
                return
            except (CurationError, InnosokError) as exc:
                st.error(str(exc))


if __name__ == "__main__":
    render()
