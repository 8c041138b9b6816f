#!/usr/bin/env python3
"""Makes fixtures/cooccurrence/: numpy references for duplicates, coverage (paper appendix B) and label search
(appendix F), and an SAE with a planted duplicate feature for the design corpus.

tables.json   two fixed sparse code tables "a" and "b" over the same 320 frames (8 clips of 40 frames), 20
              features each, as COO lists (frame, feature, value; values are multiples of 1/64, exact in float32),
              with features built to overlap: in "a", feature j + 10 copies feature j on most frames (j < 4), and in
              "b" features follow "a"'s with some frames flipped. Then, computed with numpy on dense 0/1 matrices:
              - IoU pairs of "a" with itself (i < j) and of "a" against "b" with IoU > theta (0.5), with intersect
                and union; the duplicate counts of "a" (alive, duplicated, pairs) and the coverage counts both ways.
              - label search: a frame label (positives partly following feature 3) and a clip label; for every
                feature active on a positive unit, F1 of "value >= t" for t = min + i*step (step 0.1, float64, while
                t <= max), the best (first maximum: the lowest t), with precision, recall, tp, fp, fn; clip values
                are each clip's max over its frames. All rows, not only F1 > 0.5, so the test can apply the cut.
sae/layer_1/  the design corpus's layer-1 SAE (fixtures/design-corpus/sae/layer_1/ae.pt) with a ninth feature that
              copies feature 0 (speech): the same encoder row and bias and decoder column. It fires on exactly the
              frames feature 0 does, so duplicates must find the pair (0, 8) at IoU 1, and coverage between a run with
              it and a run with the original SAE must be 100% both ways.

Run: /usr/bin/python3 test/reference/make_cooccurrence.py   (Debian python3-numpy, python3-torch 1.13)
"""
import json
import os
import shutil

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'cooccurrence')
DESIGN_SAE = os.path.join(HERE, 'fixtures', 'design-corpus', 'sae', 'layer_1')
CLIPS, PER_CLIP, F = 8, 40, 20
FRAMES = CLIPS * PER_CLIP
THETA = 0.5
STEP = 0.1


def tables(rng):
    active_a = rng.random((FRAMES, F)) < rng.uniform(0.05, 0.5, F)
    for j in range(4):  # planted near-duplicates: j + 10 follows j except on a few frames
        flip = rng.random(FRAMES) < 0.04 * (j + 1)
        active_a[:, j + 10] = active_a[:, j] ^ flip
    active_a[:, 19] = False  # one dead feature
    active_b = active_a.copy()
    flips = rng.random((FRAMES, F)) < rng.uniform(0.0, 0.4, F)
    active_b ^= flips
    active_b[:, 19] = False
    active_b[:, 18] = False
    # Multiples of 1/64 in (0, 3]: exact in float32 and short in JSON.
    values = lambda act: np.where(act, np.maximum(1, np.round(rng.uniform(0.05, 3.0, act.shape) * 64)) / 64, 0).astype(np.float32)
    return values(active_a), values(active_b)


def iou_pairs(xa, xb, self_pairs):
    A = (xa != 0).astype(np.int64)
    B = (xb != 0).astype(np.int64)
    inter = A.T @ B
    na, nb = A.sum(0), B.sum(0)
    union = na[:, None] + nb[None, :] - inter
    with np.errstate(invalid='ignore', divide='ignore'):
        iou = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    pairs = []
    for i in range(F):
        for j in range(F):
            if self_pairs and j <= i:
                continue
            if inter[i, j] > 0 and iou[i, j] > THETA:
                pairs.append({'feature_a': i, 'feature_b': j, 'iou': float(iou[i, j]), 'intersect': int(inter[i, j]), 'union': int(union[i, j])})
    return pairs, na, nb


def duplicates(xa):
    pairs, na, _ = iou_pairs(xa, xa, True)
    dup = set()
    for p in pairs:
        dup.update((p['feature_a'], p['feature_b']))
    alive = int((na > 0).sum())
    return {'pairs': pairs, 'summary': {'alive': alive, 'duplicated': len(dup), 'duplicated_fraction': len(dup) / alive, 'pairs': len(pairs)}}


def coverage(xa, xb):
    pairs, na, nb = iou_pairs(xa, xb, False)
    ca = {p['feature_a'] for p in pairs}
    cb = {p['feature_b'] for p in pairs}
    alive_a, alive_b = int((na > 0).sum()), int((nb > 0).sum())
    return {'pairs': pairs, 'summary': {'alive_a': alive_a, 'covered_a': len(ca), 'coverage_ab': len(ca) / alive_a,
                                        'alive_b': alive_b, 'covered_b': len(cb), 'coverage_ba': len(cb) / alive_b, 'pairs': len(pairs)}}


