#!/usr/bin/env python3
"""Makes the offline demo's assets in media/demo/.

example.wav  ~12 s, 44.1 kHz stereo: a spoken sentence (espeak-ng), a short melody of pure tones and a noise
             burst, so the demo exercises decoding, mixdown, resampling and the log-mel front end.
models/whisper-tiny-random/, models/hubert-tiny-random/
             tiny backbones in Hugging Face layout (config.json + model.safetensors) with RANDOM weights, the same
             architectures as Whisper and HuBERT at toy sizes, and sae/layer_<n>/{ae.pt, config.json}: a BatchTopK
             SAE per layer (8x expansion, k = 8) with RANDOM weights and no stored threshold. Nothing they show means
             anything; they exist so the full pipeline runs with no network.

Run with Debian's python3 (torch 1.13, numpy), espeak-ng and sox installed:  /usr/bin/python3 test/reference/make_demo_assets.py
"""
import json
import os
import shutil
import subprocess
import tempfile
import wave

import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_hubert  # noqa: E402
from make_whisper import make_weights as whisper_weights, write_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'media', 'demo')
RATE = 44100


def speech(path):
    subprocess.run(['espeak-ng', '-v', 'en-us', '-s', '150', '-w', path,
                    'What does a speech model hear? Sparse features, frame by frame.'], check=True)
    resampled = path + '.44k.wav'
    subprocess.run(['sox', path, '-r', str(RATE), '-c', '1', '-b', '16', resampled], check=True)
    with wave.open(resampled) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(np.float64) / 32768


def melody(rng):
    notes_hz = [261.63, 329.63, 392.00, 523.25, 392.00, 329.63]
    out = []
    for hz in notes_hz:
        t = np.arange(int(0.4 * RATE)) / RATE
        env = np.minimum(1, t / 0.02) * np.exp(-3 * t)
        out.append(0.4 * env * (np.sin(2 * np.pi * hz * t) + 0.3 * np.sin(4 * np.pi * hz * t)))
    return np.concatenate(out)


def write_saes(folder, d, layers, seed, versions):
    """One random BatchTopK SAE per layer (F = 8d, k = 8, threshold -1: batch top-k over the clip)."""
    F, k = 8 * d, 8
    for layer in range(1, layers + 1):
        torch.manual_seed(seed + layer)
        dec = torch.randn(d, F)
        dec = dec / dec.norm(dim=0, keepdim=True)
        state = {'encoder.weight': dec.t().clone(), 'encoder.bias': torch.zeros(F), 'decoder.weight': dec,
                 'b_dec': torch.zeros(d), 'k': torch.tensor(k), 'threshold': torch.tensor(-1.0)}
        os.makedirs(os.path.join(folder, f'layer_{layer}'))
        torch.save(state, os.path.join(folder, f'layer_{layer}', 'ae.pt'))
        with open(os.path.join(folder, f'layer_{layer}', 'config.json'), 'w') as f:
            json.dump({'trainer': {'activation_dim': d, 'dict_size': F, 'k': k, 'layer': layer,
                                   'note': 'RANDOM weights, demo only'}, 'versions': versions}, f, indent=1)


def main():
    os.makedirs(os.path.join(OUT, 'demo-sae'), exist_ok=True)
    rng = np.random.default_rng(20260)
    with tempfile.TemporaryDirectory() as tmp:
        voice = speech(os.path.join(tmp, 'speech.wav'))
    gap = np.zeros(int(0.5 * RATE))
    noise = 0.2 * rng.standard_normal(int(1.5 * RATE)) * np.hanning(int(1.5 * RATE))
    mono = np.concatenate([gap, voice, gap, melody(rng), gap, noise, gap])
    left, right = mono * 0.9, mono * 0.7 + 0.01 * rng.standard_normal(mono.size)
    pcm = np.clip(np.stack([left, right], axis=1) * 32767, -32768, 32767).astype('<i2')
    with wave.open(os.path.join(OUT, 'example.wav'), 'wb') as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())

    shutil.rmtree(os.path.join(OUT, 'demo-sae'), ignore_errors=True)
    shutil.rmtree(os.path.join(OUT, 'models'), ignore_errors=True)
    versions = {'torch': torch.__version__, 'numpy': np.__version__}
    note = 'RANDOM weights: a toy model for the offline demo; its activations and features mean nothing.'

    d, heads, layers, ffn = 64, 4, 3, 128
    folder = os.path.join(OUT, 'models', 'whisper-tiny-random')
    os.makedirs(folder)
    write_safetensors(os.path.join(folder, 'model.safetensors'),
                      {k: v for k, v in whisper_weights(d, heads, layers, ffn, 80, 31).items() if k.startswith('model.encoder.')})
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump({'model_type': 'whisper', 'd_model': d, 'encoder_layers': layers, 'encoder_attention_heads': heads,
                   'encoder_ffn_dim': ffn, 'num_mel_bins': 80, 'max_source_positions': 1500, 'note': note}, f, indent=1)
    write_saes(os.path.join(folder, 'sae'), d, layers, 41, versions)

    folder = os.path.join(OUT, 'models', 'hubert-tiny-random')
    os.makedirs(folder)
    write_safetensors(os.path.join(folder, 'model.safetensors'),
                      {k: v for k, v in make_hubert.make_weights('base-like', 32).items() if k != 'masked_spec_embed'})
    config = {'model_type': 'hubert', 'conv_dim': [make_hubert.C] * 7, 'conv_kernel': make_hubert.KERNELS,
              'conv_stride': make_hubert.STRIDES, 'conv_bias': False, 'feat_extract_norm': 'group', 'feat_proj_layer_norm': True,
              'do_stable_layer_norm': False, 'layer_norm_eps': make_hubert.EPS, 'num_conv_pos_embeddings': make_hubert.POS_K,
              'num_conv_pos_embedding_groups': make_hubert.POS_G, 'hidden_size': make_hubert.D,
              'num_attention_heads': make_hubert.HEADS, 'intermediate_size': make_hubert.FFN, 'hidden_act': 'gelu',
              'num_hidden_layers': make_hubert.LAYERS, 'note': note}
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(config, f, indent=1)
    write_saes(os.path.join(folder, 'sae'), make_hubert.D, make_hubert.LAYERS, 51, versions)
    print('wrote', OUT, 'duration_s', round(mono.size / RATE, 2))


if __name__ == '__main__':
    main()
