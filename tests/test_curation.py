"""Curation: the store (users, decisions, history, undo, export/import), its effect on the index
(survives a rebuild, recommended boosted and filterable), two concurrent writers, the page behind its
sign-in, and uploads. Real PDFs, a real temporary index, a real SQLite file; no mocks."""

from __future__ import annotations

import io
import json
import multiprocessing
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from conftest import application, copy_sample
from ingest.curation import (
    NO_CURATORS_MESSAGE,
    WRONG_SIGNIN,
    AuthenticationError,
    ConflictError,
    CurationImportError,
    CurationStore,
    Curator,
    Decision,
    NothingToUndoError,
    UserError,
    apply_curation,
    curate_example,
    curated_labels,
)
from ingest.records import Application, InnovationExample, Municipality, Section, Tag
from ingest.searchindex import Filters, SearchIndex
from search_app.cli import main
from search_app.curation import CurationDesk
from search_app.upload import UploadRejected, check_upload, run_ingest, safe_filename, save_uploads

PASSWORD = "Korrekt hest batteri 42"
SMALL = ("pdf/2015/2015-asker.pdf", "pdf/2016/2016-bergen.pdf", "pdf/2017/2017-stjordal.pdf",
         "pdf/2018/2018-molde.pdf", "pdf/2019/2019-kristiansand.pdf")
PAGE = "from search_app.views.kurator import render\nrender()\n"


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Five real sample PDFs (with the manifest) and their index, built once: (corpus, index)."""
    from ingest.pipeline import ingest

    base = tmp_path_factory.mktemp("small")
    corpus = copy_sample(base / "corpus", SMALL)
    ingest(corpus, base / "index", progress=False, curation=base / "none.sqlite")
    return corpus, base / "index"


@pytest.fixture
def site(small_corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A private copy of the small corpus and index, a fresh curation store, env pointing at them."""
    corpus, index = small_corpus
    paths = {"corpus": tmp_path / "corpus", "index": tmp_path / "index", "store": tmp_path / "kur" / "s.sqlite"}
    shutil.copytree(corpus, paths["corpus"])
    shutil.copytree(index, paths["index"])
    monkeypatch.setenv("INNOSOK_INDEX", str(paths["index"]))
    monkeypatch.setenv("INNOSOK_CURATION", str(paths["store"]))
    monkeypatch.setenv("INNOSOK_CORPUS", str(paths["corpus"]))
    return paths


def _desk_with_curator(site: dict[str, Path], name: str = "kari") -> tuple[CurationDesk, Curator]:
    desk = CurationDesk(site["index"], site["store"])
    desk.store.add_user(name, PASSWORD)
    return desk, desk.sign_in(name, PASSWORD)


def _hits(index_root: Path, text: str, **filters: Any) -> list[Any]:
    index = SearchIndex.open(index_root)
    try:
        return list(index.search(text, Filters(**filters), limit=50).hits)
    finally:
        index.close()


# -- users and sign-in ------------------------------------------------------------------------------


def test_passwords_are_stored_only_as_scrypt_hashes(tmp_path: Path) -> None:
    store = CurationStore(tmp_path / "s.sqlite")
    store.add_user("Kari", PASSWORD)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("s.sqlite*"))
    assert PASSWORD.encode() not in raw
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        (stored,) = db.execute("SELECT password_hash FROM users WHERE username='kari'").fetchone()
    scheme, n, r, p, salt, key = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2 ** 17, 8, 1) and len(salt) >= 22 and len(key) >= 43
    assert [u.username for u in store.users()] == ["kari"]


def test_no_default_user_and_a_clear_message_until_one_exists(tmp_path: Path) -> None:
    store = CurationStore(tmp_path / "s.sqlite")
    assert not store.has_users() and store.users() == ()
    for name in ("admin", "kurator", ""):
        with pytest.raises(AuthenticationError) as err:
            store.authenticate(name, "admin")
        assert str(err.value) == NO_CURATORS_MESSAGE and "innosok users add" in str(err.value)


