"""Draw a block list (see `layout.py`) as an A4 word-processor-like PDF with reportlab.

Text layouts (`standard`, `twocolumn`, `formfields`, `letter`) are drawn here; `scanned`
and `encrypted` post-process the `standard` drawing (`raster.py`, `secure.py`).
Everything is deterministic (reportlab `invariant=1`, fixed metadata) because the file
hashes become document ids downstream.
"""
from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.acroform import PDFFromString
from reportlab.platypus import (BaseDocTemplate, CondPageBreak, Flowable, Frame, HRFlowable, PageTemplate,
                                Paragraph, Spacer)
from reportlab.platypus.flowables import BalancedColumns
from pypdf.generic import encode_pdfdocencoding

from . import layout
from .hyphen import MIN_WORD, hyphenator
from .layout import Block, FieldSpec
from .source import Source

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 2.5 * cm
MARGIN_TOP = 2.6 * cm
MARGIN_BOTTOM = 2.4 * cm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
FRAME_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
COLUMN_GAP = 0.8 * cm
GREY = colors.Color(0.42, 0.42, 0.42)
FIELD_FILL = colors.Color(0.94, 0.95, 0.98)
FIELD_BORDER = colors.Color(0.55, 0.58, 0.65)


Styles = dict[str, ParagraphStyle]


def make_styles(source: Source) -> Styles:
    """Paragraph styles; `hyphenate` sources get justified text with word breaks."""
    body = ParagraphStyle(
        "body", fontName="Helvetica", fontSize=10.5, leading=14.5, spaceAfter=6,
        alignment=TA_JUSTIFY if source.hyphenate else TA_LEFT,
    )
    if source.hyphenate:
        body.hyphenationLang = hyphenator
        body.hyphenationMinWordLength = MIN_WORD
        body.embeddedHyphenation = 0
        body.uriWasteReduce = 0
    bold = partial(ParagraphStyle, fontName="Helvetica-Bold", keepWithNext=1)
    return {
        "body": body,
        "bullet": ParagraphStyle("bullet", parent=body, leftIndent=18, bulletIndent=5,
                                 bulletFontName="Symbol", bulletFontSize=10, spaceAfter=3),
        "numbered": ParagraphStyle("numbered", parent=body, leftIndent=20, bulletIndent=2,
                                   bulletFontName="Helvetica", spaceAfter=3),
        "title": bold("title", fontSize=17, leading=21, spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", fontName="Helvetica", fontSize=12, leading=15,
                                   spaceAfter=16, textColor=colors.Color(0.25, 0.25, 0.25)),
        "label": bold("label", fontSize=11, leading=14, spaceBefore=9, spaceAfter=3),
        "sublabel": bold("sublabel", fontSize=10.5, leading=13.5, spaceBefore=7, spaceAfter=3),
        "heading": bold("heading", fontSize=13, leading=16.5, spaceBefore=16, spaceAfter=4),
        "column_heading": bold("column_heading", fontSize=13, leading=16.5, spaceBefore=16, spaceAfter=6,
                               keepWithNext=0),
        "letterhead": bold("letterhead", fontSize=16, leading=20, spaceAfter=4, keepWithNext=0),
        "dateline": ParagraphStyle("dateline", parent=body, alignment=TA_RIGHT, spaceBefore=18, spaceAfter=18),
        "recipient": ParagraphStyle("recipient", parent=body, alignment=TA_LEFT, spaceAfter=16),
        "letter_title": bold("letter_title", fontSize=13, leading=16.5, spaceBefore=6, spaceAfter=8),
        "signature": ParagraphStyle("signature", parent=body, alignment=TA_LEFT, spaceAfter=0),
    }


