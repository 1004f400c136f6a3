"""Write the sample corpus' sentence vectors, `corpus/embeddings/passage-vectors.npz` (`make corpus`).

Every text of the sample corpus the tagger embeds — the gold titles, answers and paragraphs it trains
on, the parsed titles and passages of the PDFs it tags — embedded once here and shipped, so that a
fresh installation builds its first index without minutes of embedding. The file is derived data:
`ingest/embedding.py` computes any vector it lacks, and `tests/test_embedding.py` recomputes a sample
of the shipped ones to check they are what the model gives.

Run from the repository root:  `.venv/bin/python -m corpus.embed`
"""

from __future__ import annotations

import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent


def corpus_texts(corpus_dir: Path = CORPUS) -> list[str]:
    """Every text the tagger embeds when it trains on the gold and tags the corpus' PDFs (supplement included)."""
    from ingest.golddata import load_gold
    from ingest.tag_eval import read_corpus_and_supplement
    from ingest.tagging import paragraphs

    gold = load_gold(corpus_dir / "gold")
    texts: list[str] = []
    for e in gold.examples:
        texts += [e.title, *paragraphs(e.text)]
    texts += [p.text for p in gold.passages]
    apps, _ = read_corpus_and_supplement(corpus_dir)
    for app in apps:
        for ex in app.examples:
            texts.append(ex.title)
            for p in ex.passages:
                texts += [p.text, *paragraphs(p.text)]
    return list(dict.fromkeys(t for t in texts if t.strip()))


def main() -> int:
    from tqdm import tqdm

    from ingest.embedding import SEED_DIR, Embedder, text_key, write_seed

    texts = corpus_texts()
    embedder = Embedder(seed={})  # the shipped file is not read: every vector is computed or from the cache
    vectors = {}
    for i in tqdm(range(0, len(texts), 64), desc="Vektorer", unit="×64"):
        chunk = texts[i:i + 64]
        for t, v in zip(chunk, embedder.vectors(chunk)):
            vectors[text_key(t)] = v
    path = write_seed(vectors, SEED_DIR)
    print(f"{len(vectors)} vektorer skrevet til {path.relative_to(CORPUS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
