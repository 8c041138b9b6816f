#!/usr/bin/env python3
"""PyTorch side of the foundation benchmark: the same work as bench/foundation.ts, timed the same way.

Prints one JSON object: {name: {"seconds": median, "runs": n}} plus versions and thread counts.
  frontend.<clip>:   WAV decode (wave + numpy) + mono mixdown + resample to 16 kHz (scipy resample_poly,
                     a polyphase windowed-sinc FIR) + Whisper log-mel (torch.stft recipe, per 30 s window)
  logmel.<clip>:     the log-mel step alone
  sae.<d>x<F>:       SAE encode (threshold mode, about 50 active per frame) + decode of 1500 frames, float32
Usage: /usr/bin/python3 bench/reference.py <clip30s.wav> <clip10min.wav>
"""
import json
import math
import statistics
import sys
import time
import wave

import os

import numpy as np
import torch
from scipy.signal import resample_poly

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'reference'))
from whisper_frontend import SR, log_mel  # noqa: E402


def load_wav(path):
    with wave.open(path) as w:
        rate, ch = w.getframerate(), w.getnchannels()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').reshape(-1, ch)
    mono = (pcm.astype(np.float32) / 32768.0).mean(axis=1)
    g = math.gcd(rate, SR)
    return torch.from_numpy(resample_poly(mono, SR // g, rate // g).astype(np.float32))


def timed(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return {'seconds': statistics.median(times), 'runs': runs}


def main():
    clip30, clip10m = sys.argv[1], sys.argv[2]
    torch.set_num_threads(os.cpu_count())  # PyTorch at its best on this machine (Debian's build defaults to 1)
    out = {'versions': {'torch': torch.__version__, 'numpy': np.__version__, 'threads': torch.get_num_threads()}}
    for name, path, runs in (('30s', clip30, 15), ('10min', clip10m, 3)):
        out[f'frontend.{name}'] = timed(lambda: log_mel(load_wav(path), 80), runs)
        audio = load_wav(path)
        out[f'logmel.{name}'] = timed(lambda: log_mel(audio, 80), 15 if name == '30s' else 5)
    torch.manual_seed(0)
    for d, F in ((768, 6144), (1280, 10240)):
        enc_w, enc_b = torch.randn(F, d) / math.sqrt(d), torch.zeros(F)
        dec_w, b_dec = torch.randn(d, F) / math.sqrt(F), torch.zeros(d)
        x = torch.randn(1500, d)

        def sae():
            # pre-activations ~N(0, 1): the threshold 2.4 leaves about 50 of F active per frame, like a real SAE
            with torch.no_grad():
                post = torch.relu((x - b_dec) @ enc_w.T + enc_b)
                f = post * (post > 2.4)
                return f @ dec_w.T + b_dec
        out[f'sae.{d}x{F}'] = timed(sae, 9)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
