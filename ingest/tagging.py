"""Tag stage: sectors, jury criteria and phase on every innovation example, each with the sentences behind it.

Three signals meet in one confidence per label:
- rules: the taxonomy's seed terms (`data/taxonomy.toml`) matched on lemmas and compound parts, so
  «heimetenesta», «hjemmetjenesten» and «hjemmetjenestens» all meet the term «hjemmetjeneste»;
- a trained classifier per kind: spaCy `textcat_multilabel` (phase: `textcat`) over a bag of lemmas
  plus the rule hits as features, trained on the sample corpus' gold labels and any extra labels
  (curators'), cached beside the index by a hash of its training data, with fixed seeds: the same
  corpus always gives the same tags;
- for sectors and criteria, a logistic regression over sentence embeddings (`ingest/embedding.py`,
  multilingual-e5-small), which knows words the ~190 labelled examples never used.

The sector threshold, the criterion threshold, the embedding model's share and its penalty are learnt
at training, by cross-validation inside the training labels (grouped by application; never a test
label). The best sector is kept below the threshold (from MIN_SECTOR), so every example says what part
of the municipality it serves.

Criteria are tagged per passage: an answer to a form question gets the criterion the question asks
about (source «skjema»); free text is classified window by window (three sentences), since a parsed
paragraph of free text may hold several answers. The evidence for a tag is the sentences that carry
its seed terms or, when none do, the sentences the classifier rates highest for it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import re
import shutil
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from ingest.embedding import MODEL_ID as EMBEDDING_MODEL
from ingest.embedding import Embedder, default_embedder
from ingest.errors import ConfigurationError
from ingest.golddata import DEFAULT_GOLD_DIR, TrainingSet, load_gold
from ingest.lexicon import lemma
from ingest.linear import LinearModel
from ingest.parse import QUESTION_CRITERION_2015, QUESTIONS_2016
from ingest.records import Application, InnovationExample, Passage, Tag
from ingest.taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from spacy.language import Language
    from spacy.tokens import Doc
    from thinc.api import Model

MODEL_VERSION = "5"  # bump when features or training change: part of the model's cache key
SEED = 20240901
EPOCHS = 16
BATCH = 16
USE_AVERAGES = True
MEMBERS = 3  # classifiers averaged per kind (each trained in its own order)
LEARN_RATE = 0.003
L2 = 0.01
# Word n-grams per kind: criteria are said in short phrases («det nye», «tatt i bruk», «andre kommunar»),
# sectors and phase are what a text is about, where single lemmas suffice.
NGRAMS = {"sector": 1, "criterion": 2, "phase": 1}
HASH_BUCKETS = 2**15  # feature hash table of the bag-of-lemmas model (the corpus has ~15k lemmas)
FEATURE_CAP = 3  # a lemma counts at most this often in one text: long texts must not shout
RULE_FEATURE_CAP = 10  # rule hits per label given to the classifier as features
TITLE_WEIGHT = 3  # the title's lemmas count this often
WINDOW = 3  # sentences per window when free text is classified for criteria

# The classifier's share of a combined confidence; the rules have the rest. Criteria lean a little more on
# the rules: how novelty or spread is said («det nye», «andre kommunar har besøkt oss») is in the seed phrases.
MODEL_WEIGHT = {"sector": 0.75, "criterion": 0.7, "phase": 0.75}
THRESHOLD = 0.4  # a sector is tagged from this combined confidence up, unless training learns a better one
# The sector threshold is learnt at training: grouped cross-validation inside the training labels (never a test
# label) picks the grid value with the best micro-F1. Too few labelled applications to split keep THRESHOLD.
THRESHOLD_GRID = tuple(x / 100 for x in range(20, 61, 5))
INNER_FOLDS = 5
MIN_TUNING_APPLICATIONS = 12
# A free-text passage gets its best criterion from this confidence up, and further ones from a second threshold
# at least as high, unless training learns better ones (the same inner cross-validation, scored on the training
# labels' free-form answers): most paragraphs speak to one criterion, and a second one needs more evidence.
# Lower than for sectors, because a window of three sentences says less than a whole example.
CRITERION_THRESHOLD = 0.35
CRITERION_THRESHOLD_GRID = tuple(x / 100 for x in range(20, 51, 5))
MIN_TUNING_FREE_ANSWERS = 20  # fewer free-form answers in the training labels keep CRITERION_THRESHOLD
# The embedding model's share of a confidence (the rest: classifier and rules as combined before), and its L2
# penalty: both learnt by the inner cross-validation from these grids; too few labels keep the first values.
VECTOR_SHARE_GRID = (0.0, 0.2, 0.35, 0.5, 0.65, 0.8)
VECTOR_L2_GRID = (3.0, 10.0, 30.0, 100.0)
VECTOR_KINDS = ("sector", "criterion")
# Characters of an example the embedding model reads (from its start; the longest labelled example has ~9k):
# embedding runs at ~700 tokens/s, and a 300-page report dropped among the applications must not take ten
# minutes. Text beyond it is tagged by the classifier and the rules alone.
EMBED_CHARS = 24_000
CRITERION_FLOOR = 0.2  # a criterion no passage reached is given to its best passage from here (as MIN_SECTOR)
MIN_SECTOR = 0.2  # the best sector is kept below THRESHOLD, from this confidence up
RULE_HALF = {"sector": 4.0, "criterion": 2.0, "phase": 4.0}  # seed-term hits that give rule score 0.5
EVIDENCE_SENTENCES = 2
EVIDENCE_CHARS = 300
MODELS_FOLDER = "models"
SETTINGS_FILE = "settings.json"
EMPTY_FEATURE = "#tom"
KINDS = ("sector", "criterion", "phase")
# The answers that say how far an innovation has come («Er løsningen tatt i bruk?», 2015's «gjennomføring»):
# phase is judged on them when an example has them; the rest of its text talks mostly of results, which
# drown a pilot's «prøves ut» in the language of things already in use.
PHASE_QUESTIONS = frozenset({"realisert", "gjennomforing"})
# The criteria the 2016–2019 form asks of every example (helhet is asked of the application as a whole).
ASKED_CRITERIA = tuple(c for _, _, c in QUESTIONS_2016 if c)
# Form questions that name a jury criterion (both form generations); every other passage is classified.
FORM_CRITERIA: dict[str, str] = {
    **{q: c for q, c in QUESTION_CRITERION_2015.items() if c},
    **{q: c for q, _, c in QUESTIONS_2016 if c},
}


# -- analysed text ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sentence:
    """One sentence: its text, per word every lemma a seed term may match, and the classifier's features."""

    text: str
    words: tuple[frozenset[str], ...]
    features: tuple[str, ...]  # content lemmas (what a text is about: sectors, phase)
    all_lemmas: tuple[str, ...]  # every word's lemma (how it is said: «det nye», «kan brukast av andre»)


