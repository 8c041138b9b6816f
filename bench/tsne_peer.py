#!/usr/bin/env python3
"""The peer and the judge of bench/tsne.ts: scikit-learn's TSNE on the same rows, and the quality of both maps.

  python3 bench/tsne_peer.py ROWS.npy OURS.npy OUT.json

ROWS [n, d] float32 (the encoder rows), OURS [n, 2] (this project's map of them). It times scikit-learn's
pipeline (PCA to 50 with sklearn.decomposition.PCA, svd_solver='full', then sklearn.manifold.TSNE with its
defaults: perplexity 30, early exaggeration 12, learning_rate 'auto', init 'pca', Barnes-Hut at angle 0.5,
1000 iterations), then scores both embeddings the same way on that exact PCA-50 input:
  kl      exact KL(P || Q): P with perplexity 30 over ALL pairs (per-row bisection on beta, P = (P_cond +
          P_cond^T) / 2n), Q = w / sum w with w = 1 / (1 + |y_i - y_j|^2) over all pairs i != j
  nn10    the fraction of each point's 10 nearest neighbours in the PCA-50 input that are among its 10
          nearest in the map
Why svd_solver='full': PCA's default for these sizes is the randomised solver, whose 50th eigenvalue is ~4 %
off the exact one on these rows; a judge on that input favours the pipeline that used it (measured: our map
scored 10 % worse on it, and 1.5 % better than scikit-learn's when both ran on that same input, 2 000 rows). This project's
PCA is exact to ~1e-6 here (test/unit/interp/tsne.test.ts checks it against numpy's SVD), so both pipelines
map the same PCA-50 space and the judge scores only the t-SNE.
Writes OUT.json with the numbers. Needs Debian's python3-sklearn (numpy, scipy).
"""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

BLOCK = 512


def sq_dists(a, b):
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def conditional_p(x, perplexity):
    """P_cond [n, n] (float32 storage) with each row's entropy ln(perplexity), by vectorised bisection."""
    n = x.shape[0]
    target = np.log(perplexity)
    out = np.zeros((n, n), dtype=np.float32)
    for r0 in range(0, n, BLOCK):
        r1 = min(n, r0 + BLOCK)
        d = sq_dists(x[r0:r1], x)
        d[np.arange(r1 - r0), np.arange(r0, r1)] = np.inf
        d = d - d.min(axis=1, keepdims=True)
        finite_d = np.where(np.isfinite(d), d, 0.0)
        lo = np.zeros(r1 - r0)
        hi = np.full(r1 - r0, np.inf)
        beta = np.ones(r1 - r0)
        for _ in range(100):
            e = np.exp(-d * beta[:, None])
            s = e.sum(1)
            h = np.log(s) + beta * (finite_d * e).sum(1) / s
            too_flat = h > target
            lo = np.where(too_flat, beta, lo)
            hi = np.where(too_flat, hi, beta)
            beta = np.where(np.isinf(hi), beta * 2, (lo + hi) / 2)
        e = np.exp(-d * beta[:, None])
        out[r0:r1] = e / e.sum(1, keepdims=True)
    return out


def exact_kl(pc, y):
    n = y.shape[0]
    y = y.astype(np.float64)
    z = 0.0
    p_log_p_over_w = 0.0
    for r0 in range(0, n, BLOCK):
        r1 = min(n, r0 + BLOCK)
        p = (pc[r0:r1].astype(np.float64) + pc[:, r0:r1].T.astype(np.float64)) / (2 * n)
        w = 1.0 / (1.0 + sq_dists(y[r0:r1], y))
        w[np.arange(r1 - r0), np.arange(r0, r1)] = 0.0
        z += w.sum()
        m = p > 0
        p_log_p_over_w += (p[m] * (np.log(p[m]) - np.log(w[m]))).sum()
    p_total = 1.0
    return p_log_p_over_w + p_total * np.log(z)


def knn(x, k):
    n = x.shape[0]
    out = np.zeros((n, k), dtype=np.int64)
    for r0 in range(0, n, BLOCK):
        r1 = min(n, r0 + BLOCK)
        d = sq_dists(x[r0:r1], x)
        d[np.arange(r1 - r0), np.arange(r0, r1)] = np.inf
        out[r0:r1] = np.argpartition(d, k, axis=1)[:, :k]
    return out


def kept(nn_in, y, k=10):
    nn_map = knn(y.astype(np.float64), k)
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(nn_in, nn_map)]))


def main():
    rows = np.load(sys.argv[1]).astype(np.float32)
    ours = np.load(sys.argv[2])
    t0 = time.perf_counter()
    x50 = PCA(n_components=50, svd_solver='full').fit_transform(rows)
    t1 = time.perf_counter()
    theirs = TSNE(n_components=2, perplexity=30.0, init='pca', learning_rate='auto', random_state=0).fit_transform(x50)
    t2 = time.perf_counter()
    x50 = x50.astype(np.float64)
    pc = conditional_p(x50, 30.0)
    nn_in = knn(x50, 10)
    result = {
        'sklearn': sklearn.__version__,
        'sklearn_pca_s': t1 - t0, 'sklearn_tsne_s': t2 - t1, 'sklearn_total_s': t2 - t0,
        'kl_sklearn': float(exact_kl(pc, theirs)), 'kl_ours': float(exact_kl(pc, ours)),
        'nn10_sklearn': kept(nn_in, theirs), 'nn10_ours': kept(nn_in, ours),
    }
    with open(sys.argv[3], 'w') as f:
        json.dump(result, f)


main()
