#!/usr/bin/env python3
"""Makes the SAE fixtures in fixtures/sae/: BatchTopK SAEs saved with torch.save in the reference state-dict
layout (saprmarks/dictionary_learning BatchTopKSAE: encoder, decoder with unit-norm columns, b_dec, k,
threshold), activations, and PyTorch reference codes, reconstructions and metrics.

<case>/ae.pt, <case>/config.json, <case>/acts.npy [n, d] float32
<case>/codes_threshold.npy, recon_threshold.npy (when a threshold >= 0 is stored)
<case>/codes_batchtopk.npy, recon_batchtopk.npy
<case>/metrics.json: every metric of reference doc §4 per mode, computed in float64 with numpy
Run: /usr/bin/python3 test/reference/make_sae.py   (Debian python3-torch 1.13, numpy)
"""
import json
import os
import shutil

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'sae')


def make_sae(d, F, k, k_dtype, threshold, seed):
    g = torch.Generator().manual_seed(seed)
    dec = torch.randn(d, F, generator=g)
    dec = dec / dec.norm(dim=0, keepdim=True)
    state = {
        'encoder.weight': dec.t().clone() + 0.1 * torch.randn(F, d, generator=g),
        'encoder.bias': 0.05 * torch.randn(F, generator=g),
        'decoder.weight': dec,
        'b_dec': 0.1 * torch.randn(d, generator=g),
        'k': torch.tensor(k, dtype=k_dtype),
    }
    if threshold is not None:
        state['threshold'] = torch.tensor(float(threshold))
    return state


def encode(state, x, mode):
    """BatchTopKSAE.encode from dictionary_learning, on [n, d] input."""
    post = torch.relu((x - state['b_dec']) @ state['encoder.weight'].t() + state['encoder.bias'])
    if mode == 'threshold':
        return post * (post > state['threshold'])
    flat = post.flatten()
    top = flat.topk(int(state['k']) * x.size(0), sorted=False, dim=-1)
    return torch.zeros_like(flat).scatter_(-1, top.indices, top.values).reshape(post.shape)


def decode(state, f):
    return f @ state['decoder.weight'].t() + state['b_dec']


def metrics(x, xh, f):
    x, xh, f = (a.double().numpy() for a in (x, xh, f))
    err = x - xh
    e2 = (err ** 2).sum(1)
    xn = np.linalg.norm(x, axis=1)
    rn = np.linalg.norm(xh, axis=1)
    ok = xn > 0
    return {
        'l0': float((f != 0).sum(1).mean()),
        'mse': float(e2.mean()),
        'l2': float(np.sqrt(e2).mean()),
        'normalizedL2': float((np.sqrt(e2)[ok] / xn[ok]).mean()),
        'nmse': float(e2.sum() / (x ** 2).sum()),
        'fve': float(1 - err.var(axis=0).sum() / x.var(axis=0).sum()),
        'cosine': float(((x * xh).sum(1)[ok] / (xn[ok] * rn[ok])).mean()),
        'normRatio': float((rn[ok] / xn[ok]).mean()),
        'aliveFraction': float((f != 0).any(0).mean()),
        'frames': int(x.shape[0]),
    }


def write_case(name, state, config, acts):
    folder = os.path.join(OUT, name)
    os.makedirs(folder)
    torch.save(state, os.path.join(folder, 'ae.pt'))
    with open(os.path.join(folder, 'config.json'), 'w') as fh:
        json.dump(config, fh, indent=1)
    np.save(os.path.join(folder, 'acts.npy'), acts.numpy().astype(np.float32))
    result = {}
    modes = ['batchtopk'] + (['threshold'] if 'threshold' in state and float(state['threshold']) >= 0 else [])
    for mode in modes:
        with torch.no_grad():
            f = encode(state, acts, 'threshold' if mode == 'threshold' else 'batchtopk')
            xh = decode(state, f)
        np.save(os.path.join(folder, f'codes_{mode}.npy'), f.numpy().astype(np.float32))
        np.save(os.path.join(folder, f'recon_{mode}.npy'), xh.numpy().astype(np.float32))
        result[mode] = metrics(acts, xh, f)
        if mode == 'threshold':
            result[mode]['max_active_per_frame'] = int((f != 0).sum(1).max())
    with open(os.path.join(folder, 'metrics.json'), 'w') as fh:
        json.dump(result, fh, indent=1)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    g = torch.Generator().manual_seed(99)

    # A: threshold stored, low enough that some frames have more than k features above it.
    state = make_sae(16, 128, 4, torch.int64, None, 1)
    acts = torch.randn(40, 16, generator=g) * 1.5
    acts[5] = 0  # a silent frame: no direction, skipped by the per-frame ratios
    post = torch.relu((acts - state['b_dec']) @ state['encoder.weight'].t() + state['encoder.bias'])
    state['threshold'] = torch.quantile(post[post > 0], 0.93).reshape(())
    write_case('threshold_k4', state, {'activation_dim': 16, 'dict_size': 128, 'k': 4}, acts)

    # B: threshold −1 (never set): auto must fall back to batch top-k. k stored as int32, config under "trainer".
    state = make_sae(32, 256, 8, torch.int32, -1.0, 2)
    acts = torch.randn(30, 32, generator=g)
    write_case('no_threshold_k8', state, {'trainer': {'activation_dim': 32, 'dict_size': 256, 'k': 8, 'lr': 1e-4}}, acts)

    # C: config that does not match the weights.
    state = make_sae(16, 128, 4, torch.int64, 0.1, 3)
    write_case('config_mismatch', state, {'trainer': {'activation_dim': 16, 'dict_size': 64, 'k': 4}}, torch.randn(4, 16, generator=g))

    with open(os.path.join(OUT, 'VERSIONS.json'), 'w') as fh:
        json.dump({'torch': torch.__version__, 'numpy': np.__version__, 'seeds': [1, 2, 3, 99]}, fh, indent=1)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
