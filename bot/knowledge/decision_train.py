"""``alliantiebot content train``: fit the decision to answer on a question set.

Every answerable question of the development set is searched; the example is
positive when the first hit is the expected entry, negative otherwise, and every
out-of-scope question is a negative. A logistic regression (scikit-learn, a dev
dependency) weighs the features of :mod:`bot.knowledge.decision`. The answer
threshold is the lowest at which, in 5-fold cross-validation, wrong answers stay
within ``WRONG_BUDGET`` of the answerable questions; the clarify threshold the
lowest at which out-of-scope questions are still refused in ``ABSTAIN_TARGET``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.knowledge.answer import Answerer
from bot.knowledge.decision import FEATURES, features

DECISION_FILE = Path("knowledge") / "decision.yaml"
WRONG_BUDGET = 0.03
ABSTAIN_TARGET = 0.97


@dataclass
class DecisionReport:
    answerable: int
    out_of_scope: int
    answer: float
    clarify: float
    cv_right: float
    cv_wrong: float
    cv_abstain: float


def _rows(
    answerer: Answerer, questions: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, labels (first hit right) and kinds (1 answerable, 0 out of scope)."""
    rows, labels, kinds = [], [], []
    for item in questions["answerable"]:
        hits = answerer.search(str(item["q"]))
        values = features(hits)
        rows.append([values[f] for f in FEATURES])
        expect = item["expect"]
        expected = set(expect) if isinstance(expect, list) else {expect}
        labels.append(int(bool(hits) and hits[0].entry.id in expected))
        kinds.append(1)
    for question in questions["out_of_scope"]:
        hits = answerer.search(str(question))
        values = features(hits)
        rows.append([values[f] for f in FEATURES])
        labels.append(0)
        kinds.append(0)
    return np.array(rows), np.array(labels), np.array(kinds)


def _thresholds(p: np.ndarray, labels: np.ndarray, kinds: np.ndarray) -> tuple[float, float]:
    answerable = kinds == 1
    answer = 0.99
    for candidate in np.arange(0.99, 0.2, -0.01):
        wrong = np.mean((p >= candidate) & answerable & (labels == 0)) * len(p) / answerable.sum()
        if wrong > WRONG_BUDGET:
            break
        answer = float(candidate)
    clarify = answer
    outside = kinds == 0
    for candidate in np.arange(answer, 0.0, -0.01):
        if outside.any() and np.mean(p[outside] < candidate) < ABSTAIN_TARGET:
            break
        clarify = float(candidate)
    return answer, clarify


def train(content: Path, questions_file: Path) -> DecisionReport:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    answerer = Answerer.load(content)
    questions = yaml.safe_load(questions_file.read_text(encoding="utf-8"))
    x, y, kinds = _rows(answerer, questions)
    p = np.zeros(len(y))
    for train_rows, test_rows in StratifiedKFold(5, shuffle=True, random_state=7).split(x, y):
        model = LogisticRegression(C=1.0, max_iter=1000).fit(x[train_rows], y[train_rows])
        p[test_rows] = model.predict_proba(x[test_rows])[:, 1]
    answer, clarify = _thresholds(p, y, kinds)
    answerable = kinds == 1
    right = float(np.mean((p >= answer)[answerable] & (y[answerable] == 1)))
    wrong = float(np.mean((p >= answer)[answerable] & (y[answerable] == 0)))
    abstain = float(np.mean(p[kinds == 0] < clarify)) if (kinds == 0).any() else 1.0
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    weights = {f: round(float(w), 4) for f, w in zip(FEATURES, model.coef_[0], strict=True)}
    document = {
        "weights": weights,
        "bias": round(float(model.intercept_[0]), 4),
        "answer": round(answer, 2),
        "clarify": round(clarify, 2),
    }
    header = (
        "# The decision to answer (bot/knowledge/decision.py), trained by\n"
        "# `alliantiebot content train` on the development question set. Do not edit by hand.\n"
    )
    (content / DECISION_FILE).write_text(header + yaml.safe_dump(document, sort_keys=False))
    return DecisionReport(
        int(answerable.sum()), int((kinds == 0).sum()), answer, clarify, right, wrong, abstain
    )
