"""The taxonomy (sectors, jury criteria, phases) as data: `ingest/data/taxonomy.toml`.

Curators refine labels and seed terms in that file without touching code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ingest.errors import ConfigurationError

KINDS = ("sector", "criterion", "phase")


@dataclass(frozen=True)
class Label:
    """One label of the taxonomy: its id, Norwegian name and seed terms (lemmas, bokmål and nynorsk)."""

    kind: str
    id: str
    label: str
    terms: tuple[str, ...] = ()
    question: str = ""


@dataclass(frozen=True)
class Taxonomy:
    version: int
    labels: tuple[Label, ...]

    def of(self, kind: str) -> tuple[Label, ...]:
        return tuple(lab for lab in self.labels if lab.kind == kind)

    def ids(self, kind: str) -> tuple[str, ...]:
        return tuple(lab.id for lab in self.of(kind))

    def name(self, kind: str, label_id: str) -> str:
        """The Norwegian name of a label id (the id itself if unknown)."""
        return next((lab.label for lab in self.of(kind) if lab.id == label_id), label_id)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and check the taxonomy file; a broken file is a configuration error, named with its line."""
    if path is None:
        return _default()
    return _parse(path.read_text(encoding="utf-8"), str(path))


@lru_cache(maxsize=1)
def _default() -> Taxonomy:
    text = (resources.files("ingest") / "data" / "taxonomy.toml").read_text(encoding="utf-8")
    return _parse(text, "ingest/data/taxonomy.toml")


def _parse(text: str, where: str) -> Taxonomy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"Taksonomifilen {where} kan ikke leses: {exc}") from exc
    labels: list[Label] = []
    for kind in KINDS:
        seen: set[str] = set()
        for entry in data.get(kind, []):
            if not entry.get("id") or not entry.get("label"):
                raise ConfigurationError(f"Taksonomifilen {where}: hver [[{kind}]] må ha id og label.")
            if entry["id"] in seen:
                raise ConfigurationError(f"Taksonomifilen {where}: {kind} «{entry['id']}» står to ganger.")
            seen.add(entry["id"])
            labels.append(Label(kind, entry["id"], entry["label"],
                                tuple(dict.fromkeys(t.lower() for t in entry.get("terms", []))),
                                entry.get("question", "")))
    return Taxonomy(int(data.get("version", 1)), tuple(labels))
