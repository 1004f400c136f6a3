"""Extract stage: one PDF file in, text per page out — or a named reason why not.

pypdf is the extractor. Real files break it in ways pdfium or pdfminer survive (a broken xref, a
hand-made file), so those two are fallbacks, tried only when pypdf cannot open a file. Every file is
read in its own forked child with a time and memory limit: no single file can hang or exhaust a batch.
"""

from __future__ import annotations

import hashlib
import io
import logging
import multiprocessing as mp
import resource
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfminer.high_level  # noqa: F401 - imported before forking, so a child never loads code under its memory cap
import pypdf
import pypdfium2  # noqa: F401

from ingest.errors import FileProblemError
from ingest.records import ExtractedDocument, PageText, from_dict, to_dict

MAX_FILE_BYTES = 200 * 1024 * 1024
MIN_PAGE_CHARS_WITHOUT_IMAGE_CHECK = 200
IMAGE_PAGE_COVERAGE = 0.25
GARBLED_SHARE = 0.05

# First bytes of files people send instead of a PDF, and what to call them in the message.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", " (det ser ut som et Word-, Excel- eller OpenDocument-dokument)"),
    (b"\xd0\xcf\x11\xe0", " (det ser ut som et eldre Word- eller Excel-dokument)"),
    (b"\xff\xd8\xff", " (det er et JPEG-bilde)"),
    (b"\x89PNG", " (det er et PNG-bilde)"),
    (b"\x00\x00\x00\x0cjP  ", " (det er et JPEG 2000-bilde)"),
    (b"{\\rtf", " (det er et RTF-dokument)"),
    (b"GIF8", " (det er et GIF-bilde)"),
    (b"II*\x00", " (det er et TIFF-bilde)"),
    (b"MM\x00*", " (det er et TIFF-bilde)"),
)


@dataclass(frozen=True)
class ExtractLimits:
    """How long and how much memory one file may take."""

    seconds: float = 60.0
    memory_mb: int = 2048
    ocr: bool = True  # read scans with Tesseract when it is installed (ingest/ocr.py)