def test_weak_or_duplicate_users_are_refused_and_wrong_passwords_lock(tmp_path: Path) -> None:
    store = CurationStore(tmp_path / "s.sqlite")
    with pytest.raises(UserError, match="minst 12 tegn"):
        store.add_user("kari", "kort")
    with pytest.raises(UserError, match="Brukernavnet"):
        store.add_user("../kari", PASSWORD)
    store.add_user("kari", PASSWORD)
    with pytest.raises(UserError, match="finnes allerede"):
        store.add_user("KARI", PASSWORD)
    for _ in range(5):
        with pytest.raises(AuthenticationError) as err:
            store.authenticate("kari", "feil passord her")
        assert str(err.value) == WRONG_SIGNIN
    with pytest.raises(AuthenticationError, match="sperret"):
        store.authenticate("kari", PASSWORD)  # even the right password, while locked
    with pytest.raises(AuthenticationError) as err:
        store.authenticate("ola", PASSWORD)
    assert str(err.value) == WRONG_SIGNIN  # an unknown name says the same as a wrong password


def test_sessions_cannot_be_forged_and_end_when_the_user_is_removed(tmp_path: Path) -> None:
    store = CurationStore(tmp_path / "s.sqlite")
    store.add_user("kari", PASSWORD)
    curator = store.authenticate("kari", PASSWORD)
    assert store.check(curator) == curator
    for fake in (None, Curator("kari", curator.signed_in_at), Curator("kari", curator.signed_in_at, "0" * 64)):
        with pytest.raises(AuthenticationError):
            store.check(fake)
    store.remove_user("kari")
    with pytest.raises(AuthenticationError, match="finnes ikke lenger"):
        store.check(curator)
    store.add_user("kari", PASSWORD)  # same name again: the old sign-in stays dead
    with pytest.raises(AuthenticationError):
        store.check(curator)


def test_a_new_password_ends_old_sign_ins_and_lifts_a_lock(tmp_path: Path) -> None:
    store = CurationStore(tmp_path / "s.sqlite")
    store.add_user("kari", PASSWORD)
    curator = store.authenticate("kari", PASSWORD)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            store.authenticate("kari", "feil passord her")
    with pytest.raises(UserError, match="minst 12 tegn"):
        store.set_password("kari", "kort")
    with pytest.raises(UserError, match="Fant ingen bruker"):
        store.set_password("ola", "Et helt nytt passord 7")
    store.set_password("kari", "Et helt nytt passord 7")
    with pytest.raises(AuthenticationError, match="ikke gyldig"):
        store.check(curator)  # signed in with the old password: out
    with pytest.raises(AuthenticationError):
        store.authenticate("kari", PASSWORD)
    assert store.check(store.authenticate("kari", "Et helt nytt passord 7")).username == "kari"


def test_users_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "s.sqlite")
    assert main(["users", "list", "--store", store]) == 0
    assert "innosok users add" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "kari", "--password-stdin", "--store", store]) == 0
    assert "opprettet" in capsys.readouterr().out
    assert CurationStore(Path(store)).authenticate("kari", PASSWORD).username == "kari"
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal, no --password-stdin: refuse
    assert main(["users", "add", "ola", "--store", store]) == 2
    assert "--password-stdin" in capsys.readouterr().err
    assert main(["users", "list", "--store", store]) == 0
    assert capsys.readouterr().out.startswith("kari\t")
    monkeypatch.setattr("sys.stdin", io.StringIO("Et helt nytt passord 7\n"))
    assert main(["users", "password", "kari", "--password-stdin", "--store", store]) == 0
    assert "Nytt passord" in capsys.readouterr().out
    assert CurationStore(Path(store)).authenticate("kari", "Et helt nytt passord 7").username == "kari"
    assert main(["users", "remove", "kari", "--store", store]) == 0
    assert main(["users", "remove", "kari", "--store", store]) == 2
    assert "Fant ingen bruker" in capsys.readouterr().err


# -- decisions, conflicts, history, undo ------------------------------------------------------------


def test_a_stale_writer_gets_a_conflict_with_the_current_state(tmp_path: Path) -> None:
    store = CurationStore(tmp_path / "s.sqlite")
    ex = "0123456789ab-1"
    first = store.save(Decision(ex, sectors=("helse",)), user="kari", expected_version=0)
    assert first.version == 1
    with pytest.raises(ConflictError) as err:
        store.save(Decision(ex, recommended=True), user="ola", expected_version=0)
    assert err.value.current == (first,)
    assert "endret av kari" in str(err.value)
    assert store.decision(ex) == first  # nothing written
    assert len(store.history(ex)) == 1


