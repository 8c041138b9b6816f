#!/usr/bin/env python3
"""Makes the corpus-store fixtures in fixtures/corpus/: fixed sparse tables of one run (two layers) over a small
corpus, and every corpus analysis computed independently with numpy (and exact fractions for the classification)
from the PER-FRAME data generated first. The per-clip tables the store holds are derived from the same frames;
the references are never computed from those sums.

The corpus: 10 speech clips (datasets ls, esd; 200 frames), 10 sounds clips (fsd50k; 200 frames), 10 music clips
(jamendo; 400 frames), 4 podcast clips (a non-standard domain, no dataset; 60 frames) and one failed speech clip
whose rows are left in the tables on purpose (it must be excluded everywhere). 40 features, d = 4, layers 3 and 6.
Features 0, 1, 38, 39 never fire; 19 fires only in podcast clips; 20 only in the failed clip; 2..18 and 37 are designed
(exact frequencies: ties at the argmax and differences exactly at tau = 0.2 / 0.1 / 0.04 at the frame level and
0.5 / 0.3 at the audio level, several of which float subtraction gets wrong, e.g. 0.3 - 0.1 < 0.2); 21..36 fire
at random. Layer 6 is the same design with the designed features permuted and other random values.

Files:
  tables.json    the store's rows: run, clips, clip_features, clip_recon
  frames.json    per clip and layer: x, x_hat [frames, d] and CSR codes (for a MetricsAccumulator check)
  metrics.json   reconstruction metrics (reference doc section 4), corpus and per domain
  dead.json      dead features, corpus and per domain
  max_acts.json  (clip, feature) max, first arg-max frame, time_s
  top_clips.json every feature's full ranking (max descending, clip_id ascending)
  stats.json     per feature and domain / dataset
  classify.json  appendix C classification (frame and audio level; three domain mappings) with summaries
  layers.json    the per-layer three-way summary
Run: python3 test/reference/make_corpus_stats.py   (numpy; no pandas)
"""
import json
import os
import platform
import shutil
from fractions import Fraction

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'corpus')
RUN_ID = 'fx01'
F = 40
D = 4
LAYERS = [3, 6]
FPS = 50
SEED = 20250609

LENGTHS = {
    'speech': [15, 25, 18, 22, 20, 20, 17, 23, 21, 19],
    'sounds': [10, 30, 20, 20, 14, 26, 19, 21, 25, 15],
    'music': [40, 35, 45, 50, 30, 40, 38, 42, 44, 36],
    'podcast': [12, 17, 9, 22],
}
DATASETS = {'speech': ['ls'] * 6 + ['esd'] * 4, 'sounds': ['fsd50k'] * 10, 'music': ['jamendo'] * 10, 'podcast': [None] * 4}
OFFSET = {'speech': [1, 0, 0, 0], 'sounds': [0, 2, 0, -1], 'music': [-1, 0, 1, 0], 'podcast': [0, 0, 0, 3]}