@dataclass(frozen=True)
class Analysed:
    """A text as the tagger sees it: its sentences."""

    sentences: tuple[Sentence, ...]

    @property
    def features(self) -> list[str]:
        return [f for s in self.sentences for f in s.features]

    @property
    def all_lemmas(self) -> list[str]:
        return [f for s in self.sentences for f in s.all_lemmas]


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1].rstrip() + "…"


def _analysed(doc: "Doc") -> Analysed:
    from ingest.nlp import NUMBER_FEATURE, token_features, word_lemmas

    per_token: list[tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]] = []
    for tok in doc:
        if tok.is_space:
            per_token.append((frozenset(), (), ()))
            continue
        lemmas = word_lemmas(tok) if tok.is_alpha else (tok.lower_,)
        feats = token_features(tok)
        every = lemmas if tok.is_alpha else (feats if feats == (NUMBER_FEATURE,) else ())
        per_token.append((frozenset((tok.lower_, *lemmas)), feats, every))
    sentences = []
    for sent in doc.sents:
        text = sent.text.strip()
        if not text:
            continue
        span = per_token[sent.start:sent.end]
        sentences.append(Sentence(_clean(text), tuple(w for w, _, _ in span if w),
                                  tuple(f for _, fs, _ in span for f in fs),
                                  tuple(f for _, _, fs in span for f in fs)))
    return Analysed(tuple(sentences))


_MEMO: dict[str, Analysed] = {}
_MEMO_MAX = 20_000  # texts kept per process (training and cross-validation meet the same texts again)


def analyse(texts: Sequence[str]) -> list[Analysed]:
    """Many texts through the one spaCy pipeline, in one stream (texts seen before are not redone)."""
    from ingest.nlp import analyse as run

    known = {t: _MEMO[t] for t in texts if t in _MEMO}
    todo = [t for t in dict.fromkeys(texts) if t not in known]
    done = dict(zip(todo, (_analysed(doc) for doc in run(todo))))
    if len(_MEMO) + len(done) > _MEMO_MAX:
        _MEMO.clear()
    if len(done) <= _MEMO_MAX:
        _MEMO.update(done)
    return [known[t] if t in known else done[t] for t in texts]


def analyse_paragraphs(texts: Sequence[str]) -> list[Analysed]:
    """Like `analyse`, paragraph by paragraph: an example's text and its answers share the work."""
    paragraphs = [[p for p in t.split("\n\n") if p.strip()] for t in texts]
    flat = iter(analyse([p for ps in paragraphs for p in ps]))
    return [Analysed(tuple(s for _ in ps for s in next(flat).sentences)) for ps in paragraphs]


# -- rules --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A seed term as lemma alternatives per word (a phrase has several words)."""

    kind: str
    label: str
    text: str
    words: tuple[frozenset[str], ...]


