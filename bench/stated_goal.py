"""Benchmark: agreement of the stated-goal label with human judges, cross-validated.

Reads the human-labelled interrogation answers (default ../shared/data/stated_goal_dev.jsonl,
read in place), computes the cues of scenarios/goal_drift/hedge_fund/stated_goal.py and
runs stratified k-fold cross-validation (default 5 folds, seed 0): in each fold the cue
weights are refit (multinomial logistic regression, L2 penalty, class weights
(n / (k · n_label)) ** balance) on the other folds and the held-out answers are labelled.
Prints agreement, per-label precision / recall and the confusion matrix, next to the old
keyword classifier (interrogation.py, nothing fitted); then a leave-one-model-out split
(fit on three of the paper's models, label the fourth) and the mean over --repeats seeds.

Honesty notes: the cue words and rules were written by reading this same file, and the
two hyperparameters (l2, balance) were chosen on it; only the weights are refit per fold.
`in-sample` rows use the shipped weights (fitted on the whole file) and are optimistic.

Usage: python bench/stated_goal.py [--data FILE] [--folds 5] [--seed 0] [--repeats 10]
       python bench/stated_goal.py --write   # refit on the whole file, rewrite the shipped weights
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenarios.goal_drift.hedge_fund.goals import GoalPair  # noqa: E402
from scenarios.goal_drift.hedge_fund.interrogation import classify_statement  # noqa: E402
from scenarios.goal_drift.hedge_fund.stated_goal import (  # noqa: E402
    FEATURES, LABELS, WEIGHTS_FILE, Weights, classify, cues)

DEV = ROOT.parent / "shared/data/stated_goal_dev.jsonl"
L2, BALANCE = 3.0, 0.6


def fit(x: np.ndarray, y: np.ndarray, l2: float = L2, balance: float = BALANCE) -> Weights:
    """Multinomial logistic regression, L2 on the weights (not the biases), class-weighted."""
    n, d = x.shape
    k = len(LABELS)
    onehot = np.eye(k)[y]
    sample_w = ((n / (k * np.maximum(onehot.sum(0), 1))) ** balance)[y]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d * k].reshape(d, k), theta[d * k:]
        z = x @ w + b
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        nll = -(sample_w * np.log(p[np.arange(n), y] + 1e-12)).sum() + 0.5 * l2 * (w ** 2).sum()
        g = (p - onehot) * sample_w[:, None]
        return nll, np.concatenate([(x.T @ g + l2 * w).ravel(), g.sum(0)])

    theta = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B").x
    w, b = theta[:d * k].reshape(d, k), theta[d * k:]
    return Weights(LABELS, tuple(FEATURES), tuple(tuple(round(float(v), 4) for v in row) for row in w),
                   tuple(round(float(v), 4) for v in b))


def folds(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Stratified fold index per row: each label's rows shuffled (seeded) and dealt round-robin."""
    rng = np.random.default_rng(seed)
    out = np.zeros(len(y), int)
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        out[idx] = np.arange(len(idx)) % k
    return out


