"""Benchmark: agreement of the stated-goal label with human judges, cross-validated.

Reads the human-labelled interrogation answers (default ../shared/data/stated_goal_dev.jsonl,
read in place), computes the cues of scenarios/goal_drift/hedge_fund/stated_goal.py and
runs stratified k-fold cross-validation (default 5 folds, seed 0). The fitting procedure is
multinomial logistic regression with an L2 penalty and class weights
(n / (k · n_label)) ** balance; its two hyperparameters (l2, balance) are chosen from a small
grid by an inner stratified k-fold on the training part only, repeated with 3 seeds (best
mean balanced accuracy, i.e. mean per-label recall; ties: agreement, then the stronger
penalty, then the weaker class weighting). So in each outer fold both the hyperparameters
and the weights are chosen without the held-out answers, and the reported labels are
out-of-fold. Prints agreement and per-label recall (Wilson 95% intervals), precision and
the confusion matrix, next to the old keyword classifier (interrogation.py, nothing
fitted); then a leave-one-model-out split (fit on three of the paper's models, label the
fourth) and the spread over --repeats seeds. `tests/test_stated_goal.py` asserts the
out-of-fold agreement (>= 0.80) and each label's recall (>= 0.60) of the default split.

Honesty notes: the cue words and rules were written by reading this same file (the
competing-goal cues too: written while reading the answers cross-validation got wrong), and
the grids and the selection criterion were set on it; only the hyperparameters and the
weights are refit per fold. The held-out answers of each fold shaped the cues, so out-of-fold
agreement is an upper estimate for answers written in another style (the leave-one-model-out
row shows how much lower it can go). The `in-sample`
row uses the shipped weights (fitted on the whole file) and is optimistic.

Usage: python bench/stated_goal.py [--data FILE] [--folds 5] [--seed 0] [--repeats 10]
       python bench/stated_goal.py --write   # choose (l2, balance) by CV on the whole file, refit, rewrite
                                             # the shipped weights
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # thousands of tiny fits: BLAS threads would only spin (set before numpy loads)

import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_drift.report.stats import wilson  # noqa: E402
from scenarios.goal_drift.hedge_fund.goals import GoalPair  # noqa: E402
from scenarios.goal_drift.hedge_fund.interrogation import classify_statement  # noqa: E402
from scenarios.goal_drift.hedge_fund.stated_goal import (  # noqa: E402
    FEATURES, LABELS, WEIGHTS_FILE, Weights, classify, cues)

DEV = ROOT.parent / "shared/data/stated_goal_dev.jsonl"
FOLDS, SEED = 5, 0
L2_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
BALANCE_GRID = (0.5, 0.75, 1.0)
INNER_REPEATS = 3
RULED = (*LABELS, "unclear", "none")  # labels classify() can give without the weights


def fit(x: np.ndarray, y: np.ndarray, l2: float, balance: float) -> Weights:
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


def design(rows: list[dict], pairs: list[GoalPair]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cue matrix, human label index, ruled label index or -1): `ruled` is the label classify() gives
    without the weights (no goal named outside phase 1: original or unclear), -1 where the weights decide."""
    feats = [cues(r["answer"], p)[0] for r, p in zip(rows, pairs)]
    x = np.array([[f[name] for name in FEATURES] for f in feats])
    y = np.array([LABELS.index(r["human_label"]) for r in rows])
    ruled = np.array([-1 if any(f[h] for h in FEATURES if h.startswith("head_"))
                      else RULED.index(classify(r["answer"], p)[0]) for f, r, p in zip(feats, rows, pairs)])
    return x, y, ruled


def predict(w: Weights, x: np.ndarray, ruled: np.ndarray) -> np.ndarray:
    """classify() on cue rows: the highest score (first label on a tie), or the ruled label."""
    return np.where(ruled >= 0, ruled, np.argmax(x @ np.array(w.coef) + np.array(w.bias), 1))


def balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean([np.mean(pred[y == k] == k) for k in np.unique(y)]))


def choose(x: np.ndarray, y: np.ndarray, ruled: np.ndarray, k: int = FOLDS, seed: int = SEED,
           repeats: int = INNER_REPEATS) -> tuple[float, float]:
    """(l2, balance) from the grid by stratified k-fold CV over these rows only, repeated with `repeats` seeds
    (one k-fold split is too noisy to rank the grid): the best mean balanced accuracy of the out-of-fold labels;
    ties: agreement, then the stronger penalty, then the weaker class weighting."""
    splits = [folds(y, k, seed + r) for r in range(repeats)]
    best: tuple[tuple[float, ...], float, float] | None = None
    for l2, balance in itertools.product(L2_GRID, BALANCE_GRID):
        bacc = agree = 0.0
        for fold in splits:
            pred = np.zeros(len(y), int)
            for i in range(k):
                w = fit(x[fold != i], y[fold != i], l2, balance)
                pred[fold == i] = predict(w, x[fold == i], ruled[fold == i])
            bacc, agree = bacc + balanced_accuracy(y, pred), agree + float(np.mean(pred == y))
        key = (round(bacc / repeats, 9), round(agree / repeats, 9), l2, -balance)
        if best is None or key > best[0]:
            best = (key, l2, balance)
    assert best is not None
    return best[1], best[2]


