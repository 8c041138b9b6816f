#!/usr/bin/env python3
"""Writes a random threshold-mode SAE with F = 10 240 features (the dictionary size of the paper's Whisper-small
SAEs) for layer 1 of the bundled toy backbone whisper-tiny-random (d 64), so that a corpus run of the toy model
has a full-size feature map: the e2e measures the map panel's frame time on it (test/e2e/corpus.test.mjs with
AUDIOSAE_E2E_MAP_SAE=<folder>). Random unit-norm decoder, encoder = its transpose, weights that mean nothing.

Given clips of the corpus to be mapped (audio files, whose layer-1 activations it gets from `audiosae activations`,
or such .npy files), b_dec is the activations' mean and each feature's bias puts its threshold at a random
quantile of its projections, so that every feature fires somewhere and few everywhere: the map then has all
10 240 points (without clips, a random encoder on uncentred activations leaves several hundred features dead).
Run from the repository root, after `npm run build`:
  /usr/bin/python3 bench/make_map_sae.py <folder> [clip.wav|acts.npy …]   (Debian python3-torch, python3-numpy)
For the e2e's corpus (written by a first run of the corpus e2e): .e2e/run/workspace/palette-corpus/*/*-0.wav
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

D, F, K = 64, 10240, 32


def activations(audio):
    """Layer-1 activations of the toy backbone for an audio file, through the CLI (run from the repository root)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'acts.npy')
        subprocess.run(['node', 'dist/cli.cjs', 'activations', audio, '--backbone', 'whisper-tiny-random', '--layer', '1',
                        '--out', out], check=True, stdout=subprocess.DEVNULL)
        return np.load(out)


def main(out, *acts_paths):
    torch.manual_seed(0)
    sae = os.path.join(out, 'layer_1')
    os.makedirs(sae, exist_ok=True)
    dec = torch.randn(D, F)
    dec = dec / dec.norm(dim=0, keepdim=True)
    if acts_paths:
        acts = []
        for p in acts_paths:
            a = np.load(p) if p.endswith('.npy') else activations(p)
            if a.ndim != 2 or a.shape[1] != D:
                sys.exit(f'{p}: expected float32 [frames, {D}] activations, got {a.shape}')
            acts.append(torch.from_numpy(a.astype(np.float32)))
        acts = torch.cat(acts)
        b_dec = acts.mean(0)
        # Each feature fires on the frames whose projection passes its own quantile q ~ U(0.3, 0.99): every
        # feature fires somewhere, on 1% to 70% of these frames.
        proj = (acts - b_dec) @ dec
        q = torch.empty(F).uniform_(0.3, 0.99)
        sorted_proj = proj.sort(0).values
        at = (q * (proj.shape[0] - 1)).long()
        bias = -sorted_proj[at, torch.arange(F)]
    else:
        b_dec = torch.zeros(D)
        bias = torch.empty(F).uniform_(-1.0, 0.2)
    torch.save({'encoder.weight': dec.t().clone(), 'encoder.bias': bias, 'decoder.weight': dec, 'b_dec': b_dec,
                'k': torch.tensor(K), 'threshold': torch.tensor(0.0)}, os.path.join(sae, 'ae.pt'))
    with open(os.path.join(sae, 'config.json'), 'w') as f:
        json.dump({'trainer': {'activation_dim': D, 'dict_size': F, 'k': K, 'layer': 1, 'note': 'RANDOM weights, map timing only'}}, f, indent=1)
    print(os.path.join(sae, 'ae.pt'))


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(*sys.argv[1:])
