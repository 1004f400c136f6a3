"""OCR of scanned applications with Tesseract (installed by `make test`): Norwegian text from images."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CORPUS
from ingest import ocr
from ingest.errors import FileProblemError
from ingest.extract import ExtractLimits, extract
from ingest.parse import parse

SCAN = CORPUS / "pdf" / "2016" / "2016-steinkjer.pdf"  # rendered as page images, no text layer


@pytest.fixture(scope="module", autouse=True)
def tesseract() -> None:
    if not ocr.available():
        pytest.fail("tesseract with Norwegian is missing: `make test` installs it (tesseract-ocr, tesseract-ocr-nor)")


def test_a_scanned_application_is_read_with_its_norwegian_letters() -> None:
    doc = extract(SCAN)
    assert doc.method == "ocr" and len(doc.pages) == 2
    assert "Steinkjer kommune" in doc.text and "Næringshage for landbruket" in doc.text
    assert sum(doc.text.count(c) for c in "æøå") > 20
    parsed = parse(doc)
    assert [e.title for e in parsed.examples] == ["Næringshage for landbruket"]


def test_without_ocr_a_scan_is_reported_as_needing_it() -> None:
    with pytest.raises(FileProblemError) as err:
        extract(SCAN, ExtractLimits(ocr=False))
    assert err.value.kind == "mangler-tekst"


def test_an_image_without_words_stays_a_scan_without_text(tmp_path: Path) -> None:
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    from PIL import Image

    image = tmp_path / "grey.png"
    Image.new("L", (800, 1100), 200).save(image)
    pdf = tmp_path / "tom-skanning.pdf"
    c = canvas.Canvas(str(pdf))
    c.drawImage(ImageReader(str(image)), 0, 0, width=595, height=842)
    c.save()
    with pytest.raises(FileProblemError) as err:
        extract(pdf)
    assert err.value.kind == "mangler-tekst"