def test_bulk_saves_all_or_nothing(tmp_path: Path) -> None:
    store = CurationStore(tmp_path / "s.sqlite")
    a, b = "0123456789ab-1", "0123456789ab-2"
    store.save(Decision(b, note="ola var her"), user="ola", expected_version=0)
    with pytest.raises(ConflictError) as err:
        store.save_many([(Decision(a, recommended=True), 0), (Decision(b, recommended=True), 0)], user="kari")
    assert [d.example_id for d in err.value.current] == [b]
    assert store.decision(a).version == 0 and store.decision(b).note == "ola var her"


def test_history_is_append_only_and_undo_walks_back(tmp_path: Path) -> None:
    store = CurationStore(tmp_path / "s.sqlite")
    ex = "0123456789ab-1"
    store.save(Decision(ex, sectors=("helse",)), user="kari", expected_version=0)
    store.save(Decision(ex, sectors=("helse", "kultur"), recommended=True), user="ola", expected_version=1)
    back = store.undo(ex, user="kari", expected_version=2)
    assert (back.sectors, back.recommended, back.version) == (("helse",), False, 3)
    back = store.undo(ex, user="kari", expected_version=3)
    assert back.is_empty and back.version == 4
    with pytest.raises(NothingToUndoError):
        store.undo(ex, user="kari", expected_version=4)
    entries = store.history(ex)
    assert [(h.user, h.action, h.version) for h in entries][-2:] == [("ola", "endret", 2), ("kari", "endret", 1)]
    assert [h.undoes for h in entries[:2]] == [1, 2]
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        for sql in ("UPDATE history SET user='x'", "DELETE FROM history"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                db.execute(sql)


def test_unknown_labels_and_bad_ids_are_refused(tmp_path: Path) -> None:
    store = CurationStore(tmp_path / "s.sqlite")
    with pytest.raises(Exception, match="Ukjent sektor: sport"):
        store.save(Decision("0123456789ab-1", sectors=("sport",)), user="kari", expected_version=0)
    with pytest.raises(Exception, match="gyldig eksempel-id"):
        store.save(Decision("../../x", recommended=True), user="kari", expected_version=0)


def _writer(store: str, index: str, example_id: str, name: str, rounds: int, start: Any, out: Any) -> None:
    """One curator editing one example `rounds` times, retrying after every conflict like a person would."""
    desk = CurationDesk(Path(index), Path(store))
    curator = desk.sign_in(name, PASSWORD)
    conflicts = 0
    start.wait()
    for i in range(rounds):
        while True:
            item = desk.item(curator, example_id)
            d = item.decision
            sector = "helse" if name == "kari" else "kultur"
            sectors = tuple(dict.fromkeys((*(d.sectors or ()), sector)))
            try:
                desk.edit(curator, example_id, d.version, note=d.note + f"{name}-{i}\n", sectors=sectors)
                break
            except ConflictError:
                conflicts += 1
    out.put((name, conflicts))


def test_two_concurrent_writers_lose_nothing(site: dict[str, Path]) -> None:
    desk, _ = _desk_with_curator(site, "kari")
    desk.store.add_user("ola", PASSWORD)
    example_id = _hits(site["index"], "")[0].example_id
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Barrier(2), ctx.Queue()
    rounds = 12
    procs = [ctx.Process(target=_writer, args=(str(site["store"]), str(site["index"]), example_id, name, rounds,
                                                 start, out)) for name in ("kari", "ola")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
        assert p.exitcode == 0
    results = dict(out.get(timeout=5) for _ in procs)
    final = desk.store.decision(example_id)
    lines = final.note.splitlines()
    assert sorted(lines) == sorted(f"{n}-{i}" for n in ("kari", "ola") for i in range(rounds))
    assert set(final.sectors or ()) == {"helse", "kultur"}
    history = desk.store.history(example_id)
    assert final.version == 2 * rounds == len(history)
    assert sorted(h.version for h in history) == list(range(1, 2 * rounds + 1))
    assert set(results) == {"kari", "ola"}  # conflicts are expected but timing-dependent: only counted
    hit = next(h for h in _hits(site["index"], "", sectors=("kultur",)) if h.example_id == example_id)
    assert set(hit.sectors) == {"helse", "kultur"}  # the index ends where the store ends


# -- the index: overrides, rebuild, boost, filter ---------------------------------------------------


def test_curated_edit_survives_ingest_rebuild(site: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    desk, kari = _desk_with_curator(site)
    target = _hits(site["index"], "")[-1].example_id
    desk.edit(kari, target, 0, sectors=("kultur", "ledelse"), criteria=("nyhet",), recommended=True,
              note="Godt eksempel")
    assert main(["ingest", str(site["corpus"]), "--index", str(site["index"]), "--rebuild", "--quiet"]) == 0
    capsys.readouterr()
    index = SearchIndex.open(site["index"])
    try:
        ex, _ = index.example(target)
    finally:
        index.close()
    assert ex.labels("sector") == ("kultur", "ledelse") and ex.labels("criterion") == ("nyhet",)
    assert {t.source for t in ex.tags if t.kind in ("sector", "criterion")} == {"kurator"}
    assert ex.recommended
    assert [h.example_id for h in _hits(site["index"], "", recommended=True)] == [target]
    assert main(["show", target, "--index", str(site["index"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["example"]["recommended"] is True


def test_recommended_examples_are_boosted_and_filterable(site: dict[str, Path]) -> None:
    desk, kari = _desk_with_curator(site)
    before = _hits(site["index"], "kommune")
    assert len(before) >= 3
    low = before[-1]
    result = desk.edit(kari, low.example_id, 0, recommended=True)
    assert result.index_message == ""  # single-document update, visible at once
    after = {h.example_id: h for h in _hits(site["index"], "kommune")}
    assert after[low.example_id].recommended
    assert after[low.example_id].score == pytest.approx(low.score * 1.3, rel=0.05)
    assert not any(h.recommended for i, h in after.items() if i != low.example_id)
    assert [h.example_id for h in _hits(site["index"], "kommune", recommended=True)] == [low.example_id]


def test_undo_restores_the_taggers_tags() -> None:
    auto = (Tag("sector", "helse", 0.55, "modell", ("Sensorer i hjemmetjenesten.",)),
            Tag("criterion", "nyhet", 0.9, "regel"), Tag("phase", "i_bruk", 0.8, "regel"))
    ex = InnovationExample("0123456789ab-1", "0123456789ab", 1, "Tittel", (Section("x", "", "tekst"),), tags=auto)
    curated = curate_example(ex, Decision(ex.id, sectors=("helse", "kultur"), criteria=(), recommended=True,
                                          version=1))
    assert [(t.kind, t.label, t.source) for t in curated.tags] == [
        ("sector", "helse", "kurator"), ("sector", "kultur", "kurator"), ("phase", "i_bruk", "regel")]
    assert curated.tags[0].evidence == ("Sensorer i hjemmetjenesten.",) and curated.recommended
    assert curate_example(curated, Decision(ex.id, sectors=("helse", "kultur"), criteria=(), recommended=True,
                                            version=2)) == curated  # idempotent
    assert curate_example(curated, None) == ex  # undo to nothing: the tagger's tags again
    app = Application("0123456789ab", "a.pdf", "0" * 64, 2017, "2016-2019", Municipality("Asker"), examples=(ex,))
    assert apply_curation(app, {}) is app


def test_a_decision_saved_while_the_index_was_busy_reaches_it_on_the_next_ingest(site: dict[str, Path]) -> None:
    from ingest.pipeline import ingest

    store = CurationStore(site["store"])
    target = _hits(site["index"], "")[0].example_id
    store.save(Decision(target, recommended=True), user="kari", expected_version=0)  # the index never heard of it
    assert _hits(site["index"], "", recommended=True) == []
    report = ingest(site["corpus"], site["index"], progress=False, curation=site["store"])
    assert report.unchanged == len(SMALL) and any("Kuratorenes vedtak" in n for n in report.notes)
    assert [h.example_id for h in _hits(site["index"], "", recommended=True)] == [target]
    # the index follows the store both ways, and says so loudly when the store is not where it looked
    report = ingest(site["corpus"], site["index"], progress=False, curation=site["store"].with_name("borte.sqlite"))
    assert any("Fant ingen kureringsdatabase" in n for n in report.notes)
    assert _hits(site["index"], "", recommended=True) == []
    ingest(site["corpus"], site["index"], progress=False, curation=site["store"])
    assert [h.example_id for h in _hits(site["index"], "", recommended=True)] == [target]


def test_curated_labels_hook_for_training(tmp_path: Path) -> None:
    store = CurationStore(tmp_path / "s.sqlite")
    store.save(Decision("0123456789ab-1", sectors=("helse",)), user="kari", expected_version=0)
    store.save(Decision("0123456789ab-2", recommended=True), user="kari", expected_version=0)
    store.save(Decision("0123456789ab-3", criteria=()), user="kari", expected_version=0)
    labels = curated_labels(tmp_path / "s.sqlite")
    assert set(labels) == {"0123456789ab-1", "0123456789ab-3"}
    assert labels["0123456789ab-1"].sectors == ("helse",) and labels["0123456789ab-1"].criteria is None
    assert labels["0123456789ab-3"].criteria == ()
    assert curated_labels(tmp_path / "missing.sqlite") == {}


# -- export and import ------------------------------------------------------------------------------

_labels = st.one_of(st.none(), st.lists(st.sampled_from(["helse", "oppvekst", "kultur", "plan"]), unique=True,
                                        max_size=3).map(tuple))
_decisions = st.builds(
    Decision, example_id=st.from_regex(r"[0-9a-f]{12}-[1-3]", fullmatch=True), sectors=_labels,
    criteria=st.one_of(st.none(), st.lists(st.sampled_from(["nyhet", "verdi"]), unique=True).map(tuple)),
    recommended=st.booleans(), reviewed=st.booleans(),
    note=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(decisions=st.lists(_decisions, max_size=6, unique_by=lambda d: d.example_id),
       fmt=st.sampled_from(["json", "csv"]))
def test_export_import_round_trip(decisions: list[Decision], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source, target = CurationStore(Path(tmp) / "a.sqlite"), CurationStore(Path(tmp) / "b.sqlite")
        for d in decisions:
            source.save(d, user="kari", expected_version=0)
        path = Path(tmp) / f"kurering.{fmt}"
        source.export(path)
        report = target.import_file(path, user="import")
        wanted = {d.example_id: d.content() for d in decisions if not d.is_empty}
        assert {i: d.content() for i, d in target.decisions().items()} == wanted
        assert set(report.added) == set(wanted) and not report.conflicts
        assert target.import_file(path, user="import").unchanged == tuple(sorted(wanted)) or fmt == "json"


def test_import_never_silently_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    ex = "0123456789ab-1"
    CurationStore(a).save(Decision(ex, sectors=("helse",), note="fra Oslo"), user="kari", expected_version=0)
    here = CurationStore(b)
    here.save(Decision(ex, sectors=("kultur",), note="lokalt"), user="ola", expected_version=0)
    out = tmp_path / "kurering.json"
    assert main(["curation", "export", str(out), "--store", str(a), "--index", str(tmp_path / "ingen")]) == 0
    assert main(["curation", "import", str(out), "--store", str(b), "--index", str(tmp_path / "ingen")]) == 1
    assert "bruk --overwrite" in capsys.readouterr().out
    assert here.decision(ex).note == "lokalt"
    assert main(["curation", "import", str(out), "--store", str(b), "--overwrite",
                 "--index", str(tmp_path / "ingen")]) == 0
    assert here.decision(ex).note == "fra Oslo"
    back = here.undo(ex, user="ola", expected_version=here.decision(ex).version)
    assert back.note == "lokalt" and back.sectors == ("kultur",)
    fresh = CurationStore(tmp_path / "c.sqlite")
    assert fresh.import_file(out, user="import").added == (ex,)
    assert [h.action for h in fresh.history(ex)] == ["importert", "endret (import:kurering.json)"]  # history came along
    assert fresh.undo(ex, user="import", expected_version=1).is_empty
    with pytest.raises(NothingToUndoError):  # the other installation's history is shown, not undone here
        fresh.undo(ex, user="import", expected_version=2)


def test_broken_import_files_are_named_and_nothing_is_written(tmp_path: Path) -> None:
    store = CurationStore(tmp_path / "s.sqlite")
    csv_file = tmp_path / "k.csv"
    csv_file.write_text("example_id,sectors,criteria,recommended\n0123456789ab-1,helse,,ja\n"
                        "0123456789ab-2,fotball,,nei\n", encoding="utf-8")
    with pytest.raises(CurationImportError, match="Linje 3.*Ukjent sektor: fotball"):
        store.import_file(csv_file, user="import")
    assert store.decisions() == {}
    json_file = tmp_path / "k.json"
    json_file.write_text('{"decisions": []}', encoding="utf-8")
    with pytest.raises(CurationImportError, match="ikke en eksport"):
        store.import_file(json_file, user="import")


# -- the page ---------------------------------------------------------------------------------------


def _page() -> AppTest:
    return AppTest.from_string(PAGE, default_timeout=60)


def _labels_of(at: AppTest, kind: str) -> list[str]:
    return [w.label for w in getattr(at, kind)]


def test_unauthenticated_session_cannot_reach_the_page_or_its_actions(site: dict[str, Path]) -> None:
    at = _page().run()
    assert not at.exception
    assert any(NO_CURATORS_MESSAGE in w.value for w in at.warning)
    assert _labels_of(at, "button") == [] and _labels_of(at, "multiselect") == []
    desk, _ = _desk_with_curator(site)
    at = _page().run()
    assert _labels_of(at, "text_input") == ["Brukernavn", "Passord"]
    assert _labels_of(at, "button") == ["Logg inn"]
    assert not at.tabs and _labels_of(at, "multiselect") == [] and _labels_of(at, "selectbox") == []
    at.text_input(key="kurator-bruker").input("kari")
    at.text_input(key="kurator-passord").input("feil passord igjen")
    at.button[0].click().run()
    assert [e.value for e in at.error] == [WRONG_SIGNIN] and not at.tabs
    target = _hits(site["index"], "")[0].example_id
    for action in (lambda c: desk.queue(c), lambda c: desk.edit(c, target, 0, recommended=True),
                   lambda c: desk.bulk(c, {target: 0}, "anbefal"), lambda c: desk.undo(c, target, 0),
                   lambda c: desk.history(c),
                   lambda c: save_uploads([("a.pdf", b"%PDF-1.4")], site["corpus"], c)):
        for fake in (None, Curator("kari", "2026-01-01T00:00:00+00:00")):
            with pytest.raises((AuthenticationError, UploadRejected)):
                action(fake)
    assert desk.store.decisions() == {} and not (site["corpus"] / "opplastet").exists()


def _sign_in(at: AppTest) -> AppTest:
    at.run()
    at.text_input(key="kurator-bruker").input("kari")
    at.text_input(key="kurator-passord").input(PASSWORD)
    return at.button[0].click().run()


def test_curator_corrects_tags_and_sees_a_conflict_instead_of_overwriting(site: dict[str, Path]) -> None:
    desk, _ = _desk_with_curator(site)
    at = _sign_in(_page())
    assert not at.exception and [t.label for t in at.tabs] == ["Gjennomgang", "Historikk", "Last opp søknader"]
    example_id = at.selectbox(key="k-valgt").value
    key = f"k-{example_id}-0"
    at.multiselect(key=f"{key}-sector").set_value(["oppvekst", "kultur"])
    at.checkbox(key=f"{key}-anbefalt").check()
    at.text_area(key=f"{key}-notat").input("Se også Bærum.")
    next(b for b in at.button if b.label.startswith("Lagre")).click().run()
    assert not at.exception and any("Lagret" in s.value for s in at.success)
    saved = desk.store.decision(example_id)
    assert (saved.sectors, saved.recommended, saved.reviewed, saved.updated_by) == (
        ("oppvekst", "kultur"), True, True, "kari")
    hit = next(h for h in _hits(site["index"], "", recommended=True))
    assert hit.example_id == example_id and hit.sectors == ("oppvekst", "kultur")

    # someone else changes it while kari has the form open: kari's save is refused, ola's change stays
    at.selectbox(key="k-utvalg-visning").set_value("alle").run()
    at.selectbox(key="k-valgt").set_value(example_id).run()
    desk.store.add_user("ola", PASSWORD)
    ola = desk.sign_in("ola", PASSWORD)
    desk.edit(ola, example_id, 1, note="Ola har rettet dette.")
    at.text_area(key=f"k-{example_id}-1-notat").input("Kari sin tekst")
    next(b for b in at.button if b.label.startswith("Lagre")).click().run()
    assert any("endret av ola" in e.value for e in at.error)
    assert desk.store.decision(example_id).note == "Ola har rettet dette."
    assert at.text_area(key=f"k-{example_id}-2-notat").value == "Ola har rettet dette."  # she sees it now

    next(b for b in at.button if b.label == "Angre siste endring").click().run()
    assert desk.store.decision(example_id).note == "Se også Bærum."
    at.button(key="kurator-logg-ut").click().run()
    assert _labels_of(at, "button") == ["Logg inn"] and not at.tabs


def test_bulk_action_on_a_selection(site: dict[str, Path]) -> None:
    desk, _ = _desk_with_curator(site)
    at = _sign_in(_page())
    options = at.multiselect(key="k-utvalg").options
    assert len(options) >= 3
    ids = [i.example_id for i in desk.queue(desk.sign_in("kari", PASSWORD))][:2]
    at.multiselect(key="k-utvalg").set_value(ids)
    at.selectbox(key="k-handling").set_value("legg-til-sektor").run()
    at.selectbox(key="k-handling-sektor").set_value("integrering")
    at.button(key="k-utfor").click().run()
    assert not at.exception and any("2 eksempler" in s.value for s in at.success)
    assert {h.example_id for h in _hits(site["index"], "", sectors=("integrering",))} == set(ids)
    assert all(desk.store.decision(i).version == 1 for i in ids)


# -- uploads ----------------------------------------------------------------------------------------


def test_upload_refuses_non_pdfs_and_oversized_files_with_a_message(site: dict[str, Path], make_pdf: Any) -> None:
    desk, kari = _desk_with_curator(site)
    docx = b"PK\x03\x04" + b"\x00" * 200
    with pytest.raises(UploadRejected, match="ikke en PDF.*Word"):
        check_upload("søknad.pdf", docx)
    with pytest.raises(UploadRejected, match="for stor.*Grensen er 1,0 MB"):
        check_upload("stor.pdf", b"%PDF-1.7\n" + b"0" * (1024 * 1024), max_bytes=1024 * 1024)
    with pytest.raises(UploadRejected, match="tom"):
        check_upload("tom.pdf", b"")
    real = make_pdf(application(2019, slug="opplasting", municipality="Vinje kommune", kommunenummer="3825",
                                fylkesnummer="38"), "Søknad Vinje 2019.PDF")
    outcome = save_uploads([("søknad.pdf", docx), ("../../../etc/Søknad Vinje 2019.PDF", real.read_bytes()),
                            ("stor.pdf", b"%PDF-1.7\n" + b"0" * (1024 * 1024))],
                           site["corpus"], kari, max_bytes=1024 * 1024)
    assert outcome.saved == ("opplastet/søknad-vinje-2019.pdf",)
    assert [r.name for r in outcome.refused] == ["søknad.pdf", "stor.pdf"]
    assert "ikke en PDF" in outcome.refused[0].message and "for stor" in outcome.refused[1].message
    assert sorted(p.name for p in (site["corpus"] / "opplastet").iterdir()) == ["søknad-vinje-2019.pdf"]
    steps: list[tuple[int, int]] = []
    report = run_ingest(site["corpus"], site["index"], site["store"], lambda d, t, n: steps.append((d, t)))
    assert report.added == ("opplastet/søknad-vinje-2019.pdf",) and steps[-1] == (1, 1)
    assert any(h.municipality == "Vinje kommune" for h in _hits(site["index"], "sensorer"))
    again = save_uploads([("kopi.pdf", real.read_bytes())], site["corpus"], kari)
    assert again.saved == () and again.already_there == ("opplastet/søknad-vinje-2019.pdf",)


@pytest.mark.parametrize("name, safe", [
    ("Søknad Ålesund 2019.PDF", "søknad-ålesund-2019.pdf"),
    ("../../etc/passwd", "passwd.pdf"),
    ("..\\..\\windows\\x.pdf", "x.pdf"),
    (".skjult.pdf", "skjult.pdf"),
    ("a<b>|c:d?.pdf", "a-b-c-d.pdf"),
    ("....pdf", "soknad.pdf"),
])
def test_safe_file_names(name: str, safe: str) -> None:
    assert safe_filename(name) == safe
