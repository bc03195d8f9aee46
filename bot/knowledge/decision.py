"""The decision to answer: more than one score, weighed by a small learned model.

From the best hits of a search it takes what says whether the first entry is
the one meant: how much of the question it covers, its lead over the runner-up,
the weight of the words it matched and of the words only a few entries use,
whether one of them is a topic word at all, how close the question comes to one
of the entry's example questions (and how much closer than to the runner-up's),
and the length of the question. A logistic model turns
them into the chance that the first entry is right; the bot answers above
``answer``, asks "Bedoel je ...?" above ``clarify`` and says it does not know
below. Weights and thresholds live in ``content/knowledge/decision.yaml``,
trained by ``alliantiebot content train`` on the development question set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.knowledge.index import Hit

FEATURES = (
    "coverage",
    "margin",
    "matched",
    "distinctive",
    "domain",
    "exact",
    "length",
    "score",
    "example",
    "lead",
)


def features(hits: list[Hit]) -> dict[str, float]:
    """The evidence for the first hit being the entry meant (zeros for no hits)."""
    if not hits:
        return dict.fromkeys(FEATURES, 0.0)
    best = hits[0]
    second = hits[1].score if len(hits) > 1 else 0.0
    return {
        "coverage": best.coverage,
        "margin": (best.score - second) / best.score if best.score > 0 else 0.0,
        "matched": math.log1p(best.matched),
        "distinctive": math.log1p(best.distinctive),
        "domain": float(best.domain),
        "exact": float(best.exact),
        "length": math.log1p(best.terms),
        "score": math.log1p(best.score),
        "example": best.example,
        "lead": best.example - (hits[1].example if len(hits) > 1 else 0.0),
    }


@dataclass(frozen=True)
class Decision:
    weights: dict[str, float]
    bias: float
    answer: float
    clarify: float

    @classmethod
    def load(cls, path: Path) -> Decision:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        weights = {str(k): float(v) for k, v in (raw.get("weights") or {}).items()}
        unknown = set(weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"{path.name}: unknown features {sorted(unknown)}")
        return cls(weights, float(raw["bias"]), float(raw["answer"]), float(raw["clarify"]))

    def probability(self, hits: list[Hit]) -> float:
        """The chance that the first hit is the entry the question is about."""
        if not hits:
            return 0.0
        values = features(hits)
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in values.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
