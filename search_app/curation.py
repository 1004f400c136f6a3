"""The curators' desk: what the curation page and `innosok curation` call.

Every operation takes a signed-in `Curator` and checks it against the store first, so a session that
has not signed in (or whose user was removed) can read nothing and change nothing here. A saved
decision is written to the store first (the truth), then to the index as a single-document update;
if an ingest holds the index at that moment, the ingest applies it when it finishes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

from ingest.curation import (
    ConflictError,
    Curator,
    CurationError,
    CurationStore,
    Decision,
    HistoryEntry,
    automatic_tags,
    sync_index,
)
from ingest.errors import InnosokError
from ingest.records import InnovationExample, Tag, from_dict
from ingest.searchindex import SearchIndex

LOW_CONFIDENCE = 0.6  # an automatic sector or criterion tag below this asks for a curator's eye
NEW_DAYS = 30  # "new": first listed in the curators' queue within this many days

QUEUE_VIEWS = {
    "til-gjennomgang": "Til gjennomgang (ikke gjennomgått)",
    "nye": f"Nye (de siste {NEW_DAYS} dagene)",
    "lav-sikkerhet": "Lav sikkerhet eller uten sektor",
    "anbefalt": "Anbefalte eksempler",
    "alle": "Alle eksempler",
}

BULK_ACTIONS = {
    "godta": "Godta de automatiske merkene",
    "gjennomgatt": "Merk som gjennomgått",
    "anbefal": "Merk som anbefalt eksempel",
    "fjern-anbefaling": "Fjern anbefalingen",
    "legg-til-sektor": "Legg til sektor …",
    "fjern-sektor": "Fjern sektor …",
}


@dataclass(frozen=True)
class QueueItem:
    """One example as a curator reviews it: the tagger's tags, the decision and the tags in force."""

    example_id: str
    title: str
    municipality: str
    year: int | None
    automatic: tuple[Tag, ...]  # what the tagger said, with confidence and evidence
    tags: tuple[Tag, ...]  # what search uses now (curated where decided)
    decision: Decision
    first_seen: str
    reasons: tuple[str, ...]  # why it is in the review queue (Norwegian)

    @property
    def version(self) -> int:
        return self.decision.version

    def labels(self, kind: str) -> tuple[str, ...]:
        return tuple(t.label for t in self.tags if t.kind == kind)

    @property
    def lowest_confidence(self) -> float | None:
        values = [t.confidence for t in self.automatic if t.kind in ("sector", "criterion")]
        return min(values) if values else None


@dataclass(frozen=True)
class EditResult:
    decisions: tuple[Decision, ...]
    index_message: str = ""  # empty when the index already shows the change


