#!/usr/bin/env python3
"""Makes fixtures/profile-sae/: an SAE for the bundled toy backbone whisper-tiny-random whose feature 0 fires on
high-pitched tones of the design corpus (fixtures/design-corpus, made by make_design_corpus.py) and nowhere else,
for the acoustic-profile check (test/integration/corpusProfile.test.ts): `audiosae corpus profile` must describe
it as high-pitched (F0 in the fifth octave), voiced and tonal.

The high-pitched tones are the corpus's sine scale music/m4_scale-sine.wav: sox sine notes C5..B5 (523-988 Hz),
0.3 s each. Feature 0 is built as make_design_corpus.py builds its domain features (its helpers are imported):
a unit encoder row from a weighted logistic regression of "frame is in the scale clip" on the layer's
activations (taken with the project's CLI, so `npm run build` first), and a cut at least a margin above the
largest projection of every frame of every other clip, so it cannot fire outside the scale; threshold mode
with b_dec = 0. Feature 1 is dead (zero row, bias -1). The first layer (1..3) where the feature fires on at
least half of the scale's frames is used. expected.json: the layer, the frames where it fires (numpy, float64)
and the notes' frequencies.

Run: /usr/bin/python3 test/reference/make_profile_sae.py   (Debian python3-torch 1.13, numpy; node and dist/cli.cjs)
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_design_corpus as design  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, 'fixtures', 'design-corpus')
OUT = os.path.join(HERE, 'fixtures', 'profile-sae')
TONES = 'music/m4_scale-sine.wav'
NOTES_HZ = [523.25, 587.33, 659.26, 698.46, 783.99, 880.0, 987.77]  # C5 D5 E5 F5 G5 A5 B5
F = 2


def main():
    design.DEST = CORPUS  # list the committed corpus
    clips = [(os.path.join(CORPUS, rel), rel) for rel, _ in design.list_clips()]
    with tempfile.TemporaryDirectory() as tmp:
        acts = design.activations([(path, None) for path, _ in clips], tmp)
    rels = [rel for _, rel in clips]
    tones = rels.index(TONES)
    for layer in design.LAYERS:
        per_clip = [a.astype(np.float64) for a in acts[layer]]
        X = np.concatenate(per_clip)
        frame_clip = np.concatenate([np.full(a.shape[0], i) for i, a in enumerate(per_clip)])
        positive = frame_clip == tones
        w = design.weighted_logistic_direction(X, positive)
        s = X @ w
        margin = max(1e-3, 1e-3 * s.std())
        c = design.place_cut(s, ~positive, margin)
        fires = s > c
        share = fires[positive].mean()
        print(f'layer {layer}: fires on {int(fires[positive].sum())}/{int(positive.sum())} frames of the scale, {int(fires[~positive].sum())} elsewhere')
        if share >= 0.5 and not fires[~positive].any():
            break
    else:
        sys.exit('no layer separates the scale clip well enough')
    W = np.zeros((F, design.D))
    b = np.array([design.THRESHOLD - c, -1.0])
    W[0] = w
    dec = W.T.copy()
    dec[:, 1] = np.eye(design.D)[1]
    state = {
        'encoder.weight': torch.from_numpy(W.astype(np.float32)),
        'encoder.bias': torch.from_numpy(b.astype(np.float32)),
        'decoder.weight': torch.from_numpy(dec.astype(np.float32)),
        'b_dec': torch.zeros(design.D),
        'k': torch.tensor(1),
        'threshold': torch.tensor(design.THRESHOLD),
    }
    shutil.rmtree(OUT, ignore_errors=True)
    folder = os.path.join(OUT, f'layer_{layer}')
    os.makedirs(folder)
    torch.save(state, os.path.join(folder, 'ae.pt'))
    # From the float32 weights as saved: the frames where feature 0 fires, checked against torch.
    W32, b32 = state['encoder.weight'].double().numpy(), state['encoder.bias'].double().numpy()
    codes = design.codes(X, W32, b32, design.THRESHOLD)
    design.check_with_torch(os.path.join(folder, 'ae.pt'), X, codes > 0)
    active = codes[:, 0] > 0
    if active[~positive].any() or not active[positive].any():
        sys.exit('float32 weights: feature 0 fires outside the scale clip, or not in it')
    versions = {'torch': torch.__version__, 'numpy': np.__version__}
    with open(os.path.join(folder, 'config.json'), 'w') as fh:
        json.dump({'trainer': {'activation_dim': design.D, 'dict_size': F, 'k': 1, 'layer': layer,
                               'note': 'built by hand from the design corpus (make_profile_sae.py), not trained',
                               'features': ['high-pitched tones', 'dead']}, 'versions': versions}, fh, indent=1)
    with open(os.path.join(OUT, 'expected.json'), 'w') as fh:
        json.dump({'layer': layer, 'feature': 0, 'clip': TONES, 'notes_hz': NOTES_HZ,
                   'active_frames': np.flatnonzero(active[frame_clip == tones]).tolist(),
                   'clip_frames': int(positive.sum()), 'versions': versions}, fh, indent=1)
    print('wrote', OUT, f'layer {layer}: feature 0 fires on {int(active.sum())} frames of {TONES}')


if __name__ == '__main__':
    main()
