"""The curation store: curators' decisions on innovation examples, in SQLite, outside the index.

The index is derived and disposable; this store is the curators' truth. It holds:

- users (curators) with scrypt password hashes — never a default password;
- one decision per example id (the stable ids of the records): the sector and criterion labels a
  curator chose (or None: the tagger's tags stand), "anbefalt eksempel", "gjennomgått" and a note,
  with a version number for optimistic concurrency — a writer that read an older version gets a
  `ConflictError` carrying the current state, so nothing is silently overwritten;
- an append-only history (who, when, what before and after) that undo walks back;
- export and import (JSON and CSV) to publish a curated set or move it to another installation.

`apply_curation` puts the decisions onto records (ingest, after the tagger); `sync_index` makes an
existing index agree with the store (after every ingest, and after an edit). `curated_labels` is the
hook through which curators' labels feed the tagger's training and `innosok eval tags`.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import sqlite3
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence

from ingest.errors import InnosokError
from ingest.records import Application, InnovationExample, Tag
from ingest.taxonomy import load_taxonomy

if TYPE_CHECKING:  # only for the type of sync_index's argument; ingest.searchindex imports Whoosh
    from ingest.searchindex import SearchIndex

DEFAULT_STORE = Path("curation") / "innosok.sqlite"
STORE_VERSION = 1
EXPORT_FORMAT = "innosok-kurering"
CURATED_KINDS = ("sector", "criterion")
EXAMPLE_ID = re.compile(r"^[0-9a-f]{12}-\d{1,2}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
MIN_PASSWORD = 12
MAX_FAILED_SIGNINS = 5
LOCKOUT = timedelta(minutes=5)
SESSION_HOURS = 8
NOTE_MAX = 4000

# scrypt as OWASP recommends it (N=2^17, r=8, p=1: 128 MiB, ~1 s here); the parameters travel in each hash.
_SCRYPT = {"n": 2 ** 17, "r": 8, "p": 1}


def default_store_path() -> Path:
    """$INNOSOK_CURATION, else ./curation/innosok.sqlite (beside the index, never inside it)."""
    return Path(os.environ.get("INNOSOK_CURATION", DEFAULT_STORE))


# -- errors ---------------------------------------------------------------------------------------


class CurationError(InnosokError):
    """A curation request that cannot be carried out (unknown label, note too long, …)."""


class ConflictError(CurationError):
    """Someone else changed the example after you read it; `current` is what it looks like now."""

    def __init__(self, current: tuple["Decision", ...]) -> None:
        self.current = current
        first = current[0]
        who = f" av {first.updated_by}" if first.updated_by else ""
        when = f" {_local(first.updated_at)}" if first.updated_at else ""
        more = f" (og {len(current) - 1} andre eksempler)" if len(current) > 1 else ""
        super().__init__(
            f"Eksempelet {first.example_id}{more} ble endret{who}{when} mens du arbeidet. "
            "Endringen din er ikke lagret; se den nye versjonen og gjør endringen på nytt om den fortsatt trengs.")


class NothingToUndoError(CurationError):
    """The example has no change left to undo."""


class UserError(CurationError):
    """Adding or removing a curator failed (name taken, weak password, unknown user)."""


class AuthenticationError(CurationError):
    """Wrong user name or password, a locked account, or no curators at all."""


class CurationImportError(CurationError):
    """An export file that cannot be imported; the message names the entry or line."""


# -- records --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A curator's decision on one example. `sectors`/`criteria` None: the tagger's labels stand."""

    example_id: str
    sectors: tuple[str, ...] | None = None
    criteria: tuple[str, ...] | None = None
    recommended: bool = False
    reviewed: bool = False
    note: str = ""
    version: int = 0  # 0: never decided; +1 on every saved change
    updated_by: str = ""
    updated_at: str = ""

    def content(self) -> dict[str, Any]:
        """What the curator decided, without bookkeeping (compared, stored in history, exported)."""
        return {
            "sectors": None if self.sectors is None else list(self.sectors),
            "criteria": None if self.criteria is None else list(self.criteria),
            "recommended": self.recommended,
            "reviewed": self.reviewed,
            "note": self.note,
        }

    @property
    def is_empty(self) -> bool:
        """True when the decision changes nothing (never decided, or undone back to nothing)."""
        return self.content() == Decision(self.example_id).content()

    def labels(self, kind: str) -> tuple[str, ...] | None:
        return self.sectors if kind == "sector" else self.criteria if kind == "criterion" else None


