#!/usr/bin/env python3
"""The peers of bench/lex, run in their own process (their Python may be a venv):

- `minilm`: the same all-MiniLM-L6-v2 weights Hearth uses (read from the model cache directory),
  run by a NumPy implementation of the BERT forward pass with the Hugging Face `tokenizers`
  package, mean pooling and L2 norm — what sentence-transformers computes — and Hearth's
  scoring: nearest-centroid intent scores blended with the nearest sample, lowered when the
  query is nearer to its two nearest out-of-domain background lines (those the bot's intents do
  not claim) than to the intent, and calibrated by the best intent's mean leave-one-out score.
  sentence-transformers itself
  needs torch (a 500+ MB wheel with CUDA libraries), so this is the Python pipeline of the same
  model that installs here.
- `tfidf`: scikit-learn TF-IDF (word 1-2-grams) with nearest-centroid cosine, the classic keyword
  baseline.

Input (stdin, JSON): {"model_dir", "train": {intent: [utterances]}, "queries": [text], "big_train",
"background": [text]}.
Output (stdout, JSON): per peer, the score of every intent for every query, build seconds, and
per-query latency in milliseconds.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time

import numpy as np


def raw_scores(vectors_by_intent, q, w=0.5):
    """Hearth's raw intent score: w * cos(centroid) + (1-w) * max cos(sample); `q` one vector
    (scores are floats) or a (dim, n) matrix of n vectors (scores are arrays)."""
    out = {}
    for name, m in vectors_by_intent.items():
        c = m.mean(axis=0)
        c = c / (np.linalg.norm(c) or 1.0)
        s = w * (c @ q) + (1 - w) * (m @ q).max(axis=0)
        out[name] = float(s) if np.ndim(s) == 0 else s
    return out


def calibration(vectors_by_intent, w=0.5):
    """Hearth's per-intent calibration: the mean leave-one-out raw score of each intent's own
    samples (each against the intent's other samples); 0 with fewer than two samples."""
    out = {}
    for name, m in vectors_by_intent.items():
        if len(m) < 2:
            out[name] = 0.0
            continue
        scores = [raw_scores({name: np.delete(m, j, axis=0)}, m[j], w)[name] for j in range(len(m))]
        out[name] = float(np.mean(scores))
    return out


def prune_background(vectors_by_intent, mu, bg, keep=0.6, typical=0.8, w=0.5):
    """Hearth's background at build: the lines no intent claims (a line is claimed when its raw
    score for an intent reaches `keep` times the intent's calibration)."""
    if len(bg) == 0:
        return bg
    known = [v for v in mu.values() if v > 0]
    fallback = float(np.mean(known)) if known else typical
    raw = raw_scores(vectors_by_intent, bg.T, w)  # each: array over background lines
    claimed = np.zeros(len(bg), bool)
    for name, s in raw.items():
        claimed |= s >= keep * (mu[name] if mu[name] > 0 else fallback)
    return bg[~claimed]


def background_distance(bg, q, k=2):
    """b: the mean cosine to the `k` nearest lines of `bg`, for one vector `q` (a float) or each
    row of a matrix `q` (an array)."""
    s = np.sort(np.atleast_2d(q) @ bg.T, 1)[:, ::-1][:, :max(1, k)].mean(1)
    return float(s[0]) if np.ndim(q) == 1 else s


def penalised(raw, b, scale, weight):
    """Hearth's confidence from a raw score: clamp(scale * (raw - weight * max(0, b - raw)), 0, 1)."""
    return np.clip((raw - weight * np.maximum(0.0, b - raw)) * scale, 0.0, 1.0)


def blend(vectors_by_intent, q, mu, bg, typical=0.8, weight=3.0, w=0.5, k=2):
    """Hearth's reported confidences: (raw - weight * max(0, b - raw)) * max(1, typical / mu(best
    intent)) in [0, 1], b the mean cosine to the `k` nearest kept background lines."""
    raw = raw_scores(vectors_by_intent, q, w)
    best = max(raw, key=raw.get)
    known = [v for v in mu.values() if v > 0]
    m = mu[best] if mu[best] > 0 else (float(np.mean(known)) if known else 0.0)
    scale = max(1.0, typical / max(m, 0.05)) if m > 0 else 1.0
    b = background_distance(bg, q, k) if len(bg) else None
    return {name: float(penalised(v, v if b is None else b, scale, weight)) for name, v in raw.items()}


class MiniLM:
    def __init__(self, model_dir: pathlib.Path):
        from safetensors.numpy import load_file
        from scipy.special import erf
        from tokenizers import Tokenizer

        self.erf = erf
        self.w = load_file(str(model_dir / "model.safetensors"))
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(256)

    def _ln(self, x, p, eps=1e-12):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + eps) * self.w[p + ".weight"] + self.w[p + ".bias"]

    def _dense(self, x, p):
        return x @ self.w[p + ".weight"].T + self.w[p + ".bias"]

    def embed(self, text: str) -> np.ndarray:
        w = self.w
        ids = self.tok.encode(text).ids
        n = len(ids)
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n] + w["embeddings.token_type_embeddings.weight"][0]
        x = self._ln(x, "embeddings.LayerNorm")
        heads, dh = 12, 32
        for layer in range(6):
            p = f"encoder.layer.{layer}."
            q = self._dense(x, p + "attention.self.query").reshape(n, heads, dh).transpose(1, 0, 2)
            k = self._dense(x, p + "attention.self.key").reshape(n, heads, dh).transpose(1, 0, 2)
            v = self._dense(x, p + "attention.self.value").reshape(n, heads, dh).transpose(1, 0, 2)
            s = q @ k.transpose(0, 2, 1) / np.sqrt(dh)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(1, 0, 2).reshape(n, heads * dh)
            x = self._ln(self._dense(a, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            h = self._dense(x, p + "intermediate.dense")
            h = 0.5 * h * (1.0 + self.erf(h / np.sqrt(2.0)))
            x = self._ln(self._dense(h, p + "output.dense") + x, p + "output.LayerNorm")
        e = x.mean(axis=0)
        return (e / np.linalg.norm(e)).astype(np.float32)


def run_minilm(job):
    m = MiniLM(pathlib.Path(job["model_dir"]))
    t0 = time.perf_counter()
    vecs = {k: np.stack([m.embed(u) for u in us]) for k, us in job["train"].items()}
    mu = calibration(vecs)
    build_s = time.perf_counter() - t0
    # The background is embedded once (Hearth: once per process), then pruned per bot.
    t0 = time.perf_counter()
    bg_all = np.stack([m.embed(u) for u in job.get("background", [])]) if job.get("background") else np.zeros((0, 384), np.float32)
    background_s = time.perf_counter() - t0
    bg = prune_background(vecs, mu, bg_all)
    t0 = time.perf_counter()
    for us in job.get("big_train", {}).values():
        for u in us:
            m.embed(u)
    big_build_s = time.perf_counter() - t0
    scores, lat = [], []
    for q in job["queries"]:
        t = time.perf_counter()
        scores.append(blend(vecs, m.embed(q), mu, bg))
        lat.append((time.perf_counter() - t) * 1000)
    return {"scores": scores, "build_s": build_s, "big_build_s": big_build_s, "latency_ms": lat,
            "background_embed_s": background_s, "background_kept": len(bg), "background_lines": len(bg_all)}


def run_tfidf(job):
    from sklearn.feature_extraction.text import TfidfVectorizer

    t0 = time.perf_counter()
    names = list(job["train"])
    docs = [u for k in names for u in job["train"][k]]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(docs)
    cents = {}
    for k in names:
        c = np.asarray(vec.transform(job["train"][k]).mean(axis=0)).ravel()
        cents[k] = c / (np.linalg.norm(c) or 1.0)
    build_s = time.perf_counter() - t0
    scores, lat = [], []
    for q in job["queries"]:
        t = time.perf_counter()
        v = vec.transform([q]).toarray().ravel()
        v = v / (np.linalg.norm(v) or 1.0)
        scores.append({k: float(c @ v) for k, c in cents.items()})
        lat.append((time.perf_counter() - t) * 1000)
    return {"scores": scores, "build_s": build_s, "latency_ms": lat}


def main():
    job = json.load(sys.stdin)
    out = {}
    for name, fn in (("minilm", run_minilm), ("tfidf", run_tfidf)):
        try:
            out[name] = fn(job)
        except ImportError as e:
            out[name] = {"skipped": f"missing package: {e}"}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
