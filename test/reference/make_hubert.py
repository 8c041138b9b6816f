#!/usr/bin/env python3
"""Makes tiny random-weight HuBERT models in Hugging Face layout and their reference activations.

Variants (fixtures/hubert/<variant>/):
  base-like:  feat_extract_norm "group" (GroupNorm on conv 0 only, no conv bias), post-LN blocks, encoder
              layer_norm right after the positions; weight norm stored as weight_g / weight_v; model.safetensors
  large-like: feat_extract_norm "layer" (LayerNorm after every conv, conv bias), pre-LN ("stable") blocks,
              encoder layer_norm after the last block; weight norm stored as parametrizations.weight.original0/1;
              pytorch_model.bin (torch.save)
Both: conv_dim 32, real kernels/strides (10,3,3,3,3,2,2 / 5,2,2,2,2,2,2), hidden 64, 4 heads, 3 layers, ffn 128,
positional conv kernel 128 / 16 groups, masked_spec_embed present (to be skipped).
inputs/<name>.f32 waveforms (1 s, 1.37 s, 2.5 s at 16 kHz); ref/<name>.layer<n>.f32 block outputs [T, 64];
ref/<name>.final.f32 the last block after encoder.layer_norm (large-like); ref/norm.layer3.f32 with the input
normalised to zero mean and unit variance first. The forward pass is written after transformers'
modeling_hubert.py (HubertModel), layer by layer.
Run: /usr/bin/python3 test/reference/make_hubert.py   (Debian python3-torch 1.13)
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_whisper import write_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'hubert')
KERNELS, STRIDES = [10, 3, 3, 3, 3, 2, 2], [5, 2, 2, 2, 2, 2, 2]
C, D, HEADS, LAYERS, FFN, POS_K, POS_G, EPS = 32, 64, 4, 3, 128, 128, 16, 1e-5


def make_weights(variant, seed):
    g = torch.Generator().manual_seed(seed)
    r = lambda *shape, s=0.1: torch.randn(*shape, generator=g) * s  # noqa: E731
    w = {}
    for i, k in enumerate(KERNELS):
        cin = 1 if i == 0 else C
        w[f'feature_extractor.conv_layers.{i}.conv.weight'] = r(C, cin, k, s=(cin * k) ** -0.5)
        if variant == 'large-like':
            w[f'feature_extractor.conv_layers.{i}.conv.bias'] = r(C)
            w[f'feature_extractor.conv_layers.{i}.layer_norm.weight'] = 1 + r(C)
            w[f'feature_extractor.conv_layers.{i}.layer_norm.bias'] = r(C)
    if variant == 'base-like':
        w['feature_extractor.conv_layers.0.layer_norm.weight'] = 1 + r(C)
        w['feature_extractor.conv_layers.0.layer_norm.bias'] = r(C)
    w['feature_projection.layer_norm.weight'] = 1 + r(C)
    w['feature_projection.layer_norm.bias'] = r(C)
    w['feature_projection.projection.weight'] = r(D, C, s=C ** -0.5)
    w['feature_projection.projection.bias'] = r(D)
    v = r(D, D // POS_G, POS_K, s=0.05)
    gain = 0.5 + torch.rand(1, 1, POS_K, generator=g)
    if variant == 'base-like':
        w['encoder.pos_conv_embed.conv.weight_g'] = gain
        w['encoder.pos_conv_embed.conv.weight_v'] = v
    else:
        w['encoder.pos_conv_embed.conv.parametrizations.weight.original0'] = gain
        w['encoder.pos_conv_embed.conv.parametrizations.weight.original1'] = v
    w['encoder.pos_conv_embed.conv.bias'] = r(D)
    w['encoder.layer_norm.weight'] = 1 + r(D)
    w['encoder.layer_norm.bias'] = r(D)
    for i in range(LAYERS):
        p = f'encoder.layers.{i}.'
        for name in ('q_proj', 'k_proj', 'v_proj', 'out_proj'):
            w[p + f'attention.{name}.weight'] = r(D, D, s=D ** -0.5)
            w[p + f'attention.{name}.bias'] = r(D)
        w[p + 'layer_norm.weight'] = 1 + r(D)
        w[p + 'layer_norm.bias'] = r(D)
        w[p + 'feed_forward.intermediate_dense.weight'] = r(FFN, D, s=D ** -0.5)
        w[p + 'feed_forward.intermediate_dense.bias'] = r(FFN)
        w[p + 'feed_forward.output_dense.weight'] = r(D, FFN, s=FFN ** -0.5)
        w[p + 'feed_forward.output_dense.bias'] = r(D)
        w[p + 'final_layer_norm.weight'] = 1 + r(D)
        w[p + 'final_layer_norm.bias'] = r(D)
    w['masked_spec_embed'] = r(D)
    return w


def attention(x, w, p):
    """HubertAttention: q scaled by head_dim^-0.5, softmax, weighted values, out_proj."""
    b, t, d = x.shape
    hd = d // HEADS
    q = F.linear(x, w[p + 'q_proj.weight'], w[p + 'q_proj.bias']) * hd ** -0.5
    k = F.linear(x, w[p + 'k_proj.weight'], w[p + 'k_proj.bias'])
    v = F.linear(x, w[p + 'v_proj.weight'], w[p + 'v_proj.bias'])
    shape = lambda z: z.view(b, t, HEADS, hd).transpose(1, 2)  # noqa: E731
    attn = torch.softmax(shape(q) @ shape(k).transpose(2, 3), dim=-1)
    out = (attn @ shape(v)).transpose(1, 2).reshape(b, t, d)
    return F.linear(out, w[p + 'out_proj.weight'], w[p + 'out_proj.bias'])


def feed_forward(x, w, p):
    return F.linear(F.gelu(F.linear(x, w[p + 'intermediate_dense.weight'], w[p + 'intermediate_dense.bias'])),
                    w[p + 'output_dense.weight'], w[p + 'output_dense.bias'])


def forward(w, variant, wave, normalize=False):
    if normalize:  # Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm
        wave = (wave - wave.mean()) / torch.sqrt(wave.var() + 1e-7)
    x = wave[None, None]
    for i, (k, s) in enumerate(zip(KERNELS, STRIDES)):
        x = F.conv1d(x, w[f'feature_extractor.conv_layers.{i}.conv.weight'], w.get(f'feature_extractor.conv_layers.{i}.conv.bias'), stride=s)
        if variant == 'base-like' and i == 0:
            x = F.group_norm(x, C, w['feature_extractor.conv_layers.0.layer_norm.weight'], w['feature_extractor.conv_layers.0.layer_norm.bias'], eps=1e-5)
        elif variant == 'large-like':
            x = F.layer_norm(x.transpose(-2, -1), (C,), w[f'feature_extractor.conv_layers.{i}.layer_norm.weight'],
                             w[f'feature_extractor.conv_layers.{i}.layer_norm.bias'], eps=1e-5).transpose(-2, -1)
        x = F.gelu(x)
    x = x.transpose(1, 2)
    x = F.layer_norm(x, (C,), w['feature_projection.layer_norm.weight'], w['feature_projection.layer_norm.bias'], eps=EPS)
    x = F.linear(x, w['feature_projection.projection.weight'], w['feature_projection.projection.bias'])
    # HubertPositionalConvEmbedding with weight_norm(dim=2): norm over every dim except 2
    g_ = w.get('encoder.pos_conv_embed.conv.weight_g', w.get('encoder.pos_conv_embed.conv.parametrizations.weight.original0'))
    v_ = w.get('encoder.pos_conv_embed.conv.weight_v', w.get('encoder.pos_conv_embed.conv.parametrizations.weight.original1'))
    weight = torch._weight_norm(v_, g_, dim=2)
    pos = F.conv1d(x.transpose(1, 2), weight, w['encoder.pos_conv_embed.conv.bias'], padding=POS_K // 2, groups=POS_G)
    pos = F.gelu(pos[:, :, :-1] if POS_K % 2 == 0 else pos).transpose(1, 2)
    x = x + pos
    outs = []
    if variant == 'base-like':
        x = F.layer_norm(x, (D,), w['encoder.layer_norm.weight'], w['encoder.layer_norm.bias'], eps=EPS)
        for i in range(LAYERS):
            p = f'encoder.layers.{i}.'
            x = F.layer_norm(x + attention(x, w, p + 'attention.'), (D,), w[p + 'layer_norm.weight'], w[p + 'layer_norm.bias'], eps=EPS)
            x = F.layer_norm(x + feed_forward(x, w, p + 'feed_forward.'), (D,), w[p + 'final_layer_norm.weight'], w[p + 'final_layer_norm.bias'], eps=EPS)
            outs.append(x[0].clone())
        return outs, None
    for i in range(LAYERS):
        p = f'encoder.layers.{i}.'
        x = x + attention(F.layer_norm(x, (D,), w[p + 'layer_norm.weight'], w[p + 'layer_norm.bias'], eps=EPS), w, p + 'attention.')
        x = x + feed_forward(F.layer_norm(x, (D,), w[p + 'final_layer_norm.weight'], w[p + 'final_layer_norm.bias'], eps=EPS), w, p + 'feed_forward.')
        outs.append(x[0].clone())
    return outs, F.layer_norm(x, (D,), w['encoder.layer_norm.weight'], w['encoder.layer_norm.bias'], eps=EPS)[0]


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    g = torch.Generator().manual_seed(5)
    t = lambda s: torch.arange(int(s * 16000)) / 16000  # noqa: E731
    waves = {
        'one_second': 0.3 * torch.sin(2 * np.pi * 220 * t(1.0)) + 0.05 * torch.randn(16000, generator=g),
        'odd_length': 0.2 * torch.randn(int(1.37 * 16000), generator=g),
        'long': 0.3 * torch.sin(2 * np.pi * 150 * t(2.5) * (1 + t(2.5))) + 0.02 * torch.randn(40000, generator=g),
    }
    for variant, seed in (('base-like', 21), ('large-like', 22)):
        folder = os.path.join(OUT, variant)
        os.makedirs(os.path.join(folder, 'inputs'))
        os.makedirs(os.path.join(folder, 'ref'))
        w = make_weights(variant, seed)
        if variant == 'base-like':
            write_safetensors(os.path.join(folder, 'model.safetensors'), w)
        else:
            torch.save(w, os.path.join(folder, 'pytorch_model.bin'))
        config = {'model_type': 'hubert', 'conv_dim': [C] * 7, 'conv_kernel': KERNELS, 'conv_stride': STRIDES,
                  'conv_bias': variant == 'large-like', 'feat_extract_norm': 'group' if variant == 'base-like' else 'layer',
                  'feat_proj_layer_norm': True, 'do_stable_layer_norm': variant == 'large-like', 'layer_norm_eps': EPS,
                  'num_conv_pos_embeddings': POS_K, 'num_conv_pos_embedding_groups': POS_G, 'hidden_size': D,
                  'num_attention_heads': HEADS, 'intermediate_size': FFN, 'hidden_act': 'gelu', 'num_hidden_layers': LAYERS}
        with open(os.path.join(folder, 'config.json'), 'w') as f:
            json.dump(config, f, indent=1)
        for name, wave in waves.items():
            wave.numpy().astype('<f4').tofile(os.path.join(folder, 'inputs', f'{name}.f32'))
            with torch.no_grad():
                outs, final = forward(w, variant, wave)
            for n, o in enumerate(outs, start=1):
                o.numpy().astype('<f4').tofile(os.path.join(folder, 'ref', f'{name}.layer{n}.f32'))
            if final is not None:
                final.numpy().astype('<f4').tofile(os.path.join(folder, 'ref', f'{name}.final.f32'))
        with torch.no_grad():
            outs, _ = forward(w, variant, waves['odd_length'], normalize=True)
        outs[-1].numpy().astype('<f4').tofile(os.path.join(folder, 'ref', 'norm.layer3.f32'))
    with open(os.path.join(OUT, 'VERSIONS.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'numpy': np.__version__, 'seeds': [5, 21, 22]}, f, indent=1)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