def describe_non_pdf(head: bytes) -> str | None:
    """None if `head` starts like a PDF, else words for what it looks like (for the message)."""
    if b"%PDF-" in head[:1024]:
        return None
    for magic, words in _SIGNATURES:
        if head.startswith(magic):
            return words
    return ""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _meaningful(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


def _garbled(text: str) -> bool:
    """True when a text layer is mojibake (control characters from a non-Unicode font map)."""
    chars = _meaningful(text)
    if not chars:
        return False
    odd = sum(1 for ch in chars if unicodedata.category(ch) == "Cc")
    return odd / len(chars) > GARBLED_SHARE


def _form_fields(page: Any) -> list[tuple[str, str]]:
    """Filled-in AcroForm text fields on a page, as (label, value) in widget order."""
    annots = page.get("/Annots")
    if not annots:
        return []
    blocks: list[tuple[str, str]] = []
    for ref in annots.get_object():
        widget = ref.get_object()
        if widget.get("/Subtype") != "/Widget":
            continue
        parent = widget.get("/Parent")
        parent = parent.get_object() if parent is not None else {}
        field_type = widget.get("/FT") or parent.get("/FT")
        value = widget.get("/V") if "/V" in widget else parent.get("/V")
        if field_type != "/Tx" or value is None or not str(value).strip():
            continue
        label = widget.get("/TU") or parent.get("/TU") or widget.get("/T") or parent.get("/T") or ""
        blocks.append((str(label).strip(), str(value).strip()))
    return blocks


def _with_form(text: str, fields: list[tuple[str, str]]) -> str:
    """Page text plus its form values; printed labels move next to their values (once, not twice)."""
    labels = {label for label, _ in fields if label}
    kept = [ln for ln in text.split("\n") if ln.strip() not in labels]
    blocks = [f"{label}\n{value}" if label else value for label, value in fields]
    return "\n".join([*kept, *blocks])


def _read_with_pypdf(data: bytes) -> tuple[list[str], bool, str]:
    from pypdf import PdfReader
    from pypdf import PasswordType
    from pypdf.errors import FileNotDecryptedError

    reader = PdfReader(io.BytesIO(data), strict=False)
    encrypted = bool(reader.is_encrypted)
    if encrypted:
        try:
            if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                raise FileProblemError("passord", "a user password is required")
        except FileNotDecryptedError as exc:
            raise FileProblemError("passord", str(exc)) from exc
    texts: list[str] = []
    had_form = False
    try:
        pages = list(reader.pages)
    except FileNotDecryptedError as exc:
        raise FileProblemError("passord", str(exc)) from exc
    for page in pages:
        try:
            text = page.extract_text() or ""
        except FileNotDecryptedError as exc:
            raise FileProblemError("passord", str(exc)) from exc
        except Exception:  # noqa: BLE001 - one bad page must not lose the others
            text = ""
        try:
            fields = _form_fields(page)
        except Exception:  # noqa: BLE001 - a broken widget must not lose the page
            fields = []
        if fields:
            had_form = True
            text = _with_form(text, fields)
        texts.append(text)
    return texts, encrypted, "pypdf+skjemafelt" if had_form else "pypdf"


def _read_with_pdfium(data: bytes) -> list[str]:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise FileProblemError("passord", str(exc)) from exc
        raise
    texts = []
    for page in doc:
        textpage = page.get_textpage()
        texts.append(textpage.get_text_range())
    return texts


def _read_with_pdfminer(data: bytes) -> list[str]:
    from pdfminer.high_level import extract_text

    text = extract_text(io.BytesIO(data))
    return text.split("\x0c")[: max(1, text.count("\x0c"))] if text else []


def _image_coverage(data: bytes) -> list[float] | None:
    """Per page, the share of the page images cover (None if pdfium cannot open it)."""
    try:
        import pypdfium2 as pdfium
        import pypdfium2.raw as pdfium_c

        doc = pdfium.PdfDocument(data)
    except Exception:  # noqa: BLE001 - only a hint; absence of the hint is handled by the caller
        return None
    shares: list[float] = []
    for page in doc:
        width, height = page.get_size()
        area = max(width * height, 1.0)
        covered = 0.0
        for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)):
            left, bottom, right, top = obj.get_bounds()
            covered += abs(right - left) * abs(top - bottom) / area
        shares.append(min(1.0, covered))
    return shares