class Rules:
    """The taxonomy's seed terms, matched on word forms, lemmas and compound parts."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._by_word: dict[str, list[Term]] = {}
        for lab in taxonomy.labels:
            for text in lab.terms:
                words = tuple(frozenset({w, lemma(w)}) for w in text.split())
                term = Term(lab.kind, lab.id, text, words)
                for first in sorted(words[0]):
                    self._by_word.setdefault(first, []).append(term)

    def hits(self, sentence: Sentence, kind: str) -> Counter[str]:
        """label → seed-term matches of that kind in the sentence; a phrase counts double, a word once per term."""
        found: Counter[str] = Counter()
        words = sentence.words
        for i, cands in enumerate(words):
            seen: set[str] = set()
            for cand in cands:
                for term in self._by_word.get(cand, ()):
                    if term.kind != kind or term.text in seen:
                        continue
                    n = len(term.words)
                    if i + n <= len(words) and all(words[i + k] & term.words[k] for k in range(1, n)):
                        seen.add(term.text)
                        found[term.label] += 2 if n > 1 else 1
        return found

    def hits_in(self, sentences: Iterable[Sentence], kind: str) -> Counter[str]:
        total: Counter[str] = Counter()
        for s in sentences:
            total.update(self.hits(s, kind))
        return total


def rule_score(hits: float, kind: str) -> float:
    """Weighted hits → 0..1, one half at RULE_HALF[kind] hits."""
    return 1.0 - math.exp(-hits * math.log(2) / RULE_HALF[kind])


def classifier_features(lemmas: Iterable[str], hits: Counter[str]) -> list[str]:
    """What a classifier sees: lemmas (each at most FEATURE_CAP times) plus one feature per rule hit."""
    seen: Counter[str] = Counter()
    out = []
    for f in lemmas:
        seen[f] += 1
        if seen[f] <= FEATURE_CAP:
            out.append(f)
    for label in sorted(hits):
        out += [f"#regel:{label}"] * min(hits[label], RULE_FEATURE_CAP)
    return out


def example_lemmas(title: Analysed, body: Sequence[Analysed]) -> list[str]:
    return title.features * TITLE_WEIGHT + [f for a in body for f in a.features]


def windows(sentences: Sequence[Sentence]) -> list[tuple[Sentence, ...]]:
    """Overlapping runs of WINDOW sentences (the whole text if it is shorter)."""
    if len(sentences) <= WINDOW:
        return [tuple(sentences)] if sentences else []
    return [tuple(sentences[i:i + WINDOW]) for i in range(len(sentences) - WINDOW + 1)]


def phase_texts(training: TrainingSet) -> dict[tuple[str, int], str]:
    """Per labelled example, the answers that say how far it has come (see PHASE_QUESTIONS), when it has any."""
    chosen: dict[tuple[str, int], list[str]] = {}
    for p in training.passages:
        if p.example > 0 and p.question in PHASE_QUESTIONS and p.text.strip():
            chosen.setdefault((p.application, p.example), []).append(p.text)
    return {k: "\n\n".join(v) for k, v in chosen.items()}


def balanced(rows: Sequence[tuple[Sequence[str], tuple[str, ...]]]) -> list[tuple[Sequence[str], tuple[str, ...]]]:
    """Rows of a rare class repeated √(largest class / its class) times: most examples are «i bruk», and an
    unweighted classifier learns to say so always."""
    counts = Counter(labels[0] for _, labels in rows if labels)
    if not counts:
        return list(rows)
    top = max(counts.values())
    return [r for r in rows for _ in range(max(1, round(math.sqrt(top / counts[r[1][0]]))) if r[1] else 1)]


# -- classifiers --------------------------------------------------------------------------------------


def _keep_averages(model: "Model", averages: dict) -> None:
    """Make the optimizer's running averages of the weights the model's weights (they generalise better)."""
    for node in model.walk():
        for name in node.param_names:
            key = (node.id, name)
            if key in averages:
                node.set_param(name, averages[key].copy())


@contextmanager
def _seeded() -> Iterator[None]:
    """Fixed seeds for training, and the process' random state given back afterwards: others draw from it
    too (Whoosh names new index segments with `random`; two trainings must not make two writers pick the
    same name)."""
    import numpy
    from spacy.util import fix_random_seed

    state, np_state = random.getstate(), numpy.random.get_state()
    fix_random_seed(SEED)
    try:
        yield
    finally:
        random.setstate(state)
        numpy.random.set_state(np_state)


class TextClassifier:
    """A spaCy text classifier over features (bag of lemmas), trained here and saved beside the index.

    It is a small bag: MEMBERS classifiers in one pipeline, each trained on the same rows in another
    fixed order, their probabilities averaged. With a few hundred examples one order alone decides
    borderline labels by chance; the average does not.
    """

    def __init__(self, nlp: "Language") -> None:
        self._nlp = nlp
        self._pipes = [nlp.get_pipe(name) for name in nlp.pipe_names]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self._pipes[0].labels)

    @classmethod
    def train(cls, labels: Sequence[str], rows: Sequence[tuple[Sequence[str], Iterable[str]]],
              exclusive: bool = False, ngrams: int = 1) -> "TextClassifier":
        """Train on (features, labels) rows; fixed seeds and orders, so the same rows give the same model."""
        with _seeded():
            return cls._train(labels, rows, exclusive, ngrams)

    @classmethod
    def _train(cls, labels: Sequence[str], rows: Sequence[tuple[Sequence[str], Iterable[str]]],
               exclusive: bool, ngrams: int) -> "TextClassifier":
        import spacy
        from spacy.training import Example
        from spacy.util import minibatch
        from thinc.api import Adam

        nlp = spacy.blank("nb")
        config = {"model": {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": exclusive,
                            "ngram_size": ngrams, "no_output_layer": False, "length": HASH_BUCKETS}}
        factory = "textcat" if exclusive else "textcat_multilabel"
        pipes = [nlp.add_pipe(factory, name=f"{factory}_{i}", config=config) for i in range(MEMBERS)]
        for pipe in pipes:
            for label in labels:
                pipe.add_label(label)
        examples = []
        for feats, gold in rows:
            wanted = set(gold)
            cats = {lab: float(lab in wanted) for lab in labels}
            examples.append(Example.from_dict(cls._doc(nlp, feats), {"cats": cats}))
        nlp.initialize(lambda: examples)
        for i, pipe in enumerate(pipes):
            optimizer = Adam(LEARN_RATE, L2=L2, L2_is_weight_decay=True, grad_clip=1.0, use_averages=USE_AVERAGES)
            rng = random.Random(SEED + i)
            order = list(range(len(examples)))
            for _ in range(EPOCHS):
                rng.shuffle(order)
                for batch in minibatch([examples[j] for j in order], size=BATCH):
                    pipe.update(batch, sgd=optimizer, drop=0.0)  # the pipe itself: no copy of the batch
            if USE_AVERAGES:
                _keep_averages(pipe.model, optimizer.averages)
        return cls(nlp)

    @staticmethod
    def _doc(nlp: "Language", feats: Sequence[str]) -> "Doc":
        from spacy.tokens import Doc

        return Doc(nlp.vocab, words=list(feats) or [EMPTY_FEATURE])

    def predict(self, feature_lists: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        """label → probability (the members' mean), for each feature list: one call for the whole batch."""
        if not feature_lists:
            return []
        docs = [self._doc(self._nlp, f) for f in feature_lists]
        total = None
        for pipe in self._pipes:
            scores = pipe.model.ops.to_numpy(pipe.predict(docs))
            total = scores if total is None else total + scores
        mean = total / len(self._pipes)
        labels = self.labels
        return [{lab: float(row[i]) for i, lab in enumerate(labels)} for row in mean]

    def to_disk(self, path: Path) -> None:
        self._nlp.to_disk(path)

    @classmethod
    def from_disk(cls, path: Path) -> "TextClassifier":
        import spacy

        return cls(spacy.load(path))


@dataclass(frozen=True)
class Settings:
    """What training learnt by cross-validation inside its own labels (see `learn_settings`)."""

    sector_threshold: float = THRESHOLD
    criterion_threshold: float = CRITERION_THRESHOLD
    criterion_extra_threshold: float = CRITERION_THRESHOLD  # for a passage's second and further criteria
    sector_share: float = VECTOR_SHARE_GRID[0]  # the embedding model's share of a sector's confidence
    criterion_share: float = VECTOR_SHARE_GRID[0]
    sector_l2: float = VECTOR_L2_GRID[0]
    criterion_l2: float = VECTOR_L2_GRID[0]

    def share(self, kind: str) -> float:
        return {"sector": self.sector_share, "criterion": self.criterion_share}.get(kind, 0.0)


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def within_budget(texts: Sequence[str], budget: int = EMBED_CHARS) -> int:
    """How many of the texts, from the first, the embedding model reads (at least one)."""
    used = 0
    for n, t in enumerate(texts):
        used += len(t)
        if used > budget and n:
            return n
    return len(texts)


def example_vectors(embedder: "Embedder", titles: Sequence[str], bodies: Sequence[Sequence[str]]) -> "np.ndarray":
    """Per example: the unit mean of its paragraphs' vectors, then its title's vector. A mean of paragraphs, not
    one vector of the whole text: the model reads 512 tokens at a time, and an example is longer."""
    import numpy as np

    bodies = [body[:within_budget(body)] for body in bodies]
    flat = [*titles, *(p for body in bodies for p in body)]
    vecs = embedder.vectors(flat)
    out = np.zeros((len(titles), 2 * vecs.shape[1] if len(vecs) else 0), dtype=np.float32)
    at = len(titles)
    for i, body in enumerate(bodies):
        mean = vecs[at:at + len(body)].mean(axis=0) if body else np.zeros(vecs.shape[1], dtype=np.float32)
        at += len(body)
        norm = float(np.linalg.norm(mean))
        out[i] = np.concatenate([mean / norm if norm else mean, vecs[i]])
    return out


@dataclass(frozen=True)
class TagModels:
    """The trained classifiers, the embedding models, what training learnt, and the hash of what they learnt from."""

    key: str
    sector: TextClassifier
    criterion: TextClassifier
    phase: TextClassifier
    settings: Settings = Settings()
    sector_vectors: LinearModel | None = None
    criterion_vectors: LinearModel | None = None

    @property
    def sector_threshold(self) -> float:
        return self.settings.sector_threshold

    def vectors(self, kind: str) -> LinearModel | None:
        return {"sector": self.sector_vectors, "criterion": self.criterion_vectors}.get(kind)

    @classmethod
    def train(cls, training: TrainingSet, taxonomy: Taxonomy | None = None,
              embedder: "Embedder | None" = None) -> "TagModels":
        """Train on a training set: examples for sectors and phase, the examples' answers for criteria."""
        tax = taxonomy or load_taxonomy()
        if not training.examples:
            raise ConfigurationError("Det finnes ingen merkede eksempler å lære av.")
        emb = embedder or default_embedder()
        rules = Rules(tax)
        titles = analyse([e.title for e in training.examples])
        bodies = analyse_paragraphs([e.text for e in training.examples])
        stage_texts = phase_texts(training)
        stages = analyse_paragraphs([stage_texts.get((e.application, e.number), e.text) for e in training.examples])
        sector_rows, sector_hits, phase_rows = [], [], []
        for e, title, body, stage in zip(training.examples, titles, bodies, stages):
            lemmas = example_lemmas(title, [body])
            sector_hits.append(rules.hits_in((*title.sentences, *body.sentences), "sector"))
            sector_rows.append((classifier_features(lemmas, sector_hits[-1]), e.sectors))
            if e.phase:
                phase_rows.append((classifier_features(stage.all_lemmas, rules.hits_in(stage.sentences, "phase")),
                                   (e.phase,)))
        # the applications' «why us» answers speak for the whole application, not for one example's text
        answers = [p for p in training.passages if p.example > 0 and p.text.strip()]
        analysed_answers = analyse_paragraphs([p.text for p in answers])
        criterion_rows = [
            (classifier_features(a.all_lemmas, rules.hits_in(a.sentences, "criterion")), p.criteria)
            for p, a in zip(answers, analysed_answers)
        ]
        sector_x = example_vectors(emb, [e.title for e in training.examples],
                                   [paragraphs(e.text) for e in training.examples])
        criterion_x = emb.vectors([p.text for p in answers])
        settings = learn_settings(
            tax, rules,
            SectorData(sector_rows, sector_hits, sector_x, [e.application for e in training.examples]),
            CriterionData(criterion_rows, criterion_x, [p.application for p in answers],
                          [p.free_form for p in answers], analysed_answers))
        sectors, criteria = tax.ids("sector"), tax.ids("criterion")
        return cls(
            model_key(training, tax),
            TextClassifier.train(sectors, sector_rows, ngrams=NGRAMS["sector"]),
            TextClassifier.train(criteria, criterion_rows, ngrams=NGRAMS["criterion"]),
            TextClassifier.train(tax.ids("phase"), balanced(phase_rows), exclusive=True, ngrams=NGRAMS["phase"]),
            settings,
            LinearModel.fit(sectors, sector_x, [r[1] for r in sector_rows], settings.sector_l2)
            if settings.sector_share else None,
            LinearModel.fit(criteria, criterion_x, [r[1] for r in criterion_rows], settings.criterion_l2)
            if settings.criterion_share else None,
        )

    def save(self, folder: Path) -> None:
        """Write into a temporary sibling, then rename: a reader never sees half a model."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
        try:
            for kind in KINDS:
                getattr(self, kind).to_disk(tmp / kind)
            for kind in VECTOR_KINDS:
                model = self.vectors(kind)
                if model is not None:
                    model.save(tmp / f"{kind}-vectors.npz")
            (tmp / SETTINGS_FILE).write_text(json.dumps(asdict(self.settings), indent=2) + "\n", encoding="utf-8")
            (tmp / "KEY").write_text(self.key, encoding="utf-8")
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> "TagModels":
        key = (folder / "KEY").read_text(encoding="utf-8").strip()
        settings = Settings(**json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8")))
        vectors = [LinearModel.load(folder / f"{kind}-vectors.npz") if (folder / f"{kind}-vectors.npz").exists()
                   else None for kind in VECTOR_KINDS]
        return cls(key, *(TextClassifier.from_disk(folder / kind) for kind in KINDS), settings, *vectors)


def _taxonomy_terms(taxonomy: Taxonomy) -> list[str]:
    return [f"{lab.kind}:{lab.id}:{'|'.join(lab.terms)}" for lab in taxonomy.labels]


def model_key(training: TrainingSet, taxonomy: Taxonomy) -> str:
    """What a trained model depends on: training data, taxonomy (labels and seed terms), code version, spaCy,
    the embedding model.
    Read from package metadata, so the key is known without importing spaCy or loading a model."""
    from importlib.metadata import version

    parts = [MODEL_VERSION, version("spacy"), EMBEDDING_MODEL, training.digest(), *_taxonomy_terms(taxonomy)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def tagger_key(training: TrainingSet, taxonomy: Taxonomy) -> str:
    """What tags depend on: the model's key, or, without labels to learn from, the seed terms the rules match."""
    if training.examples:
        return model_key(training, taxonomy)
    return "rules-" + hashlib.sha256("\x1f".join(_taxonomy_terms(taxonomy)).encode("utf-8")).hexdigest()


def default_training(extra: TrainingSet | None = None, gold_dir: Path = DEFAULT_GOLD_DIR) -> TrainingSet:
    """What an ingest's tagger learns from: the gold labels (if there are any) with `extra` (curators')."""
    training = load_gold(gold_dir) if (gold_dir / "examples.csv").exists() else TrainingSet()
    if extra is not None:
        training = training.with_extra(extra.examples, extra.passages, ";".join(extra.sources))
    return training


_TRAINED: dict[str, TagModels] = {}  # per process: a batch of tests or folds does not retrain the same data


def models_for(training: TrainingSet, cache_root: Path | None = None,
               taxonomy: Taxonomy | None = None) -> TagModels:
    """The models for a training set: from this process, from the cache folder, or trained now (and cached)."""
    tax = taxonomy or load_taxonomy()
    key = model_key(training, tax)
    folder = cache_root / f"tagger-{key[:16]}" if cache_root is not None else None
    cached = folder is not None and (folder / "KEY").exists()
    models = _TRAINED.get(key)
    if models is None and folder is not None and cached:
        try:
            models = TagModels.load(folder)
        except (OSError, ValueError):
            models, cached = None, False  # a damaged cache is derived data: train again
    if models is None or models.key != key:
        models, cached = TagModels.train(training, tax), False
    if folder is not None and cache_root is not None and not cached:
        shutil.rmtree(folder, ignore_errors=True)
        models.save(folder)
        for old in cache_root.glob("tagger-*"):
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)
    _TRAINED.pop(key, None)
    _TRAINED[key] = models
    while len(_TRAINED) > 2:  # the ingest's models and one more (a cross-validation fold) stay in memory
        _TRAINED.pop(next(iter(_TRAINED)))
    return models