# Designed features: domain -> (active frames, active clips). Frames per domain: speech 200, sounds 200, music 400;
# 10 clips each. Comments give (frame freq; audio freq) for speech, sounds, music.
DESIGN = {
    2: {'speech': (100, 10)},                                      # .5,0,0; 1,0,0: speech only
    3: {'speech': (60, 6), 'sounds': (20, 4)},                     # .3,.1,0 (0.2 exactly); .6,.4,0
    4: {'speech': (10, 2), 'sounds': (50, 5), 'music': (60, 5)},  # .05,.25,.15 (0.1 exactly); .2,.5,.5 (argmax tie)
    5: {'speech': (16, 4), 'music': (48, 6)},                      # .08,0,.12 (0.04 exactly); .4,0,.6
    6: {'speech': (16, 4), 'music': (46, 6)},                      # .08,0,.115 (below 0.04)
    7: {'speech': (40, 5), 'sounds': (40, 5)},                     # .2,.2,0 (argmax tie); .5,.5,0
    8: {'speech': (30, 3), 'sounds': (30, 3), 'music': (60, 3)},  # .15 each (three-way tie); .3 each
    9: {'sounds': (10, 1), 'music': (100, 5)},                     # 0,.05,.25 (0.2 exactly)
    10: {'speech': (160, 10), 'sounds': (20, 2), 'music': (120, 8)},  # .8,.1,.3; 1,.2,.8
    11: {'speech': (20, 8), 'sounds': (3, 3)},                     # audio .8,.3,0 (0.5 exactly)
    12: {'speech': (1, 1), 'sounds': (6, 6), 'music': (3, 3)},    # audio .1,.6,.3 (0.3 exactly)
    13: {'sounds': (7, 7), 'music': (4, 4)},                       # audio 0,.7,.4 (0.3 exactly; float says less)
    14: {'sounds': (5, 5), 'music': (3, 3)},                       # audio 0,.5,.3 (below 0.3)
    15: {'speech': (4, 4), 'sounds': (2, 2), 'music': (4, 4)},    # audio .4,.2,.4 (argmax tie)
    16: {'speech': (6, 6), 'sounds': (1, 1)},                      # audio .6,.1,0 (0.5 exactly; float says less)
    17: {'sounds': (80, 10)},                                      # sounds only
    18: {'music': (120, 9)},                                       # music only
    19: {'podcast': (10, 3)},                                      # only in the non-standard domain
    37: {'music': (8, 2)},                                         # 0,0,.02; 0,0,.2: one domain, too rare for any tau
}
BACKGROUND = range(21, 37)
FAILED_ONLY = 20
COMBOS = [('speech', 'sounds', 'music'), ('speech', 'sounds'), ('speech', 'music'), ('sounds', 'music')]
LABELS3 = ('speech', 'sounds', 'music')
TAUS = {'frame': [Fraction('0.2'), Fraction('0.1'), Fraction('0.04')], 'audio': [Fraction('0.5'), Fraction('0.3')]}
MAPPINGS = {
    # name -> (group by, label -> groups)
    'default': ('domain', {'speech': ['speech'], 'sounds': ['sounds'], 'music': ['music']}),
    'datasets': ('dataset', {'speech': ['ls', 'esd'], 'sounds': ['fsd50k'], 'music': ['jamendo']}),
    'pooled': ('domain', {'speech': ['speech', 'podcast'], 'sounds': ['sounds'], 'music': ['music']}),
}


def make_clips(rng):
    """Clip list with shuffled ids (domains interleave); one failed speech clip."""
    entries = []
    for dom in ('speech', 'sounds', 'music', 'podcast'):
        for i, n in enumerate(LENGTHS[dom]):
            entries.append({'domain': dom, 'dataset': DATASETS[dom][i], 'frames': n, 'status': 'done', 'index': i})
    entries.append({'domain': 'speech', 'dataset': 'ls', 'frames': 16, 'status': 'failed', 'index': -1})
    order = rng.permutation(len(entries))
    clips = []
    for clip_id, k in enumerate(order):
        e = dict(entries[k])
        e['clip_id'] = clip_id
        e['path'] = f"/corpus/{e['domain']}/{e['dataset'] or 'misc'}/clip_{clip_id:03d}.wav"
        clips.append(e)
    return clips


def place(rng, clips_of_domain, frames, n_clips):
    """Chooses n_clips clips and `frames` active (clip, frame) cells among them, every chosen clip at least one."""
    for _ in range(1000):
        chosen = sorted(rng.choice(len(clips_of_domain), size=n_clips, replace=False).tolist())
        cap = [clips_of_domain[c]['frames'] for c in chosen]
        if sum(cap) >= frames:
            break
    else:
        raise RuntimeError('cannot place')
    counts = [1] * n_clips
    while sum(counts) < frames:
        k = int(rng.integers(n_clips))
        if counts[k] < cap[k]:
            counts[k] += 1
    cells = []
    for c, n in zip(chosen, counts):
        clip = clips_of_domain[c]
        for t in sorted(rng.choice(clip['frames'], size=n, replace=False).tolist()):
            cells.append((clip['clip_id'], t))
    return cells