def read_pdf(path: Path, ocr_until: float | None = None) -> ExtractedDocument:
    """Extract one PDF in this process. Raises FileProblemError with a named reason.

    With `ocr_until` (a time.monotonic() deadline), a document without a usable text layer is read by
    OCR when Tesseract is installed; otherwise it is reported as needing OCR."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    size = path.stat().st_size
    if size == 0:
        raise FileProblemError("tom")
    if size > MAX_FILE_BYTES:
        raise FileProblemError(
            "for-stor", f"{size} bytes", size=f"{size / 1e6:.0f} MB", limit=f"{MAX_FILE_BYTES / 1e6:.0f} MB"
        )
    data = path.read_bytes()
    what = describe_non_pdf(data[:1024])
    if what is not None:
        raise FileProblemError("ikke-pdf", f"first bytes {data[:8]!r}", what=what)
    sha = hashlib.sha256(data).hexdigest()
    encrypted = False
    try:
        texts, encrypted, method = _read_with_pypdf(data)
    except (FileProblemError, MemoryError):
        raise
    except Exception as pypdf_error:  # noqa: BLE001 - pypdf's errors are many; try the fallbacks
        texts, method = _fallback(data, pypdf_error)
    try:
        return _checked(path, sha, texts, method, encrypted, data)
    except FileProblemError as exc:
        if exc.kind != "mangler-tekst" or ocr_until is None:
            raise
        from ingest import ocr

        if not ocr.available():
            raise
        scanned = ocr.read_scanned(data, deadline=ocr_until)
        if not any(_meaningful(t) for t in scanned):
            raise
        return _checked(path, sha, scanned, "ocr", encrypted, data, ocr=True)


def _fallback(data: bytes, pypdf_error: Exception) -> tuple[list[str], str]:
    errors = [f"pypdf: {type(pypdf_error).__name__}: {pypdf_error}"]
    for name, reader in (("pdfium", _read_with_pdfium), ("pdfminer", _read_with_pdfminer)):
        try:
            texts = reader(data)
        except (FileProblemError, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - collect every reader's reason for the report
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        if any(_meaningful(t) for t in texts):
            return texts, name
        errors.append(f"{name}: no text")
    raise FileProblemError("skadet", "; ".join(errors))


def _checked(
    path: Path, sha: str, texts: list[str], method: str, encrypted: bool, data: bytes, ocr: bool = False
) -> ExtractedDocument:
    """Decide whether the text layer is usable; a scan without text is a named outcome, not a crash.
    OCR text comes from the images themselves: there the image check does not apply."""
    pages = [unicodedata.normalize("NFC", t.replace("\x00", "")) for t in texts]
    small = [len(_meaningful(t)) < MIN_PAGE_CHARS_WITHOUT_IMAGE_CHECK for t in pages]
    coverage = _image_coverage(data) if any(small) and not ocr else None
    usable = 0
    garbled = 0
    for i, text in enumerate(pages):
        image_page = coverage is not None and i < len(coverage) and coverage[i] >= IMAGE_PAGE_COVERAGE
        if small[i] and image_page:
            continue  # a scanned page whose only "text" is an image name or stamp
        if _garbled(text):
            garbled += 1
            continue
        usable += len(_meaningful(text))
    if usable == 0:
        if garbled:
            raise FileProblemError("mangler-tekst", "the text layer is garbled (non-Unicode font encoding)")
        if coverage is not None and any(c > 0 for c in coverage):
            raise FileProblemError("mangler-tekst", f"{len(pages)} pages of images, no text layer")
        raise FileProblemError("ingen-innhold", "no text and no images")
    return ExtractedDocument(
        path=str(path),
        sha256=sha,
        pages=tuple(PageText(i + 1, t) for i, t in enumerate(pages)),
        method=method,
        encrypted=encrypted,
    )


def _address_space() -> int:
    """This process's virtual memory now (bytes), so the cap is on what reading the file adds."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _child(path: str, conn: Any, memory_mb: int, ocr_seconds: float | None) -> None:
    try:
        limit = _address_space() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass
    try:
        doc = read_pdf(Path(path), None if ocr_seconds is None else time.monotonic() + ocr_seconds)
        conn.send(("ok", to_dict(doc)))
    except FileProblemError as exc:
        conn.send(("problem", exc.kind, exc.detail, exc.message))
    except MemoryError:
        conn.send(("problem", "minne", f"over {memory_mb} MB", ""))
    except Exception as exc:  # noqa: BLE001 - the parent reports it; the batch goes on
        conn.send(("problem", "ukjent-feil", f"{type(exc).__name__}: {exc}", ""))
    finally:
        conn.close()


def extract(path: Path, limits: ExtractLimits = ExtractLimits()) -> ExtractedDocument:
    """Extract one PDF in a forked child bounded by `limits`. Raises FileProblemError."""
    ctx = mp.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    ocr_seconds = max(1.0, limits.seconds - 5.0) if limits.ocr else None  # OCR stops before the parent gives up
    proc = ctx.Process(target=_child, args=(str(path), sender, limits.memory_mb, ocr_seconds), daemon=True)
    proc.start()
    sender.close()
    message = None
    timed_out = False
    try:
        if receiver.poll(limits.seconds):
            message = receiver.recv()
        else:
            timed_out = True
    except EOFError:
        message = None
    finally:
        receiver.close()
        proc.join(2)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if message is None:
        if timed_out:
            raise FileProblemError("tidsavbrudd", f"over {limits.seconds:.0f} s")
        raise FileProblemError("minne", f"the reader stopped with exit code {proc.exitcode}")
    if message[0] == "ok":
        return from_dict(ExtractedDocument, message[1])
    raise FileProblemError(message[1], message[2], message=message[3])
