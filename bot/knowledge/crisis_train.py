"""``alliantiebot content train-crisis``: train the crisis classifier from its corpus.

The corpus is ``content/safety/corpus_*.yaml`` (``crisis`` and ``not_crisis``
messages, written for training only) plus every example question of the
knowledge entries as ordinary messages. Training needs scikit-learn (a dev
dependency); the result is ``content/safety/crisis_model.npz``, applied at run
time by :mod:`bot.knowledge.crisis_model` with numpy alone.

The lexicon comes first; the model is there for wordings the lexicon lacks. Its
threshold is chosen for recall within a false-alarm budget: the lowest threshold
at which, in 5-fold cross-validation, the model adds false alarms on at most
``FALSE_ALARM_BUDGET`` of the corpus' hard negatives (its ``not_crisis``
messages, written to look like a crisis) to those of the lexicon.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.knowledge.content import load_knowledge
from bot.knowledge.crisis_model import BUCKETS, CrisisModel, features, vector
from bot.knowledge.safety import MODEL_FILE, Safety

FALSE_ALARM_BUDGET = 0.03
REGULARISATION = 16.0


@dataclass
class TrainReport:
    crisis: int
    ordinary: int
    threshold: float
    cv_recall: float
    cv_false_alarms: float


def corpus(content: Path) -> tuple[list[str], list[int]]:
    """Messages and labels: 1 crisis, 0 a hard negative, -1 an ordinary question
    (a knowledge entry's example: trained as not a crisis, not counted as hard)."""
    texts: list[str] = []
    labels: list[int] = []
    for path in sorted((content / "safety").glob("corpus_*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for label, key in ((1, "crisis"), (0, "not_crisis")):
            items = [str(t) for t in raw.get(key, [])]
            texts += items
            labels += [label] * len(items)
    for entry in load_knowledge(content).entries:
        for language in ("nl", "en"):
            questions = entry.text(language)[1]
            texts += questions
            labels += [-1] * len(questions)
    return texts, labels


def _matrix(lines: list[str]) -> Any:
    from scipy.sparse import csr_matrix

    rows, cols, values = [], [], []
    for row, line in enumerate(lines):
        index, weight = vector(features(line))
        rows += [row] * len(index)
        cols += index.tolist()
        values += weight.tolist()
    return csr_matrix((values, (rows, cols)), shape=(len(lines), BUCKETS))


def _fit(matrix: Any, labels: np.ndarray[Any, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(
        C=REGULARISATION, class_weight="balanced", solver="liblinear", max_iter=1000
    )
    return model.fit(matrix, labels)


def train(content: Path) -> TrainReport:
    from sklearn.model_selection import StratifiedKFold

    safety = Safety.load(content)
    safety.model = None
    texts, raw_labels = corpus(content)
    lines = [safety.normalizer.normalize(t) for t in texts]
    kinds = np.array(raw_labels)
    labels = (kinds == 1).astype(int)
    matrix = _matrix(lines)
    scores = np.zeros(len(lines))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=7)
    for train_rows, test_rows in folds.split(matrix, kinds):
        fitted = _fit(matrix[train_rows], labels[train_rows])
        scores[test_rows] = fitted.predict_proba(matrix[test_rows])[:, 1]
    lexicon = np.array([safety.is_crisis(t) for t in texts])
    open_to_model = np.array([safety.lexicon.open_to_model(line) for line in lines])
    base = float(lexicon[kinds == 0].mean())
    threshold, recall, false_alarms = 1.0, float(lexicon[kinds == 1].mean()), base
    for candidate in np.arange(0.99, 0.49, -0.01):
        alarm = lexicon | ((scores >= candidate) & open_to_model)
        rate = float(alarm[kinds == 0].mean())
        if rate - base > FALSE_ALARM_BUDGET:
            break
        threshold, recall, false_alarms = float(candidate), float(alarm[kinds == 1].mean()), rate
    fitted = _fit(matrix, labels)
    model = CrisisModel(fitted.coef_[0].astype(np.float32), float(fitted.intercept_[0]), threshold)
    model.save(content / MODEL_FILE)
    return TrainReport(int(labels.sum()), int((kinds == 0).sum()), threshold, recall, false_alarms)