class CurationDesk:
    """Curation over the index at `index_root` and the store at `store_path`."""

    def __init__(self, index_root: Path, store_path: Path | None = None) -> None:
        self.index_root = Path(index_root)
        self.store = CurationStore(store_path)

    # -- signing in ---------------------------------------------------------------------------------

    def has_curators(self) -> bool:
        return self.store.has_users()

    def sign_in(self, username: str, password: str) -> Curator:
        return self.store.authenticate(username, password)

    def check(self, curator: Curator | None) -> Curator:
        return self.store.check(curator)

    # -- reading ------------------------------------------------------------------------------------

    def queue(self, curator: Curator | None, view: str = "til-gjennomgang") -> tuple[QueueItem, ...]:
        """The examples of a queue view, those needing attention first (no sector, lowest confidence)."""
        self.check(curator)
        if view not in QUEUE_VIEWS:
            raise CurationError(f"Ukjent utvalg «{view}».")
        index = SearchIndex.open(self.index_root)
        try:
            docs = index.all_examples()
        finally:
            index.close()
        decisions = self.store.decisions()
        seen = self.store.mark_seen(d["id"] for d in docs)
        since = (datetime.now(timezone.utc) - timedelta(days=NEW_DAYS)).isoformat(timespec="seconds")
        items = [self._item(doc, decisions, seen, since) for doc in docs]
        keep = {
            "til-gjennomgang": lambda i: not i.decision.reviewed,
            "nye": lambda i: "ny" in i.reasons,
            "lav-sikkerhet": lambda i: "lav sikkerhet" in i.reasons or "ingen sektor" in i.reasons,
            "anbefalt": lambda i: i.decision.recommended,
            "alle": lambda i: True,
        }[view]
        chosen = [i for i in items if keep(i)]
        chosen.sort(key=lambda i: (bool(i.labels("sector")), i.lowest_confidence if i.lowest_confidence is not None
                                   else -1.0, -(i.year or 0), i.title))
        return tuple(chosen)

    def item(self, curator: Curator | None, example_id: str) -> QueueItem:
        self.check(curator)
        index = SearchIndex.open(self.index_root)
        try:
            doc = next((d for d in index.all_examples() if d["id"] == example_id), None)
        finally:
            index.close()
        if doc is None:
            raise CurationError(f"Fant ikke innovasjonseksempelet «{example_id}» i søkeindeksen.")
        seen = self.store.mark_seen([example_id])
        return self._item(doc, {example_id: self.store.decision(example_id)}, seen, "")

    def history(self, curator: Curator | None, example_id: str | None = None, limit: int = 200
                ) -> tuple[HistoryEntry, ...]:
        self.check(curator)
        return self.store.history(example_id, limit)

    # -- changing -----------------------------------------------------------------------------------

    def edit(self, curator: Curator | None, example_id: str, expected_version: int, **changes: Any) -> EditResult:
        """Change one example's decision: any of sectors, criteria (tuples, or None for the tagger's),
        recommended, reviewed, note. ConflictError if it changed since `expected_version`."""
        who = self.check(curator)
        allowed = {"sectors", "criteria", "recommended", "reviewed", "note"}
        if set(changes) - allowed:
            raise CurationError(f"Ukjent felt: {', '.join(sorted(set(changes) - allowed))}.")
        for key in ("sectors", "criteria"):
            if changes.get(key) is not None:
                changes[key] = tuple(changes[key])
        item = self.item(who, example_id)
        new = replace(item.decision, **changes)
        saved = self.store.save(new, user=who.username, expected_version=expected_version,
                                action=_describe(item.decision, new), automatic=_automatic(item.automatic))
        return EditResult((saved,), self._to_index([example_id]))

    def bulk(self, curator: Curator | None, versions: Mapping[str, int], action: str, label: str = "") -> EditResult:
        """One action on a selection (example id -> the version the curator saw), all or nothing."""
        who = self.check(curator)
        if action not in BULK_ACTIONS:
            raise CurationError(f"Ukjent handling «{action}».")
        if action in ("legg-til-sektor", "fjern-sektor") and not label:
            raise CurationError("Velg hvilken sektor.")
        if not versions:
            raise CurationError("Ingen eksempler er valgt.")
        items = {i.example_id: i for i in self.queue(who, "alle") if i.example_id in versions}
        missing = sorted(set(versions) - set(items))
        if missing:
            raise CurationError(f"Fant ikke disse eksemplene i søkeindeksen: {', '.join(missing)}.")
        batch: list[tuple[Decision, int]] = []
        for example_id, expected in versions.items():
            item = items[example_id]
            d = item.decision
            sectors = item.labels("sector")
            if action == "godta":
                auto = item.automatic
                d = replace(d, sectors=tuple(t.label for t in auto if t.kind == "sector"),
                            criteria=tuple(t.label for t in auto if t.kind == "criterion"), reviewed=True)
            elif action == "gjennomgatt":
                d = replace(d, reviewed=True)
            elif action == "anbefal":
                d = replace(d, recommended=True)
            elif action == "fjern-anbefaling":
                d = replace(d, recommended=False)
            elif action == "legg-til-sektor":
                d = replace(d, sectors=sectors if label in sectors else (*sectors, label))
            elif action == "fjern-sektor":
                d = replace(d, sectors=tuple(s for s in sectors if s != label))
            batch.append((d, expected))
        saved = self.store.save_many(batch, user=who.username, action=f"{BULK_ACTIONS[action].rstrip(' …')}"
                                     f"{' ' + label if label else ''} (flere)",
                                     automatic={i: _automatic(items[i].automatic) for i in versions})
        return EditResult(saved, self._to_index(list(versions)))

    def undo(self, curator: Curator | None, example_id: str, expected_version: int) -> EditResult:
        who = self.check(curator)
        saved = self.store.undo(example_id, user=who.username, expected_version=expected_version)
        return EditResult((saved,), self._to_index([example_id]))

    # -- internals ----------------------------------------------------------------------------------

    def _to_index(self, example_ids: list[str]) -> str:
        """Single-document update of the index; a message (not an error) when it has to wait for an ingest."""
        try:
            index = SearchIndex.open(self.index_root)
        except InnosokError as exc:
            return f"Endringen er lagret, men søkeindeksen kunne ikke oppdateres nå: {exc}"
        try:
            sync_index(index, self.store.decisions(), only=example_ids)
        except InnosokError as exc:
            return str(exc)
        finally:
            index.close()
        return ""

    @staticmethod
    def _item(doc: Mapping[str, Any], decisions: Mapping[str, Decision], seen: Mapping[str, str],
              since: str) -> QueueItem:
        ex = from_dict(InnovationExample, json.loads(doc["payload"]))
        auto = automatic_tags(ex)
        decision = decisions.get(ex.id) or Decision(ex.id)
        reasons: list[str] = []
        first_seen = seen.get(ex.id, "")
        if since and first_seen >= since and decision.version == 0:
            reasons.append("ny")
        if not decision.reviewed:
            reasons.append("ikke gjennomgått")
        if not any(t.kind == "sector" for t in auto):
            reasons.append("ingen sektor")
        if any(t.kind in ("sector", "criterion") and t.confidence < LOW_CONFIDENCE for t in auto):
            reasons.append("lav sikkerhet")
        return QueueItem(ex.id, ex.title, doc.get("applicant", ""), doc.get("year") or None, auto, ex.tags, decision,
                         first_seen, tuple(reasons))


def _automatic(tags: tuple[Tag, ...]) -> dict[str, dict[str, float]]:
    """The tagger's labels with confidences, kept in the history entry beside the decision."""
    out: dict[str, dict[str, float]] = {}
    for t in tags:
        if t.kind in ("sector", "criterion"):
            out.setdefault(t.kind, {})[t.label] = round(t.confidence, 3)
    return out


def _describe(before: Decision, after: Decision) -> str:
    """A short Norwegian summary of what changed, for the history list."""
    parts = []
    for kind, name in (("sectors", "sektorer"), ("criteria", "kriterier")):
        old, new = getattr(before, kind), getattr(after, kind)
        if old != new:
            parts.append(f"{name}: {', '.join(new) if new else ('ingen' if new is not None else 'automatiske')}")
    if before.recommended != after.recommended:
        parts.append("anbefalt" if after.recommended else "ikke lenger anbefalt")
    if before.reviewed != after.reviewed:
        parts.append("gjennomgått" if after.reviewed else "ikke gjennomgått")
    if before.note != after.note:
        parts.append("notat")
    return "; ".join(parts) or "endret"


__all__ = ["BULK_ACTIONS", "QUEUE_VIEWS", "ConflictError", "CurationDesk", "EditResult", "QueueItem"]