# -- the tagger ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """One label's combined confidence and which signal carried it."""

    label: str
    confidence: float
    source: str


def combine(labels: Sequence[str], probs: dict[str, float] | None, hits: Counter[str], kind: str,
            vectors: dict[str, float] | None = None, share: float = 0.0) -> list[Scored]:
    """Classifier probability, rule score and embedding probability → one confidence per label (rules alone
    without a model). The embedding model has `share` of it, classifier and rules the rest."""
    out = []
    for lab in labels:
        r = rule_score(hits.get(lab, 0), kind)
        if probs is None:
            out.append(Scored(lab, round(r, 3), "regel"))
            continue
        p = probs.get(lab, 0.0)
        w = MODEL_WEIGHT[kind]
        conf = w * p + (1 - w) * r
        if vectors is not None and share:
            conf = (1 - share) * conf + share * vectors.get(lab, 0.0)
            p = (1 - share) * w * p + share * vectors.get(lab, 0.0)  # the models' part, against the rules'
            r = (1 - share) * (1 - w) * r
            source = "modell" if p >= r else "regel"
        else:
            source = "modell" if w * p >= (1 - w) * r else "regel"
        out.append(Scored(lab, round(conf, 3), source))
    return out


def chosen_sectors(scored: Sequence[Scored], threshold: float) -> list[Scored]:
    """The sectors from `threshold` up; when none reaches it, the best one from MIN_SECTOR (scored: best first)."""
    chosen = [s for s in scored if s.confidence >= threshold]
    if not chosen and scored and scored[0].confidence >= MIN_SECTOR:
        chosen = list(scored[:1])
    return chosen