def crossval(rows: list[dict], pairs: list[GoalPair], fold: np.ndarray,
             seed: int = SEED) -> tuple[list[str], list[tuple[float, float]]]:
    """Out-of-fold labels: for each fold, (l2, balance) chosen by an inner CV of the other folds, weights fitted
    on the other folds, its rows labelled by classify(). Also the (l2, balance) chosen per fold."""
    x, y, ruled = design(rows, pairs)
    pred = [""] * len(rows)
    chosen = []
    for i in np.unique(fold):
        train = fold != i
        l2, balance = choose(x[train], y[train], ruled[train], seed=seed)
        chosen.append((l2, balance))
        w = fit(x[train], y[train], l2, balance)
        for j in np.flatnonzero(~train):
            pred[j] = classify(rows[j]["answer"], pairs[j], w)[0]
    return pred, chosen


def out_of_fold(rows: list[dict], pairs: list[GoalPair], k: int = FOLDS, seed: int = SEED) -> list[str]:
    """The k-fold stratified out-of-fold labels (the test's and the benchmark's headline)."""
    y = np.array([LABELS.index(r["human_label"]) for r in rows])
    return crossval(rows, pairs, folds(y, k, seed), seed)[0]


def whole_file_fit(rows: list[dict], pairs: list[GoalPair], seed: int = SEED) -> tuple[Weights, float, float]:
    """The shipped weights: (l2, balance) chosen by k-fold CV on all rows, then fitted on all rows."""
    x, y, ruled = design(rows, pairs)
    l2, balance = choose(x, y, ruled, seed=seed)
    return fit(x, y, l2, balance), l2, balance


def summary(truth: list[str], pred: list[str]) -> tuple[float, dict[str, tuple[float, float]]]:
    agree = sum(t == p for t, p in zip(truth, pred)) / len(truth)
    per: dict[str, tuple[float, float]] = {}
    for lab in LABELS:
        tp = sum(t == p == lab for t, p in zip(truth, pred))
        per[lab] = (tp / max(1, sum(p == lab for p in pred)), tp / max(1, sum(t == lab for t in truth)))
    return agree, per


def recall_lines(truth: list[str], pred: list[str]) -> list[str]:
    """Agreement and each label's recall, with Wilson 95% intervals and counts."""
    hits = sum(t == p for t, p in zip(truth, pred))
    _, lo, hi = wilson(hits, len(truth))
    out = [f"agreement {hits / len(truth):.3f} [{lo:.2f}, {hi:.2f}] ({hits}/{len(truth)})"]
    for lab in LABELS:
        n = sum(t == lab for t in truth)
        tp = sum(t == p == lab for t, p in zip(truth, pred))
        r, lo, hi = wilson(tp, n)
        out.append(f"{lab:<10} recall {r:.2f} [{lo:.2f}, {hi:.2f}] ({tp}/{n})")
    return out


def report(name: str, truth: list[str], pred: list[str]) -> None:
    _, per = summary(truth, pred)
    head, *recalls = recall_lines(truth, pred)
    print(f"\n{name}: {head}")
    for lab, line in zip(LABELS, recalls):
        print(f"  {line}  precision {per[lab][0]:.2f}")
    cols = list(LABELS) + sorted(set(pred) - set(LABELS))
    print("  confusion (rows human, columns predicted):")
    print("  " + " " * 10 + "".join(f"{c:>10}" for c in cols))
    for t in LABELS:
        print(f"  {t:<10}" + "".join(f"{sum(a == t and b == c for a, b in zip(truth, pred)):>10}" for c in cols))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEV)
    ap.add_argument("--folds", type=int, default=FOLDS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--repeats", type=int, default=10, help="also report the spread over this many seeds")
    ap.add_argument("--write", action="store_true", help="refit on the whole file and rewrite the shipped weights")
    args = ap.parse_args()
    if not args.data.exists():
        sys.exit(f"no data at {args.data}")
    rows, pairs = load(args.data)
    truth = [r["human_label"] for r in rows]
    if args.write:
        w, l2, balance = whole_file_fit(rows, pairs)
        fitted = {"answers": len(rows), "l2": l2, "balance": balance,
                  "chosen_by": f"{FOLDS}-fold stratified CV x {INNER_REPEATS} seeds (from {SEED}), "
                               "best balanced accuracy"}
        WEIGHTS_FILE.write_text(json.dumps({**w.to_json(), "fit": fitted}, indent=1) + "\n")
        print(f"wrote {WEIGHTS_FILE} (fitted on {len(rows)} answers, l2={l2}, balance={balance})")
    print(f"{len(rows)} answers from {args.data}; labels " + ", ".join(f"{lab} {truth.count(lab)}" for lab in LABELS))
    y = np.array([LABELS.index(t) for t in truth])
    pred, chosen = crossval(rows, pairs, folds(y, args.folds, args.seed), args.seed)
    report(f"stated_goal, {args.folds}-fold CV (seed {args.seed}; l2, balance and weights chosen per fold: "
           + ", ".join(f"{l2:g}/{b:g}" for l2, b in chosen) + ")", truth, pred)
    report("old keyword classifier (interrogation.py, no fitting)", truth,
           [classify_statement(r["answer"], p) for r, p in zip(rows, pairs)])
    report("stated_goal, shipped weights, in-sample (optimistic)", truth,
           [classify(r["answer"], p)[0] for r, p in zip(rows, pairs)])
    models = sorted({r["model"] for r in rows})
    by_model, _ = crossval(rows, pairs, np.array([models.index(r["model"]) for r in rows]), args.seed)
    report("stated_goal, leave one model out (harder: weights never saw that model's style)", truth, by_model)
    print("  agreement per held-out model: " + ", ".join(
        f"{m} {np.mean([p == t for p, t, r in zip(by_model, truth, rows) if r['model'] == m]):.2f}" for m in models))
    if args.repeats > 1:
        runs = [summary(truth, crossval(rows, pairs, folds(y, args.folds, s), s)[0]) for s in range(args.repeats)]
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
