#!/usr/bin/env python3
"""Makes tiny random-weight Whisper encoders in Hugging Face layout and their reference activations.

Variants (fixtures/whisper/<variant>/):
  small-like: d_model 64, 4 heads, 3 layers, ffn 128, 80 mel bins    (model.safetensors, float32)
  v3-like:    d_model 64, 4 heads, 3 layers, ffn 128, 128 mel bins   (model.safetensors float16 + pytorch_model.bin)
Each holds config.json (WhisperConfig names), the weights (encoder and a few decoder tensors that must be
ignored, e.g. model.decoder.layers.0.encoder_attn.k_proj.weight), inputs/<i>.f32 log-mel inputs
[n_mels, 3000], and ref/<i>.layer<n>.f32 the output of block n ([1500, d], before ln_post) plus
ref/<i>.final.f32 (after ln_post), computed by a forward pass written after openai-whisper's model.py
(AudioEncoder, ResidualAttentionBlock, MultiHeadAttention), in float32 from the stored (possibly float16) weights.
Run: /usr/bin/python3 test/reference/make_whisper.py   (Debian python3-torch 1.13)
"""
import json
import os
import shutil
import struct

import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from whisper_frontend import WINDOW, log_mel  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'whisper')


def sinusoids(length, channels, max_timescale=10000):
    """Whisper's positional embedding table."""
    log_timescale_increment = np.log(max_timescale) / (channels // 2 - 1)
    inv_timescales = torch.exp(-log_timescale_increment * torch.arange(channels // 2))
    scaled_time = torch.arange(length)[:, np.newaxis] * inv_timescales[np.newaxis, :]
    return torch.cat([torch.sin(scaled_time), torch.cos(scaled_time)], dim=1)


def make_weights(d, heads, layers, ffn, n_mels, seed):
    g = torch.Generator().manual_seed(seed)
    r = lambda *shape, s=0.1: (torch.randn(*shape, generator=g) * s)  # noqa: E731
    w = {
        'model.encoder.conv1.weight': r(d, n_mels, 3, s=0.2), 'model.encoder.conv1.bias': r(d),
        'model.encoder.conv2.weight': r(d, d, 3, s=0.1), 'model.encoder.conv2.bias': r(d),
        'model.encoder.embed_positions.weight': sinusoids(1500, d),
        'model.encoder.layer_norm.weight': 1 + r(d), 'model.encoder.layer_norm.bias': r(d),
    }
    for i in range(layers):
        p = f'model.encoder.layers.{i}.'
        for name in ('q_proj', 'v_proj', 'out_proj'):
            w[p + f'self_attn.{name}.weight'] = r(d, d, s=d ** -0.5)
            w[p + f'self_attn.{name}.bias'] = r(d)
        w[p + 'self_attn.k_proj.weight'] = r(d, d, s=d ** -0.5)
        w[p + 'self_attn_layer_norm.weight'] = 1 + r(d)
        w[p + 'self_attn_layer_norm.bias'] = r(d)
        w[p + 'fc1.weight'] = r(ffn, d, s=d ** -0.5)
        w[p + 'fc1.bias'] = r(ffn)
        w[p + 'fc2.weight'] = r(d, ffn, s=ffn ** -0.5)
        w[p + 'fc2.bias'] = r(d)
        w[p + 'final_layer_norm.weight'] = 1 + r(d)
        w[p + 'final_layer_norm.bias'] = r(d)
    # Decoder tensors whose names contain "encoder": a reader must skip them.
    w['model.decoder.layers.0.encoder_attn.k_proj.weight'] = r(d, d)
    w['model.decoder.layers.0.encoder_attn.q_proj.weight'] = r(d, d)
    w['model.decoder.embed_tokens.weight'] = r(50, d)
    return w


def layer_norm(x, w, b):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps=1e-5)


def encoder_forward(w, n_layers, heads, mel):
    """openai-whisper AudioEncoder.forward on one [n_mels, 3000] input; returns block outputs and ln_post."""
    x = mel[None]
    x = F.gelu(F.conv1d(x, w['model.encoder.conv1.weight'], w['model.encoder.conv1.bias'], padding=1))
    x = F.gelu(F.conv1d(x, w['model.encoder.conv2.weight'], w['model.encoder.conv2.bias'], stride=2, padding=1))
    x = x.permute(0, 2, 1)
    x = x + w['model.encoder.embed_positions.weight']
    outs = []
    for i in range(n_layers):
        p = f'model.encoder.layers.{i}.'
        h = layer_norm(x, w[p + 'self_attn_layer_norm.weight'], w[p + 'self_attn_layer_norm.bias'])
        q = F.linear(h, w[p + 'self_attn.q_proj.weight'], w[p + 'self_attn.q_proj.bias'])
        k = F.linear(h, w[p + 'self_attn.k_proj.weight'])
        v = F.linear(h, w[p + 'self_attn.v_proj.weight'], w[p + 'self_attn.v_proj.bias'])
        n_batch, n_ctx, n_state = q.shape
        scale = (n_state // heads) ** -0.25
        q = q.view(*q.shape[:2], heads, -1).permute(0, 2, 1, 3) * scale
        k = k.view(*k.shape[:2], heads, -1).permute(0, 2, 3, 1) * scale
        v = v.view(*v.shape[:2], heads, -1).permute(0, 2, 1, 3)
        wts = (q @ k).float().softmax(dim=-1)
        a = (wts @ v).permute(0, 2, 1, 3).flatten(start_dim=2)
        x = x + F.linear(a, w[p + 'self_attn.out_proj.weight'], w[p + 'self_attn.out_proj.bias'])
        h = layer_norm(x, w[p + 'final_layer_norm.weight'], w[p + 'final_layer_norm.bias'])
        h = F.linear(F.gelu(F.linear(h, w[p + 'fc1.weight'], w[p + 'fc1.bias'])), w[p + 'fc2.weight'], w[p + 'fc2.bias'])
        x = x + h
        outs.append(x[0].clone())
    final = layer_norm(x, w['model.encoder.layer_norm.weight'], w['model.encoder.layer_norm.bias'])[0]
    return outs, final


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    items = list(tensors.items())
    for name, t in reversed(items):  # data order differs from header order on purpose
        raw = t.contiguous().numpy().tobytes()
        header[name] = {'dtype': {torch.float32: 'F32', torch.float16: 'F16'}[t.dtype], 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header['__metadata__'] = {'format': 'pt'}
    text = json.dumps(header).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    d, heads, layers, ffn = 64, 4, 3, 128
    for variant, n_mels, seed, half in (('small-like', 80, 11, False), ('v3-like', 128, 12, True)):
        folder = os.path.join(OUT, variant)
        os.makedirs(os.path.join(folder, 'inputs'))
        os.makedirs(os.path.join(folder, 'ref'))
        w = make_weights(d, heads, layers, ffn, n_mels, seed)
        stored = {k: v.half() for k, v in w.items()} if half else w
        write_safetensors(os.path.join(folder, 'model.safetensors'), stored)
        if half:
            torch.save({k: v.clone() for k, v in stored.items()}, os.path.join(folder, 'pytorch_model.bin'))
        config = {'model_type': 'whisper', 'd_model': d, 'encoder_layers': layers, 'encoder_attention_heads': heads,
                  'encoder_ffn_dim': ffn, 'num_mel_bins': n_mels, 'max_source_positions': 1500,
                  'decoder_layers': 1, 'activation_function': 'gelu', 'torch_dtype': 'float16' if half else 'float32'}
        with open(os.path.join(folder, 'config.json'), 'w') as f:
            json.dump(config, f, indent=1)
        w32 = {k: v.float() for k, v in stored.items()}  # the reference computes from what is stored
        g = torch.Generator().manual_seed(seed + 100)
        inputs = [torch.clamp(torch.randn(n_mels, 3000, generator=g) * 0.5 - 0.3, -1.5, 1.5)]
        if variant == 'small-like':
            t = torch.arange(3000) / 100
            inputs.append(torch.sin(t[None, :] * torch.arange(1, n_mels + 1)[:, None] * 0.3) * 0.8)
        for i, mel in enumerate(inputs):
            mel.numpy().astype('<f4').tofile(os.path.join(folder, 'inputs', f'{i}.f32'))
            with torch.no_grad():
                outs, final = encoder_forward(w32, layers, heads, mel)
            for n, o in enumerate(outs, start=1):
                o.numpy().astype('<f4').tofile(os.path.join(folder, 'ref', f'{i}.layer{n}.f32'))
            final.numpy().astype('<f4').tofile(os.path.join(folder, 'ref', f'{i}.final.f32'))
    # The small-like weights again, sharded in two files with a model.safetensors.index.json, as large models ship.
    sharded = os.path.join(OUT, 'small-like-sharded')
    os.makedirs(sharded)
    shutil.copy(os.path.join(OUT, 'small-like', 'config.json'), sharded)
    w = make_weights(d, heads, layers, ffn, 80, 11)
    names = sorted(w)
    halves = {'model-00001-of-00002.safetensors': names[: len(names) // 2], 'model-00002-of-00002.safetensors': names[len(names) // 2:]}
    weight_map = {}
    for shard, keys in halves.items():
        write_safetensors(os.path.join(sharded, shard), {k: w[k] for k in keys})
        weight_map.update({k: shard for k in keys})
    with open(os.path.join(sharded, 'model.safetensors.index.json'), 'w') as f:
        json.dump({'metadata': {'total_size': 0}, 'weight_map': weight_map}, f, indent=1)

    # End to end on audio (small-like, layer 2): per 30 s window log-mel → encoder → keep ceil(real / 320) frames.
    folder = os.path.join(OUT, 'small-like')
    w = {k: v.float() for k, v in make_weights(d, heads, layers, ffn, 80, 11).items()}
    g = torch.Generator().manual_seed(77)
    os.makedirs(os.path.join(folder, 'clips'))
    for name, seconds in (('odd_3_37s', 3.37), ('long_31_3s', 31.3)):
        n = int(seconds * 16000)
        t = torch.arange(n) / 16000
        audio = (0.3 * torch.sin(2 * np.pi * 200 * t * (1 + 0.1 * torch.sin(t))) + 0.05 * torch.randn(n, generator=g)).float()
        audio.numpy().astype('<f4').tofile(os.path.join(folder, 'clips', f'{name}.f32'))
        frames = []
        for start in range(0, n, WINDOW):
            chunk = audio[start:start + WINDOW].double()
            mel = log_mel(chunk, 80, dtype=torch.float64).float()
            with torch.no_grad():
                outs, _ = encoder_forward(w, layers, heads, mel)
            frames.append(outs[1][: -(-chunk.shape[0] // 320)])
        torch.cat(frames).numpy().astype('<f4').tofile(os.path.join(folder, 'clips', f'{name}.layer2.f32'))
    with open(os.path.join(OUT, 'VERSIONS.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'numpy': np.__version__, 'seeds': [11, 12]}, f, indent=1)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