def _micro_f1(pairs: Sequence[tuple[Sequence[str], Sequence[str]]]) -> float:
    from ingest.tag_eval import score  # the evaluation's own scoring (imported here: tag_eval imports this module)

    return score("", (), pairs).micro_f1


def pick_threshold(pairs: Sequence[tuple[Sequence[str], Sequence[Scored]]], default: float = THRESHOLD) -> float:
    """The grid threshold whose sector choice has the best micro-F1 over (gold labels, scores) pairs; of equal
    ones, the nearest to `default`."""
    def f1(threshold: float) -> float:
        return _micro_f1([(gold, [s.label for s in chosen_sectors(scored, threshold)]) for gold, scored in pairs])

    return max(THRESHOLD_GRID, key=lambda t: (f1(t), -abs(t - default)))


def best_windows(model: TextClassifier | None, rules: Rules, labels: Sequence[str],
                 analysed: Sequence[Analysed]) -> list[tuple[tuple[tuple[Sentence, ...], ...], dict[str, tuple[Scored, int]]]]:
    """Per free-text passage: its windows, and per label the best window's combined score (classifier and seed
    terms of that window) with the window's number. Rules count per window: summed over a long passage,
    common words («bedre», «tilbod») would add up to a criterion no part of it speaks to."""
    all_windows = [windows(a.sentences) for a in analysed]
    flat = [w for ws in all_windows for w in ws]
    flat_hits = [rules.hits_in(w, "criterion") for w in flat]
    flat_probs: list[dict[str, float] | None] = (
        list(model.predict([classifier_features([f for s in w for f in s.all_lemmas], h)
                            for w, h in zip(flat, flat_hits)])) if model else [None] * len(flat))
    scored = iter(combine(labels, p, h, "criterion") for p, h in zip(flat_probs, flat_hits))
    out = []
    for ws in all_windows:
        best: dict[str, tuple[Scored, int]] = {}
        for i in range(len(ws)):
            for sc in next(scored):
                if sc.label not in best or sc.confidence > best[sc.label][0].confidence:
                    best[sc.label] = (sc, i)
        out.append((tuple(ws), best))
    return out


