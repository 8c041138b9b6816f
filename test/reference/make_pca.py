#!/usr/bin/env python3
"""Makes fixtures/pca/pca.json: a PCA reference for src/engine/interp/pca.ts, computed with numpy's SVD.

Rows X [100, 24] (float32) with a decaying spectrum (singular values of the centred data well apart for the
first 8 axes) plus an offset, so the mean matters. The reference: mean, the first 8 right singular vectors
of the centred X (components), S^2 / (n - 1) (explained variance) and the centred X projected on them, all in
float64. Signs are arbitrary in both implementations: the test aligns them.
Run: python3 test/reference/make_pca.py   (numpy)
"""
import json
import os
import platform

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'pca')
N, D, K = 100, 24, 8

rng = np.random.default_rng(20240610)
scales = 3.0 * 0.8 ** np.arange(D)
basis, _ = np.linalg.qr(rng.standard_normal((D, D)))
x = (rng.standard_normal((N, D)) * scales) @ basis.T + rng.standard_normal(D) * 2.0
x = x.astype(np.float32)

xd = x.astype(np.float64)
mean = xd.mean(axis=0)
centred = xd - mean
_, s, vt = np.linalg.svd(centred, full_matrices=False)
components = vt[:K]
explained = s[:K] ** 2 / (N - 1)
projected = centred @ components.T

os.makedirs(OUT, exist_ok=True)
g = lambda a: [float(f'{v:.10g}') for v in np.ravel(a)]  # 10 significant digits: far below the test's tolerances
with open(os.path.join(OUT, 'pca.json'), 'w') as f:
    json.dump({
        'n': N, 'd': D, 'k': K,
        'x': [float(str(v)) for v in x.ravel()],  # float32's shortest round-trip text: Float32Array gets the same values
        'mean': g(mean),
        'components': g(components),
        'explained_variance': g(explained),
        'projected': g(projected),
        'versions': {'python': platform.python_version(), 'numpy': np.__version__},
    }, f)
print(f'wrote {OUT}/pca.json')
