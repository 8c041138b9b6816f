#!/usr/bin/env python3
"""Makes the offline demo's assets in media/demo/.

example.wav  ~12 s, 44.1 kHz stereo: a spoken sentence (espeak-ng), a short melody of pure tones and a noise
             burst, so the demo exercises decoding, mixdown, resampling and the log-mel front end.
demo-sae/    a small BatchTopK SAE over 80-bin log-mel frames (d=80, F=256, k=8) with RANDOM weights, saved with
             torch.save in the reference state-dict layout, plus its config.json. Its features mean nothing; it
             exists so the full pipeline runs with no network.

Run with Debian's python3 (torch 1.13, numpy), espeak-ng and sox installed:  /usr/bin/python3 test/reference/make_demo_assets.py
"""
import json
import os
import subprocess
import tempfile
import wave

import numpy as np
import torch

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

    torch.manual_seed(20260)
    d, F, k = 80, 256, 8
    dec = torch.randn(d, F)
    dec = dec / dec.norm(dim=0, keepdim=True)
    state = {
        'encoder.weight': dec.t().clone() * 0.5,
        'encoder.bias': torch.zeros(F) - 0.1,
        'decoder.weight': dec,
        'b_dec': torch.full((d,), -0.5),
        'k': torch.tensor(k, dtype=torch.int64),
        'threshold': torch.tensor(-1.0),
    }
    torch.save(state, os.path.join(OUT, 'demo-sae', 'ae.pt'))
    config = {'trainer': {'activation_dim': d, 'dict_size': F, 'k': k,
                          'note': 'random weights over 80-bin log-mel frames; demo only'},
              'versions': {'torch': torch.__version__, 'numpy': np.__version__}}
    with open(os.path.join(OUT, 'demo-sae', 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
    print('wrote', OUT, 'duration_s', round(mono.size / RATE, 2))


if __name__ == '__main__':
    main()