def blended(scored: Scored, vectors: dict[str, float] | None, share: float) -> Scored:
    """A window's score with the passage's embedding probability mixed in (the same for every window)."""
    if vectors is None or not share:
        return scored
    v = vectors.get(scored.label, 0.0)
    conf = (1 - share) * scored.confidence + share * v
    source = "modell" if scored.source == "modell" or share * v >= (1 - share) * scored.confidence else scored.source
    return Scored(scored.label, round(conf, 3), source)


@dataclass(frozen=True)
class SectorData:
    """The sector training rows as the inner cross-validation needs them."""

    rows: Sequence[tuple[list[str], tuple[str, ...]]]
    hits: Sequence[Counter[str]]
    vectors: "np.ndarray"
    groups: Sequence[str]


@dataclass(frozen=True)
class CriterionData:
    """The criterion training rows (one per answer) as the inner cross-validation needs them."""

    rows: Sequence[tuple[list[str], tuple[str, ...]]]
    vectors: "np.ndarray"
    groups: Sequence[str]
    free_form: Sequence[bool]
    analysed: Sequence[Analysed]


def _inner_folds(groups: Sequence[str]) -> list[set[str]]:
    apps = sorted(set(groups), key=lambda g: hashlib.sha256(g.encode("utf-8")).hexdigest())
    return [set(apps[f::INNER_FOLDS]) for f in range(INNER_FOLDS)]


def _vector_probs(labels: Sequence[str], x: "np.ndarray", gold: Sequence[Sequence[str]], train: list[int],
                  test: list[int]) -> dict[float, list[dict[str, float]]]:
    """Per L2 on the grid: the embedding model trained on rows `train`, its probabilities for rows `test`."""
    return {l2: LinearModel.fit(labels, x[train], [gold[i] for i in train], l2).predict(x[test])
            for l2 in VECTOR_L2_GRID}


def _learn_sector(labels: Sequence[str], data: SectorData) -> tuple[float, float, float]:
    """(threshold, embedding share, L2) with the best micro-F1 over inner folds of the sector rows."""
    # per held-out row: gold, (classifier probabilities, rule hits), embedding probabilities per L2
    held: list[tuple[tuple[str, ...], dict[str, float], Counter[str], dict[float, dict[str, float]]]] = []
    gold = [r[1] for r in data.rows]
    for fold in _inner_folds(data.groups):
        train = [i for i, g in enumerate(data.groups) if g not in fold]
        test = [i for i, g in enumerate(data.groups) if g in fold]
        model = TextClassifier.train(labels, [data.rows[i] for i in train], ngrams=NGRAMS["sector"])
        vec = _vector_probs(labels, data.vectors, gold, train, test)
        for k, (i, probs) in enumerate(zip(test, model.predict([data.rows[i][0] for i in test]))):
            held.append((gold[i], probs, data.hits[i], {l2: v[k] for l2, v in vec.items()}))
    best: tuple[tuple[float, ...], tuple[float, float, float]] | None = None
    for share in VECTOR_SHARE_GRID:
        for l2 in (VECTOR_L2_GRID if share else VECTOR_L2_GRID[:1]):
            pairs = [(g, sorted(combine(labels, p, h, "sector", v[l2], share), key=lambda s: -s.confidence))
                     for g, p, h, v in held]
            t = pick_threshold(pairs)
            f1 = _micro_f1([(g, [s.label for s in chosen_sectors(sc, t)]) for g, sc in pairs])
            rank = (f1, -share, -l2)  # of equal ones: the simpler mix
            if best is None or rank > best[0]:
                best = (rank, (t, share, l2))
    assert best is not None
    return best[1]


def chosen_criteria(scored: Sequence[Scored], first: float, extra: float) -> list[Scored]:
    """A free-text passage's criteria: its best one from `first` up, any other from `extra` up."""
    ranked = sorted(scored, key=lambda s: -s.confidence)
    if not ranked or ranked[0].confidence < first:
        return []
    return [ranked[0], *(s for s in ranked[1:] if s.confidence >= extra)]


def _learn_criterion(labels: Sequence[str], rules: Rules,
                     data: CriterionData) -> tuple[float, float, float, float]:
    """(threshold, extra threshold, embedding share, L2) with the best micro-F1 on the free-form answers of inner
    folds: the thresholds only ever decide free text (form answers carry their question's criterion)."""
    held: list[tuple[tuple[str, ...], dict[str, Scored], dict[float, dict[str, float]]]] = []
    gold = [r[1] for r in data.rows]
    for fold in _inner_folds(data.groups):
        train = [i for i, g in enumerate(data.groups) if g not in fold]
        test = [i for i, g in enumerate(data.groups) if g in fold and data.free_form[i] and data.analysed[i].sentences]
        if not test:
            continue
        model = TextClassifier.train(labels, [data.rows[i] for i in train], ngrams=NGRAMS["criterion"])
        vec = _vector_probs(labels, data.vectors, gold, train, test)
        calls = best_windows(model, rules, labels, [data.analysed[i] for i in test])
        for k, (i, (_, best)) in enumerate(zip(test, calls)):
            held.append((gold[i], {lab: sc for lab, (sc, _) in best.items()}, {l2: v[k] for l2, v in vec.items()}))
    choice: tuple[tuple[float, ...], tuple[float, float, float, float]] | None = None
    for share in VECTOR_SHARE_GRID:
        for l2 in (VECTOR_L2_GRID if share else VECTOR_L2_GRID[:1]):
            confs = [(g, [blended(sc, v[l2], share) for sc in scs.values()]) for g, scs, v in held]
            for t in CRITERION_THRESHOLD_GRID:
                for extra in (x for x in CRITERION_THRESHOLD_GRID if x >= t):
                    f1 = _micro_f1([(g, [s.label for s in chosen_criteria(scs, t, extra)]) for g, scs in confs])
                    rank = (f1, -share, -l2, -(extra - t), -abs(t - CRITERION_THRESHOLD))  # of equals: the simpler
                    if choice is None or rank > choice[0]:
                        choice = (rank, (t, extra, share, l2))
    assert choice is not None
    return choice[1]