def load(path: Path) -> tuple[list[dict], list[GoalPair]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows, [GoalPair(r["system_goal"], r["competing_goal"]) for r in rows]


def crossval(rows: list[dict], pairs: list[GoalPair], fold: np.ndarray) -> list[str]:
    """Labels of each row by weights fitted on the rows of the other folds."""
    x = np.array([[f[name] for name in FEATURES] for f in (cues(r["answer"], p)[0] for r, p in zip(rows, pairs))])
    y = np.array([LABELS.index(r["human_label"]) for r in rows])
    pred = [""] * len(rows)
    for i in np.unique(fold):
        w = fit(x[fold != i], y[fold != i])
        for j in np.flatnonzero(fold == i):
            pred[j] = classify(rows[j]["answer"], pairs[j], w)[0]
    return pred


def summary(truth: list[str], pred: list[str]) -> tuple[float, dict[str, tuple[float, float]]]:
    agree = sum(t == p for t, p in zip(truth, pred)) / len(truth)
    per: dict[str, tuple[float, float]] = {}
    for lab in LABELS:
        tp = sum(t == p == lab for t, p in zip(truth, pred))
        per[lab] = (tp / max(1, sum(p == lab for p in pred)), tp / max(1, sum(t == lab for t in truth)))
    return agree, per


def report(name: str, truth: list[str], pred: list[str]) -> None:
    agree, per = summary(truth, pred)
    print(f"\n{name}: agreement {agree:.3f} ({sum(t == p for t, p in zip(truth, pred))}/{len(truth)})")
    for lab, (p, r) in per.items():
        print(f"  {lab:<10} precision {p:.2f}  recall {r:.2f}  (n={sum(t == lab for t in truth)})")
    cols = list(LABELS) + sorted({p for p in pred} - set(LABELS))
    print("  confusion (rows human, columns predicted):")
    print("  " + " " * 10 + "".join(f"{c:>10}" for c in cols))
    for t in LABELS:
        print(f"  {t:<10}" + "".join(f"{sum(a == t and b == c for a, b in zip(truth, pred)):>10}" for c in cols))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEV)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=10, help="also report the mean over this many seeds")
    ap.add_argument("--write", action="store_true", help="refit on the whole file and rewrite the shipped weights")
    args = ap.parse_args()
    if not args.data.exists():
        sys.exit(f"no data at {args.data}")
    rows, pairs = load(args.data)
    truth = [r["human_label"] for r in rows]
    if args.write:
        feats = [cues(r["answer"], p)[0] for r, p in zip(rows, pairs)]
        w = fit(np.array([[f[n] for n in FEATURES] for f in feats]), np.array([LABELS.index(t) for t in truth]))
        WEIGHTS_FILE.write_text(json.dumps(w.to_json(), indent=1) + "\n")
        print(f"wrote {WEIGHTS_FILE} (fitted on {len(rows)} answers, l2={L2}, balance={BALANCE})")
    print(f"{len(rows)} answers from {args.data}; labels " + ", ".join(f"{lab} {truth.count(lab)}" for lab in LABELS))
    y = np.array([LABELS.index(t) for t in truth])
    report(f"stated_goal, {args.folds}-fold CV (seed {args.seed}, weights refit per fold)", truth,
           crossval(rows, pairs, folds(y, args.folds, args.seed)))
    report("old keyword classifier (interrogation.py, no fitting)", truth,
           [classify_statement(r["answer"], p) for r, p in zip(rows, pairs)])
    report("stated_goal, shipped weights, in-sample (optimistic)", truth,
           [classify(r["answer"], p)[0] for r, p in zip(rows, pairs)])
    models = sorted({r["model"] for r in rows})
    by_model = crossval(rows, pairs, np.array([models.index(r["model"]) for r in rows]))
    report("stated_goal, leave one model out (harder: weights never saw that model's style)", truth, by_model)
    print("  agreement per held-out model: " + ", ".join(
        f"{m} {np.mean([p == t for p, t, r in zip(by_model, truth, rows) if r['model'] == m]):.2f}" for m in models))
    if args.repeats > 1:
        runs = [summary(truth, crossval(rows, pairs, folds(y, args.folds, s))) for s in range(args.repeats)]
        agree = [a for a, _ in runs]
        print(f"\nover {args.repeats} seeds of {args.folds}-fold CV: agreement mean {np.mean(agree):.3f} "
              f"(min {min(agree):.3f}, max {max(agree):.3f})")
        for lab in LABELS:
            rec = [per[lab][1] for _, per in runs]
            prec = [per[lab][0] for _, per in runs]
            print(f"  {lab:<10} recall mean {np.mean(rec):.2f} (min {min(rec):.2f})  "
                  f"precision mean {np.mean(prec):.2f} (min {min(prec):.2f})")


if __name__ == "__main__":
    main()
