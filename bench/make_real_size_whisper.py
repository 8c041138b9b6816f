#!/usr/bin/env python3
"""Writes a real-size random-weight Whisper-small encoder (Hugging Face layout, layers 1..N, N = 6 by default:
the editor measurement runs layer 6) and a random BatchTopK SAE for each of its layers (d 768, F 6144, k 50, with
a threshold), for timing the editor and corpus runs with model sizes users meet (test/e2e/run.mjs with
AUDIOSAE_E2E_REAL_SIZE=<folder>, bench/corpus.mjs). Weights mean nothing.
Run: /usr/bin/python3 bench/make_real_size_whisper.py <folder> [N]   (Debian python3-torch)
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'reference'))
from make_whisper import encoder_forward, make_weights  # noqa: E402
from whisper_frontend import log_mel_window  # noqa: E402


def write_saes(out, per_layer, d, F, k):
    """A random BatchTopK SAE per layer (unit-norm random decoder, encoder = its transpose) whose threshold is
    calibrated on that layer's activations so that about k features fire per frame."""
    for layer in range(1, len(per_layer) + 1):
        sae = os.path.join(out, 'sae', f'layer_{layer}')
        os.makedirs(sae, exist_ok=True)
        dec = torch.randn(d, F)
        dec = dec / dec.norm(dim=0, keepdim=True)
        with torch.no_grad():
            post = torch.relu(per_layer[layer - 1] @ dec)
        threshold = float(torch.quantile(post.flatten()[::97], 1 - k / F))
        torch.save({'encoder.weight': dec.t().clone(), 'encoder.bias': torch.zeros(F), 'decoder.weight': dec,
                    'b_dec': torch.zeros(d), 'k': torch.tensor(k), 'threshold': torch.tensor(threshold)}, os.path.join(sae, 'ae.pt'))
        with open(os.path.join(sae, 'config.json'), 'w') as f:
            json.dump({'trainer': {'activation_dim': d, 'dict_size': F, 'k': k, 'layer': layer, 'note': 'RANDOM weights'}}, f, indent=1)


def main(out, layers=6):
    d, heads, ffn, F, k = 768, 12, 3072, 6144, 50
    weights = os.path.join(out, 'whisper-small')
    os.makedirs(weights, exist_ok=True)
    state = {n: t.contiguous() for n, t in make_weights(d, heads, layers, ffn, 80, seed=6).items() if n.startswith('model.encoder.')}
    torch.save(state, os.path.join(weights, 'pytorch_model.bin'))
    with open(os.path.join(weights, 'config.json'), 'w') as f:
        json.dump({'model_type': 'whisper', 'd_model': d, 'encoder_layers': layers, 'encoder_attention_heads': heads,
                   'encoder_ffn_dim': ffn, 'num_mel_bins': 80, 'max_source_positions': 1500, 'decoder_layers': 12,
                   'activation_function': 'gelu', 'torch_dtype': 'float32'}, f, indent=1)
    torch.manual_seed(66)
    # Thresholds are calibrated on 30 s of tones and noise so that about k features fire per frame.
    t = torch.arange(480000) / 16000
    audio = 0.3 * torch.sin(2 * torch.pi * (200 + 150 * (t // 3 % 8)) * t) + 0.02 * torch.randn(480000)
    with torch.no_grad():
        per_layer = encoder_forward(state, layers, heads, log_mel_window(audio, 80))[0]
    write_saes(out, per_layer, d, F, k)
    print(out)


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 6)