def make_layer(rng, clips, layer):
    """Per-frame codes [frames, F] float32, x and x_hat [frames, d] float32 for every clip."""
    codes = {c['clip_id']: np.zeros((c['frames'], F), np.float32) for c in clips}
    by_dom = {dom: [c for c in clips if c['domain'] == dom and c['status'] == 'done'] for dom in LENGTHS}
    perm = {j: j for j in range(F)}
    if layer == 6:  # the designed features moved to other ids (a rotation of 2..18 and 37), background re-drawn
        designed = sorted(j for j in DESIGN if j != 19)
        for a, b in zip(designed, designed[5:] + designed[:5]):
            perm[a] = b
    for j, spec in DESIGN.items():
        fj = perm[j]
        for dom, (frames, n_clips) in spec.items():
            for clip_id, t in place(rng, by_dom[dom], frames, n_clips):
                codes[clip_id][t, fj] = np.float32(rng.uniform(0.05, 3.0 if j == 2 else 4.0))
    # Ties for top clips and the first arg-max: feature perm[2] reaches exactly 3.5 in three speech clips, twice
    # in one of them; its other values stay below 3.0.
    f2 = perm[2]
    tie_clips = [by_dom['speech'][i]['clip_id'] for i in (2, 5, 7)]
    for n, clip_id in enumerate(tie_clips):
        active = np.nonzero(codes[clip_id][:, f2])[0]
        codes[clip_id][active[-1], f2] = np.float32(3.5)
        if n == 1 and len(active) > 1:
            codes[clip_id][active[0], f2] = np.float32(3.5)
    for c in clips:
        n = c['frames']
        if c['status'] == 'failed':
            codes[c['clip_id']][rng.integers(n), FAILED_ONLY] = np.float32(1.25)
        p = {j: rng.uniform(0.0, 0.3) for j in BACKGROUND}
        for j in BACKGROUND:
            on = rng.random(n) < p[j]
            codes[c['clip_id']][on, j] = rng.uniform(0.05, 5.0, size=int(on.sum())).astype(np.float32)
    xs, xhats = {}, {}
    for c in clips:
        n = c['frames']
        x = (np.array(OFFSET[c['domain']], np.float64) * (1 + 0.1 * layer) + rng.normal(size=(n, D))).astype(np.float32)
        xh = (0.9 * x + 0.3 * rng.normal(size=(n, D))).astype(np.float32)
        xs[c['clip_id']], xhats[c['clip_id']] = x, xh
    # Frames with x = 0 (left out of the directed means) and one frame with x_hat = 0 (cosine counted as 0).
    zero_clips = [by_dom['sounds'][3]['clip_id'], by_dom['podcast'][1]['clip_id']]
    xs[zero_clips[0]][[0, 5]] = 0
    xs[zero_clips[1]][2] = 0
    xhats[by_dom['music'][4]['clip_id']][7] = 0
    return codes, xs, xhats


def clip_rows(clips, layer, codes, xs, xhats):
    """The store's rows, derived from the frames (float64 sums of float32 values)."""
    feats, recons = [], []
    for c in clips:
        cid = c['clip_id']
        cf = codes[cid]
        for j in range(F):
            col = cf[:, j]
            nz = np.nonzero(col)[0]
            if len(nz) == 0:
                continue
            feats.append({'layer': layer, 'clip_id': cid, 'feature': j, 'max_act': float(col.max()), 'argmax_frame': int(np.argmax(col)),
                          'active_frames': int(len(nz)), 'sum_act': float(col.astype(np.float64).sum())})
        x = xs[cid].astype(np.float64)
        xh = xhats[cid].astype(np.float64)
        e = x - xh
        err = np.sqrt((e * e).sum(1))
        xn = np.sqrt((x * x).sum(1))
        rn = np.sqrt((xh * xh).sum(1))
        ok = xn > 0
        cos = np.where(rn[ok] > 0, (x[ok] * xh[ok]).sum(1) / (xn[ok] * np.where(rn[ok] > 0, rn[ok], 1)), 0.0)
        recons.append({'layer': layer, 'clip_id': cid, 'frames': int(len(x)), 'zero_norm_frames': int((~ok).sum()),
                       'sum_l0': float(np.count_nonzero(cf)), 'sum_sq_err': float((e * e).sum()), 'sum_err': float(err.sum()),
                       'sum_rel_err': float((err[ok] / xn[ok]).sum()), 'sum_sq_norm': float((x * x).sum()),
                       'sum_cosine': float(cos.sum()), 'sum_norm_ratio': float((rn[ok] / xn[ok]).sum()),
                       'sum_x': x.sum(0).tolist(), 'sum_res': e.sum(0).tolist()})
    return feats, recons


