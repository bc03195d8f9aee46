"""A small learned crisis classifier, next to the lexicon, for wordings it lacks.

A logistic regression over hashed character n-grams (3 to 5 letters, within
words and across word boundaries) and word pairs of the normalised text
(:mod:`bot.knowledge.chattext`). The weights are trained with scikit-learn by
``alliantiebot content train-crisis`` on ``content/safety/corpus_*.yaml`` and
shipped as ``content/safety/crisis_model.npz``; here they are only applied,
with numpy and a stable hash, so scikit-learn is not needed at run time and the
model loads in milliseconds.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

BUCKETS = 1 << 18
NGRAMS = (3, 4, 5)


def features(line: str) -> Counter[int]:
    """Hashed feature counts of a normalised line (see ``ChatNormalizer``)."""
    words = [w for w in line.split() if w != "|"]
    counts: Counter[int] = Counter()
    padded = " " + " ".join(words) + " "
    for n in NGRAMS:
        for i in range(len(padded) - n + 1):
            counts[zlib.crc32(padded[i : i + n].encode()) % BUCKETS] += 1
    for first, second in itertools.pairwise(words):
        counts[zlib.crc32(f"w:{first} {second}".encode()) % BUCKETS] += 1
    for word in words:
        counts[zlib.crc32(f"w:{word}".encode()) % BUCKETS] += 1
    return counts


def vector(counts: Counter[int]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Indices and l2-normalised, sublinear (1 + log) values of the features."""
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    values = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
    return index, values / float(np.linalg.norm(values))


@dataclass(frozen=True)
class CrisisModel:
    weights: npt.NDArray[np.float32]
    bias: float
    threshold: float

    @classmethod
    def load(cls, path: Path) -> CrisisModel | None:
        if not path.exists():
            return None
        with np.load(path) as data:
            weights = data["weights"].astype(np.float32)
            if weights.shape != (BUCKETS,):
                raise ValueError(f"{path.name}: expected {BUCKETS} weights, got {weights.shape}")
            return cls(weights, float(data["bias"]), float(data["threshold"]))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            np.savez_compressed(
                handle, weights=self.weights, bias=self.bias, threshold=self.threshold
            )

    def probability(self, line: str) -> float:
        index, values = vector(features(line))
        if index.size == 0:
            return 0.0
        score = float(values @ self.weights[index]) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, score))))

    def fires(self, line: str, threshold: float | None = None) -> bool:
        return self.probability(line) >= (self.threshold if threshold is None else threshold)
