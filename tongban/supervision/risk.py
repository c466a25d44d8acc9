"""Risk warnings (风险预警): features of an entity, a logistic-regression model trained on synthetic data with a known
signal, and its held-out ROC AUC. Pure functions (no database); ``services.scan_risks`` applies them.

Features (``FEATURES``): counts of failed post-checks, upheld complaints, inspection findings and penalties, the
entity's age in years, and whether its industry is catering (H) or entertainment (R). The synthetic generator draws
them like the demo register does and labels an entity "later found in violation" with probability
``sigmoid(TRUE_INTERCEPT + TRUE_WEIGHTS · x)``, so the model has a real, known signal to learn and the AUC means
something. The trained model is stored as plain JSON (weights, intercept, AUC), never pickled.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FEATURES = ["post_check_failures", "complaints", "inspection_findings", "penalties", "age_years", "risky_industry"]
FEATURE_NAMES = {"post_check_failures": "事后核查不通过", "complaints": "投诉查实", "inspection_findings": "抽查发现问题",
                 "penalties": "行政处罚", "age_years": "成立年限", "risky_industry": "餐饮/娱乐行业"}
TRUE_INTERCEPT = -2.6
TRUE_WEIGHTS = [1.4, 0.7, 1.1, 0.6, -0.12, 0.8]
RISKY_INDUSTRIES = ("H", "R")
DEFAULT_THRESHOLD = 0.5


@dataclass
class Model:
    weights: list[float]
    intercept: float
    auc: float
    train_size: int
    test_size: int
    seed: int
    features: list[str]

    def probability(self, x: Sequence[float]) -> float:
        z = self.intercept + sum(w * v for w, v in zip(self.weights, x, strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def explain(self, x: Sequence[float]) -> list[str]:
        """The features that push the score up most, in Chinese, for the warning's text."""
        parts = sorted(((w * v, name) for w, v, name in zip(self.weights, x, self.features, strict=True)), reverse=True)
        return [f"{FEATURE_NAMES[name]}（{c:+.2f}）" for c, name in parts if c > 0.05][:3]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Model | None:
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None


def _poisson(rng: random.Random, lam: float) -> int:
    k, p, threshold = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def synthetic(n: int, seed: int = 20261205) -> tuple[list[list[float]], list[int]]:
    """``n`` synthetic entities with the known signal (see the module docstring)."""
    rng = random.Random(seed)
    xs, ys = [], []
    for _ in range(n):
        x = [float(_poisson(rng, 0.15)), float(_poisson(rng, 0.4)), float(_poisson(rng, 0.25)),
             float(_poisson(rng, 0.3)), round(rng.uniform(0, 18), 1), float(rng.random() < 0.3)]
        z = TRUE_INTERCEPT + sum(w * v for w, v in zip(TRUE_WEIGHTS, x, strict=True))
        xs.append(x)
        ys.append(int(rng.random() < 1.0 / (1.0 + math.exp(-z))))
    return xs, ys


def train(n: int = 20000, seed: int = 20261205, test_share: float = 0.25) -> Model:
    """Fit a logistic regression (scikit-learn) on ``1 - test_share`` of ``n`` synthetic entities; the ROC AUC is
    measured on the held-out rest."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    xs, ys = synthetic(n, seed)
    x_train, x_test, y_train, y_test = train_test_split(xs, ys, test_size=test_share, random_state=seed, stratify=ys)
    clf = LogisticRegression(max_iter=1000)
    clf.fit(x_train, y_train)
    auc = float(roc_auc_score(y_test, clf.predict_proba(x_test)[:, 1]))
    return Model(weights=[float(w) for w in clf.coef_[0]], intercept=float(clf.intercept_[0]), auc=round(auc, 4),
                 train_size=len(x_train), test_size=len(x_test), seed=seed, features=list(FEATURES))


def vector(counts: dict[str, Any]) -> list[float]:
    return [float(counts.get(name) or 0) for name in FEATURES]
