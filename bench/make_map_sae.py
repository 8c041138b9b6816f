#!/usr/bin/env python3
"""Writes a random threshold-mode SAE with F = 10 240 features (the dictionary size of the paper's Whisper-small
SAEs) for layer 1 of the bundled toy backbone whisper-tiny-random (d 64), so that a corpus run of the toy model
has a full-size feature map: the e2e measures the map panel's frame time on it (test/e2e/corpus.test.mjs with
AUDIOSAE_E2E_MAP_SAE=<folder>). Random unit-norm decoder, encoder = its transpose, a bias spread so that most
features fire somewhere and few everywhere. Weights mean nothing.
Run: /usr/bin/python3 bench/make_map_sae.py <folder>   (Debian python3-torch)
"""
import json
import os
import sys

import torch

D, F, K = 64, 10240, 32


def main(out):
    torch.manual_seed(0)
    sae = os.path.join(out, 'layer_1')
    os.makedirs(sae, exist_ok=True)
    dec = torch.randn(D, F)
    dec = dec / dec.norm(dim=0, keepdim=True)
    bias = torch.empty(F).uniform_(-1.0, 0.2)
    torch.save({'encoder.weight': dec.t().clone(), 'encoder.bias': bias, 'decoder.weight': dec, 'b_dec': torch.zeros(D),
                'k': torch.tensor(K), 'threshold': torch.tensor(0.0)}, os.path.join(sae, 'ae.pt'))
    with open(os.path.join(sae, 'config.json'), 'w') as f:
        json.dump({'trainer': {'activation_dim': D, 'dict_size': F, 'k': K, 'layer': 1, 'note': 'RANDOM weights, map timing only'}}, f, indent=1)
    print(os.path.join(sae, 'ae.pt'))


if __name__ == '__main__':
    main(sys.argv[1])