def f1_scan(values, positive):
    """values [units, F] float32 (0 = inactive), positive [units] bool."""
    P = int(positive.sum())
    out = []
    for j in range(F):
        v = values[:, j].astype(np.float64)
        act = v != 0
        if not (act & positive).any():
            continue
        lo, hi = v[act].min(), v[act].max()
        best = None
        i = 0
        while True:
            t = lo + i * STEP
            if t > hi:
                break
            pred = act & (v >= t)
            tp = int((pred & positive).sum())
            fp = int((pred & ~positive).sum())
            fn = P - tp
            f1 = 2 * tp / (2 * tp + fp + fn)
            if best is None or f1 > best['f1']:
                best = {'feature': j, 'f1': f1, 'threshold': float(t), 'precision': tp / (tp + fp), 'recall': tp / P, 'tp': tp, 'fp': fp, 'fn': fn}
            i += 1
        out.append(best)
    out.sort(key=lambda r: (-r['f1'], r['feature']))
    return {'positives': P, 'candidates': len(out), 'rows': out}


def coo(x):
    t, j = np.nonzero(x)
    return {'frame': t.tolist(), 'feature': j.tolist(), 'value': [float(v) for v in x[t, j]]}


def planted_sae(dest):
    state = torch.load(os.path.join(DESIGN_SAE, 'ae.pt'))
    W, b, dec = state['encoder.weight'], state['encoder.bias'], state['decoder.weight']
    state['encoder.weight'] = torch.cat([W, W[0:1]], 0)
    state['encoder.bias'] = torch.cat([b, b[0:1]], 0)
    state['decoder.weight'] = torch.cat([dec, dec[:, 0:1]], 1)
    folder = os.path.join(dest, 'sae', 'layer_1')
    os.makedirs(folder)
    torch.save(state, os.path.join(folder, 'ae.pt'))
    with open(os.path.join(DESIGN_SAE, 'config.json')) as fh:
        config = json.load(fh)
    config['trainer']['dict_size'] = int(state['encoder.weight'].shape[0])
    config['trainer']['note'] = 'the design corpus SAE of layer 1 plus feature 8, a copy of feature 0 (make_cooccurrence.py)'
    config['trainer']['features'] = config['trainer']['features'] + ['copy of 0']
    with open(os.path.join(folder, 'config.json'), 'w') as fh:
        json.dump(config, fh, indent=1)
    # Checked: the copy fires on the same frames by construction (same row, same bias).
    assert torch.equal(state['encoder.weight'][8], state['encoder.weight'][0])


def main():
    rng = np.random.default_rng(20260202)
    xa, xb = tables(rng)
    frame_positive = ((xa[:, 3] > 1.2) ^ (rng.random(FRAMES) < 0.05))
    clip_of = np.arange(FRAMES) // PER_CLIP
    clip_values = np.stack([xa[clip_of == c].max(0) for c in range(CLIPS)])
    clip_positive = np.array([c % 3 == 0 for c in range(CLIPS)])
    ref = {
        'frames': FRAMES, 'clips': CLIPS, 'frames_per_clip': PER_CLIP, 'dict_size': F, 'theta': THETA, 'step': STEP,
        'a': coo(xa), 'b': coo(xb),
        'duplicates_a': duplicates(xa),
        'coverage_ab': coverage(xa, xb),
        'frame_label': {'positive': frame_positive.astype(int).tolist(), **f1_scan(xa, frame_positive)},
        'clip_label': {'positive': clip_positive.astype(int).tolist(), **f1_scan(clip_values, clip_positive)},
        'versions': {'numpy': np.__version__, 'torch': torch.__version__},
    }
    staging = OUT + '.staging'
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    try:
        with open(os.path.join(staging, 'tables.json'), 'w') as fh:
            json.dump(ref, fh)
        planted_sae(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(OUT, ignore_errors=True)
    os.rename(staging, OUT)
    d = ref['duplicates_a']['summary']
    c = ref['coverage_ab']['summary']
    print(f"duplicates of a: {d}; coverage a/b: {c}; frame label: {ref['frame_label']['positives']} positives, "
          f"{sum(r['f1'] > 0.5 for r in ref['frame_label']['rows'])} features over 0.5; clip label: {ref['clip_label']['positives']} positives")
    print('wrote', OUT)


if __name__ == '__main__':
    main()
