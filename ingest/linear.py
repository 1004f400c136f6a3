"""One-vs-rest logistic regression over embedding vectors: small, exact and deterministic (numpy only).

Embedding dimensions are far from centred (two Norwegian paragraphs on anything have cosine ≈ 0.85),
so features are standardised with the training rows' mean and spread before an L2-penalised fit.
Newton's method converges in a few steps; with fewer rows than features (≈150 examples, 768 features)
each step solves the small n×n system instead (Woodbury), so a fit takes milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

ITERATIONS = 30
TOLERANCE = 1e-6


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _fit_one(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Weights and bias of one label (the bias is not penalised: it is fitted on centred features)."""
    n, d = x.shape
    w = np.zeros(d)
    prior = min(max(y.mean(), 1e-3), 1 - 1e-3)
    b = float(np.log(prior / (1 - prior)))
    for _ in range(ITERATIONS):
        p = _sigmoid(x @ w + b)
        s = np.maximum(p * (1 - p), 1e-9)
        # bias: its own Newton step (features are centred, so it barely couples with w)
        b -= float((p - y).sum() / s.sum())
        p = _sigmoid(x @ w + b)
        s = np.maximum(p * (1 - p), 1e-9)
        g = x.T @ (p - y) + l2 * w
        if n < d:  # (XᵀSX + λI)⁻¹ g = (g − Xᵀ (S⁻¹λ + XXᵀ)⁻¹ X g) / λ
            inner = np.diag(l2 / s) + x @ x.T
            step = (g - x.T @ np.linalg.solve(inner, x @ g)) / l2
        else:
            step = np.linalg.solve((x * s[:, None]).T @ x + l2 * np.eye(d), g)
        w -= step
        if float(np.abs(step).max()) < TOLERANCE:
            break
    return w, b


@dataclass(frozen=True)
class LinearModel:
    """Label probabilities from a vector: standardise, then one logistic regression per label."""

    labels: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # features × labels
    bias: np.ndarray  # labels

    @classmethod
    def fit(cls, labels: Sequence[str], x: np.ndarray, gold: Sequence[Sequence[str]], l2: float) -> "LinearModel":
        """Fit on rows `x` with their gold label lists; a label no row has gets a bias that says so."""
        x = np.asarray(x, dtype=np.float64)
        mean = x.mean(axis=0)
        scale = x.std(axis=0) + 1e-6
        z = (x - mean) / scale
        weights = np.zeros((x.shape[1], len(labels)))
        bias = np.zeros(len(labels))
        for j, lab in enumerate(labels):
            y = np.array([1.0 if lab in g else 0.0 for g in gold])
            weights[:, j], bias[j] = _fit_one(z, y, l2)
        return cls(tuple(labels), mean, scale, weights, bias)

    def predict(self, x: np.ndarray) -> list[dict[str, float]]:
        """label → probability, per row."""
        if len(x) == 0:
            return []
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        probs = _sigmoid(z @ self.weights + self.bias)
        return [{lab: float(row[j]) for j, lab in enumerate(self.labels)} for row in probs]

    def save(self, path: Path) -> None:
        np.savez(path, labels=np.array(self.labels), mean=self.mean, scale=self.scale, weights=self.weights,
                 bias=self.bias)

    @classmethod
    def load(cls, path: Path) -> "LinearModel":
        with np.load(path, allow_pickle=False) as data:
            return cls(tuple(str(s) for s in data["labels"]), data["mean"], data["scale"], data["weights"],
                       data["bias"])