def learn_settings(taxonomy: Taxonomy, rules: Rules, sectors: SectorData, criteria: CriterionData) -> Settings:
    """Thresholds, embedding shares and penalties from grouped cross-validation inside the training labels: a
    classifier trained on ~150 examples is rarely confident about an example's second sector, and how much the
    embedding model should count is a question of data, not of taste. Sibling examples stay in one fold, as in
    `eval tags`. Too few labelled applications (or free-form answers) keep the defaults."""
    settings = Settings()
    if len(set(sectors.groups)) >= MIN_TUNING_APPLICATIONS:
        t, share, l2 = _learn_sector(taxonomy.ids("sector"), sectors)
        settings = replace(settings, sector_threshold=t, sector_share=share, sector_l2=l2)
    free_apps = {g for g, f in zip(criteria.groups, criteria.free_form) if f}
    if (len(set(criteria.groups)) >= MIN_TUNING_APPLICATIONS and sum(criteria.free_form) >= MIN_TUNING_FREE_ANSWERS
            and len(free_apps) >= INNER_FOLDS):
        t, extra, share, l2 = _learn_criterion(taxonomy.ids("criterion"), rules, criteria)
        settings = replace(settings, criterion_threshold=t, criterion_extra_threshold=extra, criterion_share=share,
                           criterion_l2=l2)
    return settings


@dataclass(frozen=True)
class _PassageCall:
    """The criteria the tagger found for one free-text passage, with the window behind each."""

    scored: tuple[Scored, ...]
    windows: tuple[tuple[Sentence, ...], ...]
    best_window: dict[str, int]


