"""Layout `encrypted`: the standard PDF, AES-128 encrypted with an empty user password.

Public copies of applications are sometimes "protected": they open without a password
but are encrypted (owner password only). The ingest pipeline must decrypt them with the
empty password. pypdf draws a random second file id and random AES IVs from `secrets`;
for reproducible bytes that source is swapped for a seeded one during the write.
"""
from __future__ import annotations

import hashlib
import importlib
import io
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager

from pypdf import PdfReader, PdfWriter

OWNER_PASSWORD = "innosok-eier"
_LOCK = threading.Lock()


class _SeededBytes:
    """A deterministic stand-in for `secrets.token_bytes` (SHA-256 in counter mode)."""

    def __init__(self, seed: str) -> None:
        self.seed = seed.encode("utf-8")
        self.counter = 0

    def token_bytes(self, n: int | None = None) -> bytes:
        n = 32 if n is None else n
        out = b""
        while len(out) < n:
            self.counter += 1
            out += hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
        return out[:n]


def _modules_drawing_randomness() -> list[types.ModuleType]:
    """pypdf modules that call `secrets.token_bytes` while encrypting (those present)."""
    names = ("pypdf._writer", "pypdf._encryption", "pypdf._crypt_providers._cryptography",
             "pypdf._crypt_providers._pycryptodome")
    modules = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError:  # the provider that is not installed
            continue
        if isinstance(getattr(module, "secrets", None), types.ModuleType):
            modules.append(module)
    return modules


@contextmanager
def _seeded_secrets(seed: str) -> Iterator[None]:
    """Point pypdf's `secrets` at seeded bytes for the duration of one write.

    This reaches into pypdf's internals; if a future pypdf stops importing `secrets`
    this way, the output is still valid, only no longer byte-for-byte reproducible.
    """
    shim = types.SimpleNamespace(token_bytes=_SeededBytes(seed).token_bytes)
    with _LOCK:
        modules = _modules_drawing_randomness()
        saved = [module.secrets for module in modules]  # type: ignore[attr-defined]
        for module in modules:
            module.secrets = shim  # type: ignore[attr-defined]
        try:
            yield
        finally:
            for module, original in zip(modules, saved):
                module.secrets = original  # type: ignore[attr-defined]


def encrypt(pdf_bytes: bytes, seed: str, metadata: dict[str, str]) -> bytes:
    """`pdf_bytes` encrypted: empty user password, owner password, AES-128."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes)))
    writer.add_metadata({
        "/Title": metadata["title"], "/Author": metadata["author"],
        "/Subject": metadata["subject"], "/Creator": metadata["creator"],
    })
    out = io.BytesIO()
    with _seeded_secrets(seed):
        writer.encrypt(user_password="", owner_password=OWNER_PASSWORD, algorithm="AES-128")
        writer.write(out)
    return out.getvalue()
