"""Incremental ingest on a real temporary corpus and index: add, change, remove, rebuild, fail safely."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from conftest import application
from ingest.errors import IndexMissingError
from ingest.pipeline import ingest
from ingest.records import Application
from ingest.searchindex import SearchIndex
from search_app.api import Library


@pytest.fixture
def corpus(tmp_path: Path, make_pdf: Callable[..., Path]) -> Path:
    folder = tmp_path / "corpus"
    make_pdf(application(2017), "2017-a.pdf", folder)
    make_pdf(application(2018, "nn"), "2018-b.pdf", folder)
    return folder


def test_incremental_add_change_remove(tmp_path: Path, corpus: Path, make_pdf: Callable[..., Path]) -> None:
    index = tmp_path / "index"
    first = ingest(corpus, index, progress=False)
    assert first.rebuilt and sorted(first.added) == ["2017-a.pdf", "2018-b.pdf"]
    assert first.examples == 4 and first.applications == 2

    again = ingest(corpus, index, progress=False)
    assert again.added == () and again.changed == () and again.unchanged == 2 and not again.rebuilt

    make_pdf(application(2019, contact_name="Ola Nytt"), "2017-a.pdf", corpus)  # changed content
    (corpus / "2018-b.pdf").unlink()
    make_pdf(application(2016), "sub/2016-c.pdf", corpus)
    third = ingest(corpus, index, progress=False)
    assert third.changed == ("2017-a.pdf",) and third.removed == ("2018-b.pdf",) and third.added == ("sub/2016-c.pdf",)
    assert third.applications == 2 and third.examples == 4
    assert set(SearchIndex.open(index).catalog()) == {"2017-a.pdf", "sub/2016-c.pdf"}


def test_ids_are_stable_across_rebuilds(tmp_path: Path, corpus: Path) -> None:
    ingest(corpus, tmp_path / "one", progress=False)
    ingest(corpus, tmp_path / "two", progress=False)
    ingest(corpus, tmp_path / "two", progress=False, rebuild=True)
    one = sorted(f["id"] for f in SearchIndex.open(tmp_path / "one").all_examples())
    two = sorted(f["id"] for f in SearchIndex.open(tmp_path / "two").all_examples())
    assert one == two and len(one) == 4


def test_a_failed_run_leaves_the_last_good_index_searchable(tmp_path: Path, corpus: Path, make_pdf) -> None:
    index = tmp_path / "index"
    ingest(corpus, index, progress=False)
    before = Library(index).search("sensorer").total
    assert before == 2
    make_pdf(application(2019), "2019-new.pdf", corpus)

    def broken_tagger(app: Application) -> Application:
        raise RuntimeError("the tagger crashed")

    with pytest.raises(RuntimeError):
        ingest(corpus, index, progress=False, tagger=broken_tagger)
    assert Library(index).search("sensorer").total == before  # the old index, whole
    with pytest.raises(RuntimeError):
        ingest(corpus, index, progress=False, tagger=broken_tagger, rebuild=True)
    assert Library(index).search("sensorer").total == before
    assert len(list(index.glob("gen-*"))) == 1


def test_a_broken_file_is_reported_and_the_batch_goes_on(tmp_path: Path, corpus: Path) -> None:
    (corpus / "notat.pdf").write_bytes(b"PK\x03\x04 this is really a docx")
    (corpus / "kopi.pdf").write_bytes((corpus / "2017-a.pdf").read_bytes())
    report = ingest(corpus, tmp_path / "index", progress=False)
    kinds = {p.file: p.kind for p in report.problems}
    assert kinds["notat.pdf"] == "ikke-pdf"
    assert kinds.get("kopi.pdf", kinds.get("2017-a.pdf")) == "duplikat"
    assert report.applications == 2


def test_searching_before_any_index_exists_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError) as err:
        Library(tmp_path / "nothing")
    assert "innosok ingest" in str(err.value)


def test_missing_corpus_folder_is_a_clear_error(tmp_path: Path) -> None:
    from ingest.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as err:
        ingest(tmp_path / "finnes-ikke", tmp_path / "index", progress=False)
    assert "Fant ikke mappen" in str(err.value)


def test_a_corpus_of_its_own_inside_the_folder_is_not_indexed(tmp_path: Path, corpus: Path,
                                                              make_pdf: Callable[..., Path]) -> None:
    """The sample corpus keeps its supplement in corpus/supplement (own manifest.csv): not part of the archive."""
    from ingest.pipeline import discover

    make_pdf(application(2016), "supplement/pdf/2016/2016-c.pdf", corpus)
    (corpus / "supplement" / "manifest.csv").write_text("file,year\n", encoding="utf-8")
    make_pdf(application(2019), "sub/2019-d.pdf", corpus)  # a plain subfolder is read as ever
    assert [p.relative_to(corpus).as_posix() for p in discover(corpus)] == ["2017-a.pdf", "2018-b.pdf", "sub/2019-d.pdf"]
    report = ingest(corpus, tmp_path / "index", progress=False)
    assert sorted(report.added) == ["2017-a.pdf", "2018-b.pdf", "sub/2019-d.pdf"]


def test_the_shipped_sample_indexes_without_its_supplement() -> None:
    from conftest import CORPUS
    from ingest.pipeline import discover

    files = {p.relative_to(CORPUS).as_posix() for p in discover(CORPUS)}
    assert files and not any(f.startswith("supplement/") for f in files)
    assert any((CORPUS / "supplement" / "pdf").rglob("*.pdf"))
