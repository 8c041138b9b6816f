#!/usr/bin/env python3
"""Writes the GPU check's models (random weights; they mean nothing): a real-size Whisper-small encoder (d 768,
12 heads, 12 layers, ffn 3072, 80 mel bins) and a real-size HuBERT-base (conv 512 x 7, d 768, 12 heads, 12
layers, ffn 3072, group norm, post-LN blocks), both in Hugging Face layout as model.safetensors, and for each
requested layer a BatchTopK SAE (d 768, F 6144, k 50) whose threshold is calibrated on that layer's
activations over 30 s of tones and noise so that about k features fire per frame, as
bench/make_real_size_whisper.py does. The weight makers and forward passes are the reference generators'
(test/reference/make_whisper.py, make_hubert.py), at real size.
Run: python3 make_models.py OUT [layers, default 6,12]   (torch and numpy)
"""
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
for d in (os.path.join(HERE, 'reference'), os.path.join(HERE, '..', '..', 'test', 'reference')):
    if os.path.isdir(d):
        sys.path.insert(0, d)
import make_hubert  # noqa: E402
from make_whisper import encoder_forward, make_weights, write_safetensors  # noqa: E402
from whisper_frontend import log_mel_window  # noqa: E402

D, HEADS, LAYERS, FFN, F, K = 768, 12, 12, 3072, 6144, 50


def write_sae(folder, acts, layer, seed):
    """A random unit-norm dictionary; the threshold keeps the top k/F of relu(acts @ dec)."""
    os.makedirs(folder, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    dec = torch.randn(D, F, generator=g)
    dec = dec / dec.norm(dim=0, keepdim=True)
    post = torch.relu(acts @ dec)
    threshold = float(torch.quantile(post.flatten()[::97], 1 - K / F))
    torch.save({'encoder.weight': dec.t().clone(), 'encoder.bias': torch.zeros(F), 'decoder.weight': dec,
                'b_dec': torch.zeros(D), 'k': torch.tensor(K), 'threshold': torch.tensor(threshold)}, os.path.join(folder, 'ae.pt'))
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump({'trainer': {'activation_dim': D, 'dict_size': F, 'k': K, 'layer': layer, 'note': 'RANDOM weights'}}, f, indent=1)


def calibration_audio():
    torch.manual_seed(66)
    t = torch.arange(480000) / 16000
    return 0.3 * torch.sin(2 * torch.pi * (200 + 150 * (t // 3 % 8)) * t) + 0.02 * torch.randn(480000)


def whisper(out, layers):
    folder = os.path.join(out, 'whisper-small')
    os.makedirs(folder, exist_ok=True)
    state = {n: t.contiguous() for n, t in make_weights(D, HEADS, LAYERS, FFN, 80, seed=6).items() if n.startswith('model.encoder.')}
    write_safetensors(os.path.join(folder, 'model.safetensors'), state)
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump({'model_type': 'whisper', 'd_model': D, 'encoder_layers': LAYERS, 'encoder_attention_heads': HEADS,
                   'encoder_ffn_dim': FFN, 'num_mel_bins': 80, 'max_source_positions': 1500, 'decoder_layers': 12,
                   'activation_function': 'gelu', 'torch_dtype': 'float32'}, f, indent=1)
    with torch.no_grad():
        per_layer = encoder_forward(state, max(layers), HEADS, log_mel_window(calibration_audio(), 80))[0]
        for layer in layers:
            write_sae(os.path.join(out, 'sae', 'whisper-small', f'layer_{layer}'), per_layer[layer - 1], layer, 100 + layer)


def hubert(out, layers):
    # The reference generator's module constants set to HuBERT-base's sizes; its weight maker and forward read them.
    m = make_hubert
    m.C, m.D, m.HEADS, m.LAYERS, m.FFN = 512, D, HEADS, LAYERS, FFN
    folder = os.path.join(out, 'hubert-base')
    os.makedirs(folder, exist_ok=True)
    w = {n: t for n, t in m.make_weights('base-like', seed=31).items() if n != 'masked_spec_embed'}
    write_safetensors(os.path.join(folder, 'model.safetensors'), w)
    config = {'model_type': 'hubert', 'conv_dim': [m.C] * 7, 'conv_kernel': m.KERNELS, 'conv_stride': m.STRIDES, 'conv_bias': False,
              'feat_extract_norm': 'group', 'feat_proj_layer_norm': True, 'do_stable_layer_norm': False, 'layer_norm_eps': m.EPS,
              'num_conv_pos_embeddings': m.POS_K, 'num_conv_pos_embedding_groups': m.POS_G, 'hidden_size': D,
              'num_attention_heads': HEADS, 'intermediate_size': FFN, 'hidden_act': 'gelu', 'num_hidden_layers': LAYERS}
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(config, f, indent=1)
    with torch.no_grad():
        outs, _ = m.forward(w, 'base-like', calibration_audio())
        for layer in layers:
            write_sae(os.path.join(out, 'sae', 'hubert-base', f'layer_{layer}'), outs[layer - 1], layer, 200 + layer)


if __name__ == '__main__':
    out = sys.argv[1]
    layers = [int(x) for x in (sys.argv[2] if len(sys.argv) > 2 else '6,12').split(',')]
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    t = time.time()
    whisper(out, layers)
    print(f'whisper-small and its SAEs: {time.time() - t:.1f} s', flush=True)
    t = time.time()
    hubert(out, layers)
    print(f'hubert-base and its SAEs: {time.time() - t:.1f} s', flush=True)