@dataclass(frozen=True)
class HistoryEntry:
    """One saved change: who, when, what it was before and after. Never updated or deleted."""

    seq: int
    example_id: str
    version: int
    user: str
    at: str
    action: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    undoes: int | None = None
    automatic: Mapping[str, Any] = field(default_factory=dict)  # the tagger's labels the curator saw


@dataclass(frozen=True)
class User:
    username: str
    created_at: str
    last_signin: str = ""


@dataclass(frozen=True)
class Curator:
    """A signed-in curator. Only `CurationStore.authenticate` makes one with a valid `token`."""

    username: str
    signed_in_at: str
    token: str = field(repr=False, default="")

    def expired(self, now: datetime | None = None) -> bool:
        start = datetime.fromisoformat(self.signed_in_at)
        return (now or _now()) - start > timedelta(hours=SESSION_HOURS)


@dataclass(frozen=True)
class CuratedLabels:
    """The labels a curator set on one example (None: that kind was left to the tagger)."""

    sectors: tuple[str, ...] | None
    criteria: tuple[str, ...] | None


@dataclass(frozen=True)
class ImportReport:
    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()  # differ from this installation's decision; not imported without overwrite


# -- the store ------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_signin TEXT NOT NULL DEFAULT '',
    failed INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS decisions (
    example_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    content TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    example_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    user TEXT NOT NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    undoes INTEGER,
    automatic TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS history_by_example ON history (example_id, seq);
CREATE TABLE IF NOT EXISTS seen (example_id TEXT PRIMARY KEY, first_seen TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS history_no_update BEFORE UPDATE ON history
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS history_no_delete BEFORE DELETE ON history
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
"""


class CurationStore:
    """The SQLite file of curators' decisions. One short connection per operation: safe across
    Streamlit's threads and across processes; writes take the database lock (BEGIN IMMEDIATE)."""

    def __init__(self, path: Path | None = None, *, create: bool = True) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        if not self.path.exists():
            if not create:
                raise CurationError(f"Fant ingen kureringsdatabase i {self.path}.")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('version', ?)", (str(STORE_VERSION),))
            elif int(row[0]) > STORE_VERSION:
                raise CurationError(
                    f"Kureringsdatabasen {self.path} er laget av en nyere versjon av Innosøk. Oppdater programmet.")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=15.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise CurationError(f"Kureringsdatabasen {self.path} kan ikke åpnes: {exc}") from exc
        try:
            db.execute("PRAGMA busy_timeout=15000")
            db.execute("PRAGMA foreign_keys=ON")
            yield db
        except sqlite3.OperationalError as exc:
            raise CurationError(f"Kureringsdatabasen er opptatt eller utilgjengelig ({exc}). Prøv igjen.") from exc
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the lock from the first read, so read-compare-write is atomic."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- users ------------------------------------------------------------------------------------

    def add_user(self, username: str, password: str) -> User:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise UserError("Brukernavnet må være 2–64 tegn: små bokstaver a–z, sifre og . _ @ -, og begynne med "
                            "bokstav eller siffer.")
        _check_password(username, password)
        exists = (f"Brukeren «{username}» finnes allerede. Nytt passord settes med: "
                  f"innosok users password {username}")
        if any(u.username == username for u in self.users()):
            raise UserError(exists)
        digest = hash_password(password)  # ~1 s: outside the write lock
        now = _stamp()
        with self._write() as db:
            if db.execute("SELECT 1 FROM users WHERE username=?", (username,)).fetchone():
                raise UserError(exists)
            db.execute("INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)",
                       (username, digest, now))
        return User(username, now)

    def set_password(self, username: str, password: str) -> None:
        """A new password; the user's sign-ins end (the hash is part of their token) and a lock-out is lifted."""
        username = username.strip().lower()
        _check_password(username, password)
        digest = hash_password(password)
        with self._write() as db:
            changed = db.execute("UPDATE users SET password_hash=?, failed=0, locked_until='' WHERE username=?",
                                 (digest, username)).rowcount
        if not changed:
            raise UserError(f"Fant ingen bruker «{username}».")

    def remove_user(self, username: str) -> None:
        username = username.strip().lower()
        with self._write() as db:
            if db.execute("DELETE FROM users WHERE username=?", (username,)).rowcount == 0:
                raise UserError(f"Fant ingen bruker «{username}».")

    def users(self) -> tuple[User, ...]:
        with self._connect() as db:
            rows = db.execute("SELECT username, created_at, last_signin FROM users ORDER BY username").fetchall()
        return tuple(User(*r) for r in rows)

    def has_users(self) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def authenticate(self, username: str, password: str) -> Curator:
        """A signed-in curator, or AuthenticationError with a message (never which half was wrong)."""
        username = username.strip().lower()
        with self._connect() as db:
            row = db.execute("SELECT password_hash, failed, locked_until FROM users WHERE username=?",
                             (username,)).fetchone()
            has_any = row is not None or db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
        if not has_any:
            raise AuthenticationError(NO_CURATORS_MESSAGE)
        if row is None:
            verify_password(password, _DUMMY_HASH)  # same work as for a real user: names cannot be probed
            raise AuthenticationError(WRONG_SIGNIN)
        stored, _failed, locked_until = row
        now = _now()
        if locked_until and datetime.fromisoformat(locked_until) > now:
            raise AuthenticationError(
                f"For mange feil passord. Kontoen er sperret til kl. {_local(locked_until, time_only=True)}; prøv igjen da.")
        ok = verify_password(password, stored)
        with self._write() as db:
            if ok:
                db.execute("UPDATE users SET failed=0, locked_until='', last_signin=? WHERE username=?",
                           (_stamp(now), username))
            else:
                failed = db.execute("SELECT failed FROM users WHERE username=?", (username,)).fetchone()
                count = (failed[0] if failed else 0) + 1
                lock = _stamp(now + LOCKOUT) if count >= MAX_FAILED_SIGNINS else ""
                db.execute("UPDATE users SET failed=?, locked_until=? WHERE username=?",
                           (0 if lock else count, lock, username))
        if not ok:
            raise AuthenticationError(WRONG_SIGNIN)
        return Curator(username, _stamp(now), self._token(username, _stamp(now)))

    def check(self, curator: Curator | None) -> Curator:
        """The curator if the sign-in is genuine, unexpired and the user still exists; else AuthenticationError."""
        if curator is None or not isinstance(curator, Curator):
            raise AuthenticationError("Du må logge inn som kurator for å gjøre dette.")
        with self._connect() as db:
            row = db.execute("SELECT password_hash FROM users WHERE username=?", (curator.username,)).fetchone()
        if row is None:
            raise AuthenticationError(f"Brukeren «{curator.username}» finnes ikke lenger. Logg inn på nytt.")
        if not hmac.compare_digest(curator.token, self._token(curator.username, curator.signed_in_at)):
            raise AuthenticationError("Innloggingen er ikke gyldig. Logg inn på nytt.")
        try:
            expired = curator.expired()
        except ValueError:
            expired = True
        if expired:
            raise AuthenticationError(f"Innloggingen er eldre enn {SESSION_HOURS} timer. Logg inn på nytt.")
        return curator

    def _token(self, username: str, signed_in_at: str) -> str:
        """A keyed MAC over the sign-in, so a Curator cannot be made up without the store's secret."""
        with self._connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key='secret'").fetchone()
            if row is None:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('secret', ?)", (secrets.token_hex(32),))
                row = db.execute("SELECT value FROM meta WHERE key='secret'").fetchone()
            pw = db.execute("SELECT password_hash FROM users WHERE username=?", (username,)).fetchone()
        # The password hash is in the MAC: removing and re-adding a user ends the old sign-ins.
        msg = f"{username}\x1f{signed_in_at}\x1f{pw[0] if pw else ''}".encode()
        return hmac.new(bytes.fromhex(row[0]), msg, hashlib.sha256).hexdigest()

    # -- decisions --------------------------------------------------------------------------------

    def decision(self, example_id: str) -> Decision:
        with self._connect() as db:
            return _decision_row(db, example_id)

    def decisions(self) -> dict[str, Decision]:
        with self._connect() as db:
            rows = db.execute("SELECT example_id, version, content, updated_by, updated_at FROM decisions").fetchall()
        return {r[0]: _decision(*r) for r in rows}

    def save(self, decision: Decision, *, user: str, expected_version: int, action: str = "endret",
             automatic: Mapping[str, Any] | None = None) -> Decision:
        """Store a decision if the example is still at `expected_version`; else ConflictError (nothing saved)."""
        return self.save_many([(decision, expected_version)], user=user, action=action,
                              automatic={decision.example_id: automatic or {}})[0]

    def save_many(self, items: Sequence[tuple[Decision, int]], *, user: str, action: str = "endret",
                  automatic: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[Decision, ...]:
        """Several decisions in one transaction: all saved, or none (ConflictError names every changed one)."""
        for d, _ in items:
            validate(d)
        now = _stamp()
        with self._write() as db:
            current = {d.example_id: _decision_row(db, d.example_id) for d, _ in items}
            stale = tuple(current[d.example_id] for d, expected in items if current[d.example_id].version != expected)
            if stale:
                raise ConflictError(stale)
            saved = []
            for d, _ in items:
                before = current[d.example_id]
                if before.content() == d.content():
                    saved.append(before)
                    continue
                new = replace(d, version=before.version + 1, updated_by=user, updated_at=now)
                _write_decision(db, new)
                _append(db, new, user, now, action, before.content(), (automatic or {}).get(d.example_id, {}))
                current[d.example_id] = new
                saved.append(new)
        return tuple(saved)

    def undo(self, example_id: str, *, user: str, expected_version: int) -> Decision:
        """Put back the state before the latest change not yet undone (repeat to walk further back)."""
        now = _stamp()
        with self._write() as db:
            current = _decision_row(db, example_id)
            if current.version != expected_version:
                raise ConflictError((current,))
            row = db.execute(
                "SELECT seq, before FROM history h WHERE example_id=? AND undoes IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM history u WHERE u.undoes = h.seq) ORDER BY seq DESC LIMIT 1",
                (example_id,)).fetchone()
            if row is None:
                raise NothingToUndoError(f"Det er ingen endring å angre på eksempelet {example_id}.")
            seq, before = row
            new = replace(_from_content(example_id, json.loads(before)), version=current.version + 1,
                          updated_by=user, updated_at=now)
            _write_decision(db, new)
            _append(db, new, user, now, "angret", current.content(), {}, undoes=seq)
        return new

    def history(self, example_id: str | None = None, limit: int = 200) -> tuple[HistoryEntry, ...]:
        """Newest first; one example's or everyone's."""
        sql = "SELECT seq, example_id, version, user, at, action, before, after, undoes, automatic FROM history"
        args: tuple[Any, ...] = ()
        if example_id is not None:
            sql += " WHERE example_id=?"
            args = (example_id,)
        with self._connect() as db:
            rows = db.execute(sql + " ORDER BY seq DESC LIMIT ?", (*args, limit)).fetchall()
        return tuple(_history(r) for r in rows)

    def mark_seen(self, example_ids: Iterable[str]) -> dict[str, str]:
        """example id -> when curators' queue first listed it ("new" means first seen lately)."""
        ids = list(example_ids)
        now = _stamp()
        with self._write() as db:
            db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", [(i, now) for i in ids])
            rows = db.execute("SELECT example_id, first_seen FROM seen").fetchall()
        wanted = set(ids)
        return {i: t for i, t in rows if i in wanted}

    # -- export and import ------------------------------------------------------------------------

    def export_json(self, titles: Mapping[str, str] | None = None) -> str:
        """Every non-empty decision and the whole history, as one JSON document (users never leave)."""
        decisions = [d for d in self.decisions().values() if not d.is_empty]
        out = {
            "format": EXPORT_FORMAT,
            "format_version": STORE_VERSION,
            "exported_at": _stamp(),
            "decisions": [
                {"example_id": d.example_id, **({"title": titles[d.example_id]} if titles and d.example_id in titles
                                                else {}),
                 **d.content(), "version": d.version, "updated_by": d.updated_by, "updated_at": d.updated_at}
                for d in sorted(decisions, key=lambda d: d.example_id)
            ],
            "history": [asdict(h) for h in reversed(self.history(limit=10 ** 9))],
        }
        return json.dumps(out, ensure_ascii=False, indent=2)

    def export_csv(self, titles: Mapping[str, str] | None = None) -> str:
        """One row per decided example; sectors/criteria ';'-joined, empty = left to the tagger, «ingen» = none."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")  # RFC 4180: a bare \r or \n in a note is then quoted
        w.writerow(CSV_COLUMNS)
        for d in sorted(self.decisions().values(), key=lambda d: d.example_id):
            if d.is_empty:
                continue
            w.writerow([d.example_id, (titles or {}).get(d.example_id, ""), _csv_labels(d.sectors),
                        _csv_labels(d.criteria), "ja" if d.recommended else "nei", "ja" if d.reviewed else "nei",
                        d.note, d.updated_by, d.updated_at])
        return buf.getvalue()

    def export(self, path: Path, fmt: str | None = None, titles: Mapping[str, str] | None = None) -> int:
        """Write an export file (format from `fmt` or the file's extension); returns how many decisions."""
        fmt = _format(path, fmt)
        text = self.export_json(titles) if fmt == "json" else self.export_csv(titles)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
        return sum(1 for d in self.decisions().values() if not d.is_empty)

    def import_file(self, path: Path, *, user: str, fmt: str | None = None, overwrite: bool = False) -> ImportReport:
        """Read an export. New examples are added; equal ones left; differing ones are conflicts unless
        `overwrite` (then replaced, with history, so undo brings this installation's decision back).
        Everything is checked before anything is written; one transaction."""
        fmt = _format(path, fmt)
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:  # newline="": line breaks inside notes survive
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CurationImportError(f"Filen {path} kan ikke leses: {exc}") from exc
        incoming, history = (_parse_json(text) if fmt == "json" else (_parse_csv(text), []))
        origin = f"import:{path.name}"
        now = _stamp()
        added: list[str] = []
        replaced_: list[str] = []
        unchanged: list[str] = []
        conflicts: list[str] = []
        with self._write() as db:
            for d in incoming:
                local = _decision_row(db, d.example_id)
                if local.content() == d.content():
                    unchanged.append(d.example_id)
                    continue
                if local.version > 0 and not local.is_empty and not overwrite:
                    conflicts.append(d.example_id)
                    continue
                if local.version == 0:
                    for h in (h for h in history if h["example_id"] == d.example_id):
                        db.execute(
                            "INSERT INTO history (example_id, version, user, at, action, before, after, automatic,"
                            " undoes) VALUES (?, 0, ?, ?, ?, ?, ?, ?, 0)",  # undoes=0: shown, never undone
                            (d.example_id, str(h.get("user", "")), str(h.get("at", "")),
                             f"{h.get('action', '')} ({origin})", json.dumps(h.get("before", {}), ensure_ascii=False),
                             json.dumps(h.get("after", {}), ensure_ascii=False),
                             json.dumps(h.get("automatic", {}), ensure_ascii=False)))
                new = replace(d, version=local.version + 1, updated_by=user, updated_at=now)
                _write_decision(db, new)
                _append(db, new, user, now, "importert", local.content(), {})
                (added if local.version == 0 or local.is_empty else replaced_).append(d.example_id)
        return ImportReport(tuple(added), tuple(replaced_), tuple(unchanged), tuple(conflicts))


NO_CURATORS_MESSAGE = (
    "Ingen kuratorer er opprettet ennå. Den som drifter Innosøk oppretter en bruker med kommandoen "
    "«innosok users add BRUKERNAVN» (passordet oppgis skjult)."
)
WRONG_SIGNIN = "Feil brukernavn eller passord."
CSV_COLUMNS = ("example_id", "title", "sectors", "criteria", "recommended", "reviewed", "note", "updated_by",
               "updated_at")


# -- passwords ------------------------------------------------------------------------------------


def _check_password(username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"Passordet må ha minst {MIN_PASSWORD} tegn.")
    if password.strip() != password or password.lower() == username:
        raise UserError("Passordet kan ikke begynne eller slutte med mellomrom, og ikke være likt brukernavnet.")


def hash_password(password: str) -> str:
    """scrypt$N$r$p$salt$hash (base64): salted, memory-hard, parameters kept for later upgrades."""
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = _scrypt(password, base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def _scrypt(password: str, salt: bytes, *, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32,
                          maxmem=256 * n * r * p + (1 << 20))


_DUMMY_HASH = "scrypt$131072$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


# -- applying decisions to records and to the index -----------------------------------------------


def load_decisions(path: Path | None = None) -> dict[str, Decision]:
    """Every decision in the store at `path` (default location); {} when there is no store yet."""
    path = Path(path) if path is not None else default_store_path()
    if not path.exists():
        return {}
    return CurationStore(path).decisions()


def curated_labels(path: Path | None = None) -> dict[str, CuratedLabels]:
    """example id -> the sector/criterion labels curators set: extra training data for the tagger and
    the gold for `innosok eval tags` against curators. Examples whose labels were left to the tagger
    are left out; a kind left to the tagger is None."""
    out: dict[str, CuratedLabels] = {}
    for example_id, d in load_decisions(path).items():
        if d.sectors is not None or d.criteria is not None:
            out[example_id] = CuratedLabels(d.sectors, d.criteria)
    return out


def automatic_tags(example: InnovationExample) -> tuple[Tag, ...]:
    """The tagger's tags of an example, whether or not a curator has overridden them since."""
    if example.automatic_tags:
        return example.automatic_tags
    return tuple(t for t in example.tags if t.source != "kurator")


def curate_example(example: InnovationExample, decision: Decision | None) -> InnovationExample:
    """The example as the decision says: chosen labels become tags with source "kurator" (keeping the
    tagger's evidence for labels it had found); kinds left to the tagger and phases are untouched.
    Idempotent, and reversible: `decision=None` gives back the tagger's tags."""
    auto = automatic_tags(example)
    if decision is None or decision.is_empty:
        return replace(example, tags=auto, automatic_tags=(), recommended=False)
    tags: list[Tag] = []
    for kind in ("sector", "criterion", "phase"):
        chosen = decision.labels(kind)
        if chosen is None:
            tags.extend(t for t in auto if t.kind == kind)
            continue
        found = {t.label: t for t in auto if t.kind == kind}
        for label in chosen:
            evidence = found[label].evidence if label in found else ()
            tags.append(Tag(kind, label, 1.0, "kurator", evidence))
    overridden = decision.sectors is not None or decision.criteria is not None
    return replace(example, tags=tuple(tags), automatic_tags=auto if overridden else (),
                   recommended=decision.recommended)


def apply_curation(app: Application, decisions: Mapping[str, Decision] | None = None) -> Application:
    """Apply curators' decisions to a freshly tagged application (the ingest does this after the tagger).
    `decisions` None reads the default store."""
    if decisions is None:
        decisions = load_decisions()
    if not any(ex.id in decisions for ex in app.examples):
        return app
    return replace(app, examples=tuple(curate_example(ex, decisions.get(ex.id)) for ex in app.examples))


def sync_index(index: "SearchIndex", decisions: Mapping[str, Decision],
               only: Iterable[str] | None = None) -> int:
    """Make the index agree with the store: update every example whose tags or "anbefalt" differ from
    what the decisions say (all examples, or the ids in `only`). Returns how many were updated."""
    wanted = set(only) if only is not None else None
    stale: list[InnovationExample] = []
    for ex in index.examples(wanted):
        target = curate_example(ex, decisions.get(ex.id))
        if (target.tags, target.recommended, target.automatic_tags) != (ex.tags, ex.recommended, ex.automatic_tags):
            stale.append(target)
    if stale:
        index.update_examples(stale)
    return len(stale)


# -- validation and (de)serialisation -------------------------------------------------------------


def validate(d: Decision) -> None:
    """Known labels, a well-formed id and a note of sensible length; CurationError otherwise."""
    if not EXAMPLE_ID.match(d.example_id):
        raise CurationError(f"«{d.example_id}» er ikke en gyldig eksempel-id (som 7a12a2f5011a-2).")
    taxonomy = load_taxonomy()
    for kind, labels in (("sector", d.sectors), ("criterion", d.criteria)):
        if labels is None:
            continue
        unknown = [lab for lab in labels if lab not in taxonomy.ids(kind)]
        if unknown:
            what = "sektor" if kind == "sector" else "kriterium"
            raise CurationError(f"Ukjent {what}: {', '.join(unknown)}. Gyldige: {', '.join(taxonomy.ids(kind))}.")
        if len(set(labels)) != len(labels):
            raise CurationError(f"Samme merke står to ganger: {', '.join(labels)}.")
    if len(d.note) > NOTE_MAX:
        raise CurationError(f"Notatet er for langt ({len(d.note)} tegn); grensen er {NOTE_MAX}.")


def _from_content(example_id: str, c: Mapping[str, Any]) -> Decision:
    def labels(v: Any) -> tuple[str, ...] | None:
        return None if v is None else tuple(str(x) for x in v)

    return Decision(example_id, labels(c.get("sectors")), labels(c.get("criteria")), bool(c.get("recommended")),
                    bool(c.get("reviewed")), str(c.get("note") or ""))


def _decision(example_id: str, version: int, content: str, updated_by: str, updated_at: str) -> Decision:
    return replace(_from_content(example_id, json.loads(content)), version=version, updated_by=updated_by,
                   updated_at=updated_at)


def _decision_row(db: sqlite3.Connection, example_id: str) -> Decision:
    row = db.execute("SELECT example_id, version, content, updated_by, updated_at FROM decisions WHERE example_id=?",
                     (example_id,)).fetchone()
    return _decision(*row) if row else Decision(example_id)


def _write_decision(db: sqlite3.Connection, d: Decision) -> None:
    db.execute("INSERT INTO decisions VALUES (?, ?, ?, ?, ?) ON CONFLICT(example_id) DO UPDATE SET "
               "version=excluded.version, content=excluded.content, updated_by=excluded.updated_by, "
               "updated_at=excluded.updated_at",
               (d.example_id, d.version, json.dumps(d.content(), ensure_ascii=False), d.updated_by, d.updated_at))


def _append(db: sqlite3.Connection, d: Decision, user: str, at: str, action: str, before: Mapping[str, Any],
            automatic: Mapping[str, Any], undoes: int | None = None) -> None:
    db.execute("INSERT INTO history (example_id, version, user, at, action, before, after, undoes, automatic) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (d.example_id, d.version, user, at, action, json.dumps(before, ensure_ascii=False),
                json.dumps(d.content(), ensure_ascii=False), undoes, json.dumps(automatic, ensure_ascii=False)))


def _history(r: Sequence[Any]) -> HistoryEntry:
    return HistoryEntry(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), json.loads(r[7]), r[8],
                        json.loads(r[9] or "{}"))


def _format(path: Path, fmt: str | None) -> str:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("json", "csv"):
        raise CurationError(f"Ukjent filformat for {path.name}: bruk .json eller .csv (eller --format).")
    return fmt


def _csv_labels(labels: tuple[str, ...] | None) -> str:
    if labels is None:
        return ""
    return ";".join(labels) if labels else "ingen"


def _parse_labels(cell: str) -> tuple[str, ...] | None:
    cell = cell.strip()
    if not cell:
        return None
    if cell.lower() == "ingen":
        return ()
    return tuple(x.strip() for x in cell.split(";") if x.strip())


_YES = {"ja": True, "j": True, "true": True, "1": True, "yes": True, "nei": False, "n": False, "false": False,
        "0": False, "no": False, "": False}


def _parse_csv(text: str) -> list[Decision]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = {"example_id", "sectors", "criteria", "recommended"} - set(reader.fieldnames or ())
    if missing:
        raise CurationImportError(f"CSV-filen mangler kolonnene {', '.join(sorted(missing))}. "
                                  f"Forventet: {', '.join(CSV_COLUMNS)}.")
    out: list[Decision] = []
    for line, row in enumerate(reader, start=2):
        try:
            rec = (row.get("recommended") or "").strip().lower()
            rev = (row.get("reviewed") or "").strip().lower()
            if rec not in _YES or rev not in _YES:
                raise CurationError("recommended og reviewed må være «ja» eller «nei».")
            d = Decision((row.get("example_id") or "").strip(), _parse_labels(row.get("sectors") or ""),
                         _parse_labels(row.get("criteria") or ""), _YES[rec], _YES[rev], row.get("note") or "")
            validate(d)
        except CurationError as exc:
            raise CurationImportError(f"Linje {line} i CSV-filen: {exc}") from exc
        out.append(d)
    _no_duplicates(out)
    return out


def _parse_json(text: str) -> tuple[list[Decision], list[dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CurationImportError(f"JSON-filen kan ikke leses (linje {exc.lineno}): {exc.msg}") from exc
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise CurationImportError(f"Filen er ikke en eksport fra Innosøk-kurering (mangler \"format\": "
                                  f"\"{EXPORT_FORMAT}\").")
    if int(data.get("format_version", 0)) > STORE_VERSION:
        raise CurationImportError("Filen er laget av en nyere versjon av Innosøk. Oppdater programmet først.")
    out: list[Decision] = []
    for n, entry in enumerate(data.get("decisions", []), start=1):
        try:
            if not isinstance(entry, dict):
                raise CurationError("oppføringen er ikke et objekt.")
            for key in ("sectors", "criteria"):
                if entry.get(key) is not None and not isinstance(entry[key], list):
                    raise CurationError(f"{key} må være en liste eller null.")
            d = _from_content(str(entry.get("example_id", "")), entry)
            validate(d)
        except CurationError as exc:
            raise CurationImportError(f"Vedtak nr. {n} i JSON-filen: {exc}") from exc
        out.append(d)
    _no_duplicates(out)
    history = [h for h in data.get("history", []) if isinstance(h, dict) and isinstance(h.get("example_id"), str)]
    return out, history


def _no_duplicates(decisions: list[Decision]) -> None:
    seen: set[str] = set()
    for d in decisions:
        if d.example_id in seen:
            raise CurationImportError(f"Eksempelet {d.example_id} står to ganger i filen.")
        seen.add(d.example_id)


# -- time -----------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _stamp(when: datetime | None = None) -> str:
    return (when or _now()).isoformat(timespec="seconds")


def _local(stamp: str, time_only: bool = False) -> str:
    """An ISO time stamp as Norwegian local-style text (the server's time zone)."""
    try:
        when = datetime.fromisoformat(stamp).astimezone()
    except ValueError:
        return stamp
    return when.strftime("%H:%M") if time_only else when.strftime("%d.%m.%Y kl. %H:%M")