def nan_to_none(v):
    return None if isinstance(v, float) and np.isnan(v) else v


def metrics_of(frames_x, frames_xh, frames_codes, n_clips):
    """Reference doc section 4 straight from the frames of a group."""
    if n_clips == 0:
        return None
    x = np.concatenate(frames_x).astype(np.float64)
    xh = np.concatenate(frames_xh).astype(np.float64)
    f = np.concatenate(frames_codes)
    e = x - xh
    err = np.linalg.norm(e, axis=1)
    xn = np.linalg.norm(x, axis=1)
    rn = np.linalg.norm(xh, axis=1)
    ok = xn > 0
    dot = (x * xh).sum(1)
    cos = np.array([dot[t] / (xn[t] * rn[t]) if rn[t] > 0 else 0.0 for t in np.nonzero(ok)[0]])
    alive = int(np.count_nonzero((f != 0).any(0)))
    return {'clips': n_clips, 'frames': int(len(x)), 'zeroNormFrames': int((~ok).sum()), 'aliveFeatures': alive, 'dictSize': F,
            'l0': float((f != 0).sum(1).mean()), 'mse': float((err ** 2).mean()), 'l2': float(err.mean()),
            'normalizedL2': float((err[ok] / xn[ok]).mean()), 'nmse': float((err ** 2).sum() / (xn ** 2).sum()),
            'fve': float(1 - np.var(e, axis=0).sum() / np.var(x, axis=0).sum()), 'cosine': float(cos.mean()),
            'normRatio': float((rn[ok] / xn[ok]).mean()), 'aliveFraction': alive / F}


def classify(stats_rows, by, mapping, level):
    """Appendix C with exact fractions. stats_rows: the reference's featureStats rows for `by`."""
    counts = {}  # label -> feature -> [num, den]
    for label, groups in mapping.items():
        counts[label] = {}
        for r in stats_rows:
            if r['group'] in groups:
                num, den = (r['activeFrames'], r['frames']) if level == 'frame' else (r['activeClips'], r['clips'])
                acc = counts[label].setdefault(r['feature'], [0, 0])
                acc[0] += num
                acc[1] += den
    freq = {label: {j: Fraction(n, d) if d else Fraction(0) for j, (n, d) in per.items()} for label, per in counts.items()}
    taus = TAUS[level]
    rows, labels = [], {}
    for combo in COMBOS:
        name = '+'.join(combo)
        for j in range(F):
            fs = [freq[label][j] for label in combo]
            if all(v == 0 for v in fs):
                label, grade = 'dead', None
            else:
                top = max(fs)
                i = fs.index(top)
                grade = None
                for g, tau in enumerate(taus):
                    if all(top - fs[k] >= tau for k in range(len(fs)) if k != i):
                        grade = g
                        break
                label = combo[i] if grade is not None else 'unassigned'
            rows.append({'feature': j, 'combination': name, 'label': label, 'grade': grade})
            labels[(name, j)] = label
    summary_counts = []
    for combo in COMBOS:
        name = '+'.join(combo)
        c = {k: 0 for k in (*combo, 'unassigned', 'dead')}
        for j in range(F):
            c[labels[(name, j)]] += 1
        summary_counts.append({'combination': name, 'counts': c})

    def venn(member):
        regions = {}
        for j in range(F):
            key = '+'.join(label for label in LABELS3 if member(label, j)) or 'none'
            regions[key] = regions.get(key, 0) + 1
        keys = ['speech', 'sounds', 'music', 'speech+sounds', 'speech+music', 'sounds+music', 'speech+sounds+music', 'none']
        return {k: regions.get(k, 0) for k in keys}

    assigned = venn(lambda label, j: any(labels[('+'.join(combo), j)] == label for combo in COMBOS))
    firing = venn(lambda label, j: freq[label][j] > 0)
    strictly = {label: firing[label] for label in LABELS3}
    three = '+'.join(LABELS3)
    fires_in = {j: sum(1 for label in LABELS3 if freq[label][j] > 0) for j in range(F)}
    layer_row = {k: 0 for k in ('speech', 'sounds', 'music', 'shared', 'unassigned', 'dead')}
    for j in range(F):
        lab = labels[(three, j)]
        if lab == 'unassigned':
            lab = 'shared' if fires_in[j] >= 2 else 'unassigned'
        layer_row[lab] += 1
    return rows, {'level': level, 'taus': [float(t) for t in taus], 'features': F, 'combinations': summary_counts,
                  'assignedVenn': assigned, 'firingVenn': firing, 'strictlyOne': strictly}, layer_row


