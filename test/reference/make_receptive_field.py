#!/usr/bin/env python3
"""Makes fixtures/receptive-field/windows.json: the receptive-field averaging (mean of log-mel windows centred on
given frames, each column averaged only over the windows that cover it, and the coverage count) computed with
numpy on a fixed case, for test/unit/interp/receptiveField.test.ts.

Three clips of random "log-mel" matrices [n_mels, frames] of different lengths (one shorter than a window), and
window centres in the middle, at both borders and past the short clip's end, for an even and an odd window
length. Window column k shows clip frame centre - W // 2 + k; columns outside [0, frames) are NaN in the window
and left out of the mean (numpy's nanmean), coverage[k] = how many windows have data in column k.

Run: /usr/bin/python3 test/reference/make_receptive_field.py   (Debian python3-numpy)
"""
import json
import os
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'receptive-field')
N_MELS = 5
LENGTHS = (37, 160, 8)
CENTRES = [(0, 0), (0, 3), (0, 36), (1, 80), (1, 159), (1, 30), (1, 81), (2, 4), (2, 0)]


def windows(mels, centres, w):
    out = np.full((len(centres), N_MELS, w), np.nan, dtype=np.float64)
    for i, (clip, centre) in enumerate(centres):
        mel = mels[clip]
        idx = centre - w // 2 + np.arange(w)
        valid = (idx >= 0) & (idx < mel.shape[1])
        out[i][:, valid] = mel[:, idx[valid]]
    return out


def main():
    rng = np.random.default_rng(20261202)
    # float32 values, as the engine's log-mel is float32; the mean is computed in float64.
    mels = [rng.normal(0.0, 1.0, (N_MELS, n)).astype(np.float32).astype(np.float64) for n in LENGTHS]
    cases = []
    for w in (20, 9):
        win = windows(mels, CENTRES, w)
        coverage = (~np.isnan(win[:, 0, :])).sum(0)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', RuntimeWarning)  # nanmean of an all-NaN column is NaN, as wanted
            mean = np.nanmean(win, axis=0)
        cases.append({
            'window_frames': w,
            'mean': [[None if np.isnan(v) else float(v) for v in row] for row in mean],
            'coverage': coverage.astype(int).tolist(),
            'windows_nan': np.isnan(win).astype(int).tolist(),
        })
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'windows.json'), 'w') as fh:
        json.dump({
            'n_mels': N_MELS, 'mels': [m.tolist() for m in mels], 'centres': CENTRES, 'cases': cases,
            'versions': {'numpy': np.__version__},
        }, fh)
    print('wrote', os.path.join(OUT, 'windows.json'))


if __name__ == '__main__':
    main()
