"""Sentence embeddings and the linear models over them: the real bundled model, a real SQLite cache, the
shipped vectors of the sample corpus checked against the model."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.embedding import (DIM, MODEL_ID, SEED_DIR, Embedder, VectorCache, load_seed, normalise, text_key,
                              write_seed)
from ingest.linear import LinearModel, _fit_one

TEXTS = ["Heimetenesta nyttar sensorar om natta.", "Hjemmetjenesten bruker sensorer om natten.",
         "Elevene i 5. klasse lærer programmering.", "Kommunen bygde et nytt renseanlegg for avløp."]


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    return Embedder(cache=VectorCache(tmp_path_factory.mktemp("emb") / "cache.sqlite"), seed={})


def test_vectors_are_unit_length_and_mean_what_the_text_means(embedder: Embedder) -> None:
    v = embedder.vectors(TEXTS)
    assert v.shape == (4, DIM) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-2)
    sim = v @ v.T
    # the nynorsk and bokmål sentences on night-time sensors are closer to each other than to school or sewage
    assert sim[0, 1] > sim[0, 2] and sim[0, 1] > sim[0, 3]
    assert embedder.vectors([""])[0].tolist() == [0.0] * DIM  # nothing to embed: a zero row, no model call


def test_a_text_gives_the_same_vector_alone_in_a_batch_and_from_the_cache(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "c.sqlite")
    first = Embedder(cache=cache, seed={})
    batch = first.vectors(TEXTS)
    assert first.computed == len(TEXTS)
    alone = Embedder(cache=VectorCache(None), seed={}).vectors(TEXTS[2:3])
    assert np.array_equal(batch[2], alone[0])
    again = Embedder(cache=cache, seed={})
    assert np.array_equal(again.vectors(TEXTS), batch)
    assert again.computed == 0  # every vector came from the SQLite file
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] == len(TEXTS)


def test_whitespace_does_not_change_the_key_but_letters_do() -> None:
    assert normalise("Bolig  først\nfor unge ") == "Bolig først for unge"
    assert text_key("Bolig først\n for unge") == text_key("Bolig først for unge")
    assert text_key("Bolig først") != text_key("Bolig forst")  # æøå are part of the text


def test_a_cache_that_cannot_be_written_is_left_out(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    embedder = Embedder(cache=VectorCache(blocker / "cache.sqlite"), seed={})
    assert embedder.vectors(TEXTS[:1]).shape == (1, DIM)


def test_the_seed_file_round_trips_and_another_models_vectors_are_ignored(tmp_path: Path) -> None:
    vectors = {text_key(t): np.full(DIM, i, dtype=np.float32) for i, t in enumerate(TEXTS)}
    write_seed(vectors, tmp_path)
    seed = load_seed(tmp_path)
    assert set(seed) == set(vectors)
    e = Embedder(cache=VectorCache(None), seed=seed)
    assert e.vectors([TEXTS[3]])[0][0] == 3.0 and e.computed == 0
    np.savez(tmp_path / "passage-vectors.npz", model=np.array("another-model"), keys=np.array(["k"]),
             vectors=np.zeros((1, DIM), "<f2"))
    assert load_seed(tmp_path) == {}


def test_the_shipped_vectors_are_what_the_model_gives() -> None:
    seed = load_seed(SEED_DIR)
    assert len(seed) > 1000, "corpus/embeddings/passage-vectors.npz is missing: run `python -m corpus.embed`"
    from corpus.embed import corpus_texts

    texts = corpus_texts()
    keys = {text_key(t): t for t in texts}
    assert set(keys) <= set(seed), "texts of the corpus without a shipped vector: run `python -m corpus.embed`"
    sample = random.Random(7).sample(sorted(keys), 12)
    fresh = Embedder(cache=VectorCache(None), seed={}).vectors([keys[k] for k in sample])
    shipped = np.array([np.frombuffer(seed[k], dtype="<f2") for k in sample], dtype=np.float32)
    assert np.array_equal(fresh, shipped)
    with np.load(SEED_DIR / "passage-vectors.npz") as data:
        assert str(data["model"]) == MODEL_ID


# -- the linear models ---------------------------------------------------------------------------------


def test_the_small_system_gives_the_same_weights_as_the_full_one() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 60))  # fewer rows than features: the Woodbury step
    y = (x[:, 0] + 0.5 * rng.normal(size=40) > 0).astype(float)
    w, b = _fit_one(x, y, 5.0)
    # the optimum of the penalised log-likelihood: its gradient is zero
    p = 1 / (1 + np.exp(-(x @ w + b)))
    assert np.abs(x.T @ (p - y) + 5.0 * w).max() < 1e-6
    assert abs((p - y).sum()) < 1e-4


def test_a_linear_model_learns_separable_labels_and_survives_save_and_load(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)) + 10.0  # far from centred, like embeddings
    gold = [("helse",) if row[0] > 10 else ("oppvekst",) for row in x]
    model = LinearModel.fit(["helse", "oppvekst", "kultur"], x, gold, l2=1.0)
    probs = model.predict(np.array([[11.5] + [10.0] * 7, [8.5] + [10.0] * 7]))
    assert probs[0]["helse"] > 0.9 > probs[1]["helse"] and probs[1]["oppvekst"] > 0.9
    assert probs[0]["kultur"] < 0.05  # no row had it
    model.save(tmp_path / "m.npz")
    loaded = LinearModel.load(tmp_path / "m.npz")
    assert loaded.labels == model.labels and loaded.predict(x[:5]) == model.predict(x[:5])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.floats(-5, 5), min_size=3, max_size=3), min_size=4, max_size=12),
       st.floats(0.1, 100))
def test_probabilities_stay_between_zero_and_one(rows: list[list[float]], l2: float) -> None:
    x = np.array(rows)
    gold = [("a",) if i % 2 else () for i in range(len(rows))]
    for p in LinearModel.fit(["a", "b"], x, gold, l2).predict(x):
        assert 0.0 <= p["a"] <= 1.0 and 0.0 <= p["b"] <= 1.0
