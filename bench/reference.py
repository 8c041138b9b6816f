#!/usr/bin/env python3
"""PyTorch side of the foundation benchmark: the same work as bench/foundation.ts, timed the same way.

Prints one JSON object: {name: {"seconds": median, "runs": n}} plus versions and thread counts.
  frontend.<clip>:   WAV decode (wave + numpy) + mono mixdown + resample to 16 kHz (scipy resample_poly,
                     a polyphase windowed-sinc FIR) + Whisper log-mel (torch.stft recipe, per 30 s window)
  logmel.<clip>:     the log-mel step alone
  sae.<d>x<F>:       SAE encode (threshold mode) + decode of 1500 frames, float32
Usage: /usr/bin/python3 bench/reference.py <clip30s.wav> <clip10min.wav>
"""
import json
import math
import statistics
import sys
import time
import wave

import numpy as np
import torch
from scipy.signal import resample_poly

SR, N_FFT, HOP, WINDOW = 16000, 400, 160, 480000


def mel_filters(n_mels, sr=SR, n_fft=N_FFT):
    """Slaney-style mel filter bank (librosa.filters.mel defaults: htk=False, norm='slaney')."""
    def hz_to_mel(f):
        f = np.asanyarray(f, dtype=np.float64)
        lin = f / (200.0 / 3)
        log_t = f >= 1000.0
        return np.where(log_t, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), lin)

    def mel_to_hz(m):
        m = np.asanyarray(m, dtype=np.float64)
        lin = m * (200.0 / 3)
        return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), lin)

    fft_f = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_f[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return torch.from_numpy(weights.astype(np.float32))


def log_mel_window(audio, filters, window):
    """openai-whisper's log_mel_spectrogram on one window padded/cut to 30 s."""
    audio = torch.nn.functional.pad(audio[:WINDOW], (0, max(0, WINDOW - audio.shape[0])))
    stft = torch.stft(audio, N_FFT, HOP, window=window, return_complex=True)
    magnitudes = stft[..., :-1].abs() ** 2
    mel = filters @ magnitudes
    log_spec = torch.clamp(mel, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def log_mel(audio, filters, window):
    windows = max(1, math.ceil(audio.shape[0] / WINDOW))
    return torch.cat([log_mel_window(audio[i * WINDOW:(i + 1) * WINDOW], filters, window) for i in range(windows)], dim=1)


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
    filters, window = mel_filters(80), torch.hann_window(N_FFT)
    out = {'versions': {'torch': torch.__version__, 'numpy': np.__version__, 'threads': torch.get_num_threads()}}
    for name, path, runs in (('30s', clip30, 5), ('10min', clip10m, 2)):
        out[f'frontend.{name}'] = timed(lambda: log_mel(load_wav(path), filters, window), runs)
        audio = load_wav(path)
        out[f'logmel.{name}'] = timed(lambda: log_mel(audio, filters, window), runs if name == '30s' else 3)
    torch.manual_seed(0)
    for d, F in ((768, 6144), (1280, 10240)):
        enc_w, enc_b = torch.randn(F, d) / math.sqrt(d), torch.zeros(F)
        dec_w, b_dec = torch.randn(d, F) / math.sqrt(F), torch.zeros(d)
        x = torch.randn(1500, d)

        def sae():
            with torch.no_grad():
                post = torch.relu((x - b_dec) @ enc_w.T + enc_b)
                f = post * (post > 0.5)
                return f @ dec_w.T + b_dec
        out[f'sae.{d}x{F}'] = timed(sae, 5)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