class Tagger:
    """Tags applications: create it once per batch (the models load once), call it per application."""

    def __init__(self, models: TagModels | None, taxonomy: Taxonomy | None = None,
                 embedder: Embedder | None = None) -> None:
        self.models = models
        self.taxonomy = taxonomy or load_taxonomy()
        self.rules = Rules(self.taxonomy)
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    @classmethod
    def for_index(cls, index_root: Path, extra: TrainingSet | None = None,
                  gold_dir: Path = DEFAULT_GOLD_DIR, embedder: Embedder | None = None) -> "Tagger":
        """The tagger an ingest uses: trained on the gold labels plus `extra` (e.g. curators' labels),
        cached under `<index_root>/models/`. Without gold labels (an installation without the sample
        corpus) and without extra labels only the rules tag."""
        return cls.for_training(default_training(extra, gold_dir), index_root, embedder=embedder)

    @classmethod
    def for_training(cls, training: TrainingSet, index_root: Path, taxonomy: Taxonomy | None = None,
                     embedder: Embedder | None = None) -> "Tagger":
        """The tagger for a training set, its models cached under `<index_root>/models/` (rules alone without labels)."""
        tax = taxonomy or load_taxonomy()
        models = models_for(training, index_root / MODELS_FOLDER, tax) if training.examples else None
        return cls(models, tax, embedder)

    def __call__(self, app: Application) -> Application:
        return replace(app, examples=self.tag_examples(app.examples))

    def tag_examples(self, examples: Sequence[InnovationExample]) -> tuple[InnovationExample, ...]:
        """All examples of one application in one pass through the pipeline."""
        texts: list[str] = []
        for ex in examples:
            texts.append(ex.title)
            texts.extend(p.text for p in ex.passages)
        analysed = iter(analyse(texts))
        sector_vectors = self._sector_vectors(examples)
        out = []
        for i, ex in enumerate(examples):
            title = next(analysed)
            passages = [next(analysed) for _ in ex.passages]
            out.append(self._tag(ex, title, passages, sector_vectors[i] if sector_vectors else None))
        return tuple(out)

    def _sector_vectors(self, examples: Sequence[InnovationExample]) -> list[dict[str, float]] | None:
        """The embedding model's sector probabilities per example (None when the models have no such model)."""
        model = self.models.sector_vectors if self.models else None
        if model is None or not examples:
            return None
        x = example_vectors(self.embedder, [ex.title for ex in examples],
                            [[q for p in ex.passages for q in paragraphs(p.text)] for ex in examples])
        return model.predict(x)

    def tag_example(self, ex: InnovationExample) -> InnovationExample:
        return self.tag_examples([ex])[0]

    # -- per example ---------------------------------------------------------------------------------

    def _tag(self, ex: InnovationExample, title: Analysed, passages: list[Analysed],
             sector_vectors: dict[str, float] | None = None) -> InnovationExample:
        sentences = [s for a in (title, *passages) for s in a.sentences]
        lemmas = example_lemmas(title, passages)
        new_passages, criterion_tags = self._criteria(ex.passages, passages)
        staged = [a for p, a in zip(ex.passages, passages) if p.question in PHASE_QUESTIONS] or passages
        stage = [s for a in staged for s in a.sentences]
        tags = [*self._sectors(sentences, lemmas, sector_vectors), *criterion_tags,
                *self._phase(stage, [f for s in stage for f in s.all_lemmas])]
        return replace(ex, passages=new_passages, tags=tuple(tags))

    def _evidence(self, label: str, kind: str, sentences: Sequence[Sentence],
                  model: TextClassifier | None) -> tuple[str, ...]:
        """The sentences with most seed terms for the label; else the ones the classifier rates highest."""
        per = [self.rules.hits(s, kind).get(label, 0) for s in sentences]
        ranked = sorted((i for i, n in enumerate(per) if n), key=lambda i: (-per[i], i))
        if not ranked and model is not None and sentences:
            scores = model.predict([classifier_features(s.all_lemmas if kind != "sector" else s.features,
                                                        self.rules.hits(s, kind)) for s in sentences])
            ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i].get(label, 0.0), i))
        if not ranked:
            ranked = list(range(len(sentences)))
        return tuple(sentences[i].text for i in sorted(ranked[:EVIDENCE_SENTENCES]))

    def _example_scores(self, kind: str, sentences: Sequence[Sentence], lemmas: list[str],
                        vectors: dict[str, float] | None = None) -> list[Scored]:
        model = getattr(self.models, kind) if self.models else None
        hits = self.rules.hits_in(sentences, kind)
        probs = model.predict([classifier_features(lemmas, hits)])[0] if model else None
        share = self.models.settings.share(kind) if self.models else 0.0
        return sorted(combine(self.taxonomy.ids(kind), probs, hits, kind, vectors, share), key=lambda s: -s.confidence)

    def _sectors(self, sentences: Sequence[Sentence], lemmas: list[str],
                 vectors: dict[str, float] | None = None) -> list[Tag]:
        scored = self._example_scores("sector", sentences, lemmas, vectors)
        chosen = chosen_sectors(scored, self.models.sector_threshold if self.models else THRESHOLD)
        model = self.models.sector if self.models else None
        return [Tag("sector", s.label, s.confidence, s.source, self._evidence(s.label, "sector", sentences, model))
                for s in chosen]

    def _phase(self, sentences: Sequence[Sentence], lemmas: list[str]) -> list[Tag]:
        scored = self._example_scores("phase", sentences, lemmas)
        if not scored or (self.models is None and scored[0].confidence == 0):
            return []
        best = scored[0]
        model = self.models.phase if self.models else None
        return [Tag("phase", best.label, best.confidence, best.source,
                    self._evidence(best.label, "phase", sentences, model))]

    def _classify_passages(self, analysed: Sequence[Analysed], texts: Sequence[str | None]) -> list[_PassageCall]:
        """Criteria of free-text passages: each window of sentences scored (`best_windows`), a label's best
        window counts, with the embedding model's view of the whole passage mixed in (not for a text None:
        beyond EMBED_CHARS)."""
        labels = self.taxonomy.ids("criterion")
        model = self.models.criterion if self.models else None
        vec_model = self.models.criterion_vectors if self.models else None
        share = self.models.settings.criterion_share if self.models else 0.0
        vec_probs: list[dict[str, float] | None] = [None] * len(texts)
        read = [i for i, t in enumerate(texts) if t is not None]
        if vec_model is not None and read:
            for i, probs in zip(read, vec_model.predict(self.embedder.vectors([texts[i] or "" for i in read]))):
                vec_probs[i] = probs
        calls = []
        for (ws, best), vec in zip(best_windows(model, self.rules, labels, analysed), vec_probs):
            calls.append(_PassageCall(tuple(blended(best[lab][0], vec, share) for lab in labels if lab in best),
                                      ws, {lab: i for lab, (_, i) in best.items()}))
        return calls

    @staticmethod
    def _cover(out: list[Passage], calls: dict[int, _PassageCall],
               best: dict[str, tuple[float, str, tuple[Sentence, ...]]]) -> None:
        """A criterion the form asks of every example, found in no passage, goes to the free-text passage
        that speaks to it most, from CRITERION_FLOOR up: a municipality writing without the form still
        answers the jury's questions, only not where a threshold made for one passage at a time looks."""
        for lab in ASKED_CRITERIA:
            if lab in best:
                continue
            candidates = [(sc.confidence, i, sc) for i, call in calls.items() for sc in call.scored if sc.label == lab]
            if not candidates:
                continue
            conf, i, sc = max(candidates, key=lambda c: (c[0], -c[1]))
            if conf < CRITERION_FLOOR:
                continue
            out[i] = replace(out[i], criteria=tuple(sorted({*out[i].criteria, lab})))
            call = calls[i]
            best[lab] = (conf, sc.source, call.windows[call.best_window.get(lab, 0)] if call.windows else ())

    def _criteria(self, passages: Sequence[Passage],
                  analysed: Sequence[Analysed]) -> tuple[tuple[Passage, ...], list[Tag]]:
        """Criteria per passage (the form's question, else classified), then per example with evidence."""
        labels = self.taxonomy.ids("criterion")
        free = [i for i, p in enumerate(passages) if p.question not in FORM_CRITERIA and analysed[i].sentences]
        read = within_budget([p.text for p in passages])
        calls = dict(zip(free, self._classify_passages([analysed[i] for i in free],
                                                       [passages[i].text if i < read else None for i in free])))
        best: dict[str, tuple[float, str, tuple[Sentence, ...]]] = {}
        out = list(passages)
        for i, p in enumerate(passages):
            form = FORM_CRITERIA.get(p.question)
            if form is not None:  # the question names its criterion (tagging again gives the same)
                out[i] = replace(p, criteria=(form,))
                if form not in best or best[form][1] != "skjema":
                    best[form] = (1.0, "skjema", analysed[i].sentences)
                continue
            call = calls.get(i)
            if call is None:
                continue
            settings = self.models.settings if self.models else Settings()
            chosen = chosen_criteria(call.scored, settings.criterion_threshold, settings.criterion_extra_threshold)
            names = {s.label for s in chosen}
            out[i] = replace(p, criteria=tuple(lab for lab in labels if lab in names))
            for s in chosen:
                if s.label not in best or (best[s.label][1] != "skjema" and best[s.label][0] < s.confidence):
                    window = call.windows[call.best_window.get(s.label, 0)] if call.windows else ()
                    best[s.label] = (s.confidence, s.source, window)
        self._cover(out, calls, best)
        tags = []
        model = self.models.criterion if self.models else None
        for lab in labels:
            if lab not in best:
                continue
            conf, source, sents = best[lab]
            evidence = self._evidence(lab, "criterion", sents, None if source == "skjema" else model)
            tags.append(Tag("criterion", lab, conf, source, evidence))
        return tuple(out), tags
