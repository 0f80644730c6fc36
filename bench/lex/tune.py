#!/usr/bin/env python3
"""How Hearth's intent-scoring constants were chosen, reproducibly and without bench/lex's test
lines: the NumPy MiniLM pipeline of peer.py (same weights, same scoring as Hearth) scores

- the development lines of data.py (DEV + DEV2 in scope, DEV_OUT_OF_SCOPE + DEV2_OUT_OF_SCOPE
  out of scope) against the SNIPS-7 bot, and
- every SNIPS-7 sample utterance against the bot built from the other 69 (leave-one-out: an
  in-scope set written by the training lines' author),

for a grid of background weights (λ) and typical scores, and prints in-scope accuracy and
out-of-scope recall at Lex's default threshold 0.40 (and 0.35/0.45, to see how flat it is).
The rule: the most development out-of-scope recall at 0.40 with at most one in-scope line lost
to fallback in each in-scope set (marked *).

Usage: python bench/lex/tune.py [--models DIR]   (the peer's requirements; about 2 minutes)
"""

from __future__ import annotations

import argparse
import itertools
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import DEV, DEV2, DEV2_OUT_OF_SCOPE, DEV_OUT_OF_SCOPE, SNIPS7, background_sentences  # noqa: E402
from peer import MiniLM, blend, calibration, prune_background, raw_scores  # noqa: E402

WEIGHTS = [0.0, 0.5, 1.0, 1.5, 2.0]
TYPICALS = [0.6, 0.7, 0.75, 0.8, 0.85]


def best_of(vecs, q, mu, bg, typical, weight):
    """(intent, confidence) Hearth answers: the best raw score's intent and its confidence."""
    raw = raw_scores(vecs, q)
    best = max(raw, key=raw.get)
    return best, blend(vecs, q, mu, bg, typical=typical, weight=weight)[best]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=str(HERE.parents[1] / "target/test-models"))
    args = ap.parse_args()
    m = MiniLM(pathlib.Path(args.models) / "minilm-l6-v2")
    vecs = {k: np.stack([m.embed(u) for u in us]) for k, us in SNIPS7.items()}
    bg_all = np.stack([m.embed(u) for u in background_sentences()])
    dev_in = [(k, m.embed(u)) for k in SNIPS7 for u in DEV[k] + DEV2[k]]
    dev_out = [m.embed(u) for u in DEV_OUT_OF_SCOPE + DEV2_OUT_OF_SCOPE]
    # Leave-one-out bots: each sample against the other 69 (calibration and background pruned
    # for that bot, as a build of it would).
    loo = []
    for k in SNIPS7:
        for j in range(len(vecs[k])):
            v = dict(vecs)
            v[k] = np.delete(vecs[k], j, axis=0)
            mu = calibration(v)
            loo.append((k, vecs[k][j], v, mu))
    mu = calibration(vecs)
    print("λ    typical | leave-one-out: acc, acc@.40 | dev: acc, acc@.40 | dev OOS recall @.35 @.40 @.45")
    rows = []
    for weight, typical in itertools.product(WEIGHTS, TYPICALS):
        bg = prune_background(vecs, mu, bg_all, typical=typical)
        lo = []
        for k, q, v, mu_k in loo:
            b, c = best_of(v, q, mu_k, prune_background(v, mu_k, bg_all, typical=typical), typical, weight)
            lo.append((b == k, c))
        di = [best_of(vecs, q, mu, bg, typical, weight) + (k,) for k, q in dev_in]
        do = [best_of(vecs, q, mu, bg, typical, weight)[1] for q in dev_out]
        lo_acc, lo_40 = np.mean([ok for ok, _ in lo]), np.mean([ok and c >= 0.40 for ok, c in lo])
        d_acc, d_40 = np.mean([b == k for b, _, k in di]), np.mean([b == k and c >= 0.40 for b, c, k in di])
        rec = [np.mean([c < t for c in do]) for t in (0.35, 0.40, 0.45)]
        ok = (lo_acc - lo_40) * len(lo) <= 1 + 1e-9 and (d_acc - d_40) * len(di) <= 1 + 1e-9
        rows.append((ok, rec[1], weight, typical))
        print(f"{weight:.1f}  {typical:.2f}    | {lo_acc:.3f} {lo_40:.3f}                | {d_acc:.3f} {d_40:.3f}      | "
              f"{rec[0]:.2f} {rec[1]:.2f} {rec[2]:.2f} {'*' if ok else ''}")
    ok, rec, weight, typical = max(rows, key=lambda r: (r[0], r[1]))
    print(f"chosen: λ {weight}, typical {typical} (recall {rec:.2f} at 0.40)")


if __name__ == "__main__":
    main()
