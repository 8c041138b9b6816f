#!/usr/bin/env python3
"""Writes a real-size random-weight HuBERT-base (Hugging Face layout: conv 512 × 7, d 768, 12 heads, ffn 3072,
layers 1..N, N = 12 by default) and a random BatchTopK SAE per layer (d 768, F 6144, k 50, with a threshold),
for timing corpus runs with the model sizes users meet (bench/corpus.ts). Weights mean nothing.
Run: /usr/bin/python3 bench/make_real_size_hubert.py <folder> [N]   (Debian python3-torch)
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'reference'))
import make_hubert  # noqa: E402
from make_real_size_whisper import write_saes  # noqa: E402


def main(out, layers=12):
    d, F, k = 768, 6144, 50
    make_hubert.C, make_hubert.D, make_hubert.HEADS, make_hubert.FFN, make_hubert.LAYERS = 512, d, 12, 3072, layers
    weights = os.path.join(out, 'hubert-base')
    os.makedirs(weights, exist_ok=True)
    w = make_hubert.make_weights('base-like', 7)
    torch.save({n: t.contiguous() for n, t in w.items()}, os.path.join(weights, 'pytorch_model.bin'))
    with open(os.path.join(weights, 'config.json'), 'w') as f:
        json.dump({'model_type': 'hubert', 'conv_dim': [512] * 7, 'conv_kernel': make_hubert.KERNELS, 'conv_stride': make_hubert.STRIDES,
                   'conv_bias': False, 'feat_extract_norm': 'group', 'feat_proj_layer_norm': True, 'do_stable_layer_norm': False,
                   'layer_norm_eps': make_hubert.EPS, 'num_conv_pos_embeddings': make_hubert.POS_K,
                   'num_conv_pos_embedding_groups': make_hubert.POS_G, 'hidden_size': d, 'num_attention_heads': 12,
                   'intermediate_size': 3072, 'hidden_act': 'gelu', 'num_hidden_layers': layers}, f, indent=1)
    torch.manual_seed(67)
    # Thresholds are calibrated on 10 s of tones and noise so that about k features fire per frame.
    t = torch.arange(160000) / 16000
    audio = 0.3 * torch.sin(2 * torch.pi * (200 + 150 * (t // 3 % 8)) * t) + 0.02 * torch.randn(160000)
    with torch.no_grad():
        per_layer, _ = make_hubert.forward(w, 'base-like', audio)
    write_saes(out, per_layer, d, F, k)
    print(out)


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 12)