def escape(text: str) -> str:
    """Plain text to reportlab paragraph markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def flowables(blocks: Sequence[Block], styles: Styles) -> list[Flowable]:
    """Flowables for a block list.

    After a `columns` block the text is set in two columns (left column first, then the
    right, balanced on the last page like a word processor's continuous section), except
    example headings, which span the page so that each example's sections start below
    its own full-width heading.
    """
    out: list[Flowable] = []
    pending: list[Flowable] = []
    in_columns = False

    def flush() -> None:
        if pending:
            out.append(BalancedColumns(list(pending), nCols=2, innerPadding=COLUMN_GAP / 2, leftPadding=0,
                                       rightPadding=0, topPadding=0, bottomPadding=0, needed=48,
                                       spaceAfter=6))
            pending.clear()

    for block in blocks:
        if block.kind == "columns":
            in_columns = True
        elif in_columns and block.kind != "heading":
            pending.extend(_flowable(block, styles))
        elif in_columns:  # a heading above columns: keepWithNext would push both to the next page
            flush()
            out += [CondPageBreak(4 * cm), Paragraph(escape(block.text), styles["column_heading"])]
        else:
            out.extend(_flowable(block, styles))
    flush()
    return out


def _flowable(block: Block, styles: Styles) -> list[Flowable]:
    if block.kind == "field":
        assert block.field is not None
        return [FieldBox(block.field)]
    if block.kind == "bullet":
        return [Paragraph(escape(block.text), styles["bullet"], bulletText="\u2022")]
    if block.kind == "numbered":
        return [Paragraph(escape(block.text), styles["numbered"], bulletText=block.marker)]
    if block.kind == "para":
        return [Paragraph(escape(block.text), styles["body"])]
    if block.kind == "signature" and not block.text:
        return [Spacer(1, 26)]
    flow: list[Flowable] = [Paragraph(escape(block.text), styles[block.kind])]
    if block.kind == "letterhead":
        flow.append(HRFlowable(width="100%", thickness=0.8, color=GREY, spaceBefore=2, spaceAfter=4))
    return flow


class FieldBox(Flowable):
    """A multi-line AcroForm text field holding one answer (layout `formfields`).

    The value is only in the field (and its appearance stream), never in the page's
    content stream: a plain text extractor sees the labels, a form-aware one the answers.
    """

    PAD = 3.0
    SIZES = (10.0, 9.0, 8.0)
    MAX_HEIGHT = 0.55 * FRAME_HEIGHT

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__()
        self.spec = spec
        self.font_size = self.SIZES[0]
        self.lines: list[str] = []
        self.spaceAfter = 4

    def _wrap_lines(self, width: float, size: float) -> list[str]:
        lines: list[str] = []
        for para in self.spec.value.split("\n"):
            lines.extend(simpleSplit(para, "Helvetica", size, width - 2 * self.PAD - 2) or [""])
        return lines

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        for size in self.SIZES:
            self.font_size, self.lines = size, self._wrap_lines(availWidth, size)
            if self._needed() <= self.MAX_HEIGHT:
                break
        self.width, self.height = availWidth, min(self._needed(), self.MAX_HEIGHT)
        return self.width, self.height

    def _needed(self) -> float:
        return len(self.lines) * self.font_size * 1.2 + 2 * self.PAD + 2

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []  # a field is one box: move it to the next frame instead

    def draw(self) -> None:
        form = self.canv.acroForm
        with _appearance(form, self.lines, self.PAD):
            form.textfield(
                name=self.spec.name, tooltip=self.spec.tooltip or None, value=self.spec.value,
                x=0, y=0, width=self.width, height=self.height, relative=True,
                fieldFlags="multiline", maxlen=0, fontName="Helvetica", fontSize=int(self.font_size),
                borderWidth=0.6, borderColor=FIELD_BORDER, fillColor=FIELD_FILL, textColor=colors.black,
                borderStyle="solid",
            )


def _pdf_literal(text: str) -> str:
    """A PDF string literal body in PDFDocEncoding (the encoding reportlab's form fonts use)."""
    out = []
    for byte in encode_pdfdocencoding(text):
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in "()\\%" else f"\\{byte:03o}")
    return "".join(out)


@contextmanager
def _appearance(form: Any, lines: list[str], pad: float) -> Iterator[None]:
    """Let reportlab's text field use our wrapped appearance stream for this one call.

    reportlab draws the value line by line without wrapping and cannot escape characters
    outside Latin-1 (the en dash), so the printed look would be wrong; this swaps in a
    stream with our own wrapped, PDFDocEncoded lines.
    """
    def stream(key: str, value: str, iFontName: str, rFontName: str, fontSize: float, *,
               width: float, height: float, fillColor: Any = None, borderColor: Any = None,
               borderWidth: float | None = None, **_: Any) -> Any:
        ops = []
        if fillColor is not None:
            ops.append(f"{form.streamFillColor(fillColor)} 0 0 {width:.2f} {height:.2f} re f")
        if borderColor is not None and borderWidth:
            half = borderWidth / 2
            ops.append(f"{form.streamStrokeColor(borderColor)} {borderWidth} w "
                       f"{half} {half} {width - borderWidth:.2f} {height - borderWidth:.2f} re s")
        leading = fontSize * 1.2
        ops += ["/Tx BMC", "q", f"1 1 {width - 2:.2f} {height - 2:.2f} re W n", "BT",
                f"/{iFontName} {fontSize} Tf 0 g", f"{pad} {height - pad - fontSize:.2f} Td"]
        for line in lines:
            ops.append(f"({_pdf_literal(line)}) Tj 0 {-leading:.2f} Td")
        ops += ["ET", "Q", "EMC"]
        return form.makeStream(width, height, "\n".join(ops),
                               Resources=PDFFromString(f"<< /ProcSet [/PDF /Text] /Font {rFontName} >>"))

    form.txAP = stream
    try:
        yield
    finally:
        del form.txAP


class _Decor:
    """Running header and 'Side N av M' footer; `total` is known only on the second pass."""

    def __init__(self, source: Source, total: int | None) -> None:
        self.header = layout.header_text(source)
        self.total = total

    def on_page(self, canv: Any, doc: Any) -> None:
        canv.saveState()
        canv.setFont("Helvetica", 8)
        canv.setFillColor(GREY)
        y = PAGE_HEIGHT - 1.5 * cm
        canv.drawString(MARGIN_X, y, self.header)
        canv.setStrokeColor(colors.Color(0.75, 0.75, 0.75))
        canv.setLineWidth(0.4)
        canv.line(MARGIN_X, y - 4, PAGE_WIDTH - MARGIN_X, y - 4)
        canv.restoreState()

    def on_page_end(self, canv: Any, doc: Any) -> None:
        canv.saveState()
        canv.setFont("Helvetica", 8)
        canv.setFillColor(GREY)
        total = self.total if self.total is not None else 99
        canv.drawCentredString(PAGE_WIDTH / 2, 1.3 * cm, layout.footer_text(canv.getPageNumber(), total))
        canv.restoreState()


def blocks_for(source: Source, layout_name: str) -> list[Block]:
    """The block list a text layout draws (`scanned`/`encrypted` draw as `standard`)."""
    if layout_name == "letter":
        return layout.letter_blocks(source)
    return layout.form_blocks(source, fields=layout_name == "formfields", columns=layout_name == "twocolumn")


def _build_once(source: Source, blocks: Sequence[Block], total: int | None) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    meta = layout.metadata(source)
    doc = BaseDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, invariant=1, lang="nb-NO" if source.language == "nb" else "nn-NO",
        title=meta["title"], author=meta["author"], subject=meta["subject"], creator=meta["creator"],
    )
    decor = _Decor(source, total)
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, FRAME_WIDTH, FRAME_HEIGHT, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate("page", [frame], onPage=decor.on_page, onPageEnd=decor.on_page_end)])
    doc.build(flowables(blocks, make_styles(source)))
    return buffer.getvalue(), doc.page


def draw(source: Source, layout_name: str) -> tuple[bytes, int]:
    """PDF bytes and page count; built twice so the footer can say 'av M'."""
    blocks = blocks_for(source, layout_name)
    _, pages = _build_once(source, blocks, None)
    data, final_pages = _build_once(source, blocks, pages)
    if final_pages != pages:  # the footer never changes the flow, but say so if it did
        data, final_pages = _build_once(source, blocks, final_pages)
    return data, final_pages