def main():
    rng = np.random.default_rng(SEED)
    clips = make_clips(rng)
    done = [c for c in clips if c['status'] == 'done']
    tables = {
        'run': {'run_id': RUN_ID, 'backbone': 'whisper-tiny-random', 'weights': 'fixture', 'layers': LAYERS, 'sae': 'fixture',
                'sae_sha256': {str(l): '0' * 64 for l in LAYERS}, 'mode': 'threshold', 'options': {}, 'engine_version': 'fixture',
                'd_model': D, 'dict_size': F, 'k': 8, 'notes': [], 'created_at': '2025-06-09 12:00:00'},
        'clips': [{'run_id': RUN_ID, 'clip_id': c['clip_id'], 'path': c['path'], 'domain': c['domain'], 'dataset': c['dataset'],
                   'start_s': None, 'end_s': None, 'duration_s': c['frames'] / FPS if c['status'] == 'done' else None,
                   'frames': c['frames'] if c['status'] == 'done' else None, 'content_hash': f"{c['clip_id']:064x}",
                   'status': c['status'], 'error': None if c['status'] == 'done' else 'could not be decoded (fixture)', 'metadata': {}}
                  for c in clips],
        'clip_features': [],
        'clip_recon': [],
    }
    frames_out = {}
    metrics, dead, max_acts, top_clips, stats, classified, layers = {}, {}, {}, {}, {}, {}, {'frame': [], 'audio': []}
    for layer in LAYERS:
        codes, xs, xhats = make_layer(rng, clips, layer)
        feats, recons = clip_rows(clips, layer, codes, xs, xhats)
        tables['clip_features'] += [{'run_id': RUN_ID, **r} for r in feats]
        tables['clip_recon'] += [{'run_id': RUN_ID, **r} for r in recons]
        frames_out[str(layer)] = []
        for c in clips:
            cf = codes[c['clip_id']]
            row_ptr = np.concatenate([[0], np.cumsum(np.count_nonzero(cf, axis=1))]).tolist()
            nz = np.nonzero(cf)
            frames_out[str(layer)].append({'clip_id': c['clip_id'], 'status': c['status'], 'domain': c['domain'], 'frames': c['frames'],
                                           'x': xs[c['clip_id']].ravel().tolist(), 'x_hat': xhats[c['clip_id']].ravel().tolist(),
                                           'row_ptr': row_ptr, 'indices': nz[1].tolist(), 'values': cf[nz].tolist()})
        L = str(layer)
        domains = sorted({c['domain'] for c in done})

        def group_metrics(cs):
            return metrics_of([xs[c['clip_id']] for c in cs], [xhats[c['clip_id']] for c in cs], [codes[c['clip_id']] for c in cs], len(cs))

        metrics[L] = {'corpus': group_metrics(done), 'byDomain': {d: group_metrics([c for c in done if c['domain'] == d]) for d in domains}}

        def dead_of(cs):
            fired = np.zeros(F, bool)
            for c in cs:
                fired |= (codes[c['clip_id']] != 0).any(0)
            return [int(j) for j in np.nonzero(~fired)[0]]

        dead[L] = {'corpus': dead_of(done), 'byDomain': {d: dead_of([c for c in done if c['domain'] == d]) for d in domains}}

        acts = []
        for c in sorted(done, key=lambda c: c['clip_id']):
            cf = codes[c['clip_id']]
            for j in range(F):
                if np.any(cf[:, j] != 0):
                    t = int(np.argmax(cf[:, j]))
                    acts.append({'clipId': c['clip_id'], 'clip': c['path'], 'feature': j, 'max': float(cf[t, j]), 'frame': t, 'timeS': t / FPS})
        max_acts[L] = acts
        top_clips[L] = {}
        for j in range(F):
            ranked = sorted((a for a in acts if a['feature'] == j), key=lambda a: (-a['max'], a['clipId']))
            by_id = {c['clip_id']: c for c in clips}
            top_clips[L][str(j)] = [{'rank': r + 1, 'clipId': a['clipId'], 'clip': a['clip'], 'domain': by_id[a['clipId']]['domain'],
                                     'dataset': by_id[a['clipId']]['dataset'], 'max': a['max'], 'frame': a['frame'], 'timeS': a['timeS']}
                                    for r, a in enumerate(ranked)]
        stats[L] = {}
        for by in ('domain', 'dataset'):
            groups = sorted({c[by] for c in done}, key=lambda g: (g is None, g or ''))
            rows = []
            for j in range(F):
                for g in groups:
                    cs = [c for c in done if c[by] == g]
                    cols = [codes[c['clip_id']][:, j] for c in cs]
                    values = np.concatenate([col[col != 0] for col in cols]).astype(np.float64)
                    maxes = [float(col.max()) for col in cols if np.any(col != 0)]
                    frames = sum(len(col) for col in cols)
                    rows.append({'feature': j, 'group': g, 'frames': frames, 'activeFrames': int(len(values)),
                                 'frameFreq': len(values) / frames, 'clips': len(cs), 'activeClips': len(maxes), 'audioFreq': len(maxes) / len(cs),
                                 'meanActFrame': float(values.mean()) if len(values) else None,
                                 'meanActAudio': float(np.mean(maxes)) if maxes else None})
            stats[L][by] = rows
        classified[L] = {}
        for level in ('frame', 'audio'):
            classified[L][level] = {}
            for name, (by, mapping) in MAPPINGS.items():
                rows, summary, layer_row = classify(stats[L][by], by, mapping, level)
                classified[L][level][name] = {'by': by, 'mapping': mapping, 'rows': rows, 'summary': summary}
                if name == 'default':
                    layers[level].append({'layer': layer, 'level': level, 'features': F, **layer_row,
                                          **{f'{k}Pct': 100 * v / F for k, v in layer_row.items()}})

    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    files = {'tables.json': tables, 'frames.json': frames_out, 'metrics.json': metrics, 'dead.json': dead, 'max_acts.json': max_acts,
             'top_clips.json': top_clips, 'stats.json': stats, 'classify.json': classified, 'layers.json': layers}
    for name, obj in files.items():
        with open(os.path.join(OUT, name), 'w') as fh:
            json.dump(obj, fh, allow_nan=False, separators=(',', ':'))
    with open(os.path.join(OUT, 'VERSIONS.json'), 'w') as fh:
        json.dump({'numpy': np.__version__, 'python': platform.python_version(), 'seed': SEED}, fh, indent=1)


if __name__ == '__main__':
    main()
