"""The Whisper log-mel recipe in PyTorch/numpy, shared by the fixture generator and the benchmark.

Follows openai-whisper's audio.py: periodic Hann(400), torch.stft(center=True, reflect), |STFT|², drop the last
frame, Slaney mel filters (librosa.filters.mel formula, re-implemented here because librosa is not packaged),
log10(clamp(1e-10)), max(x, max − 8), (x + 4) / 4, one 30 s window at a time.
"""
import functools
import math

import numpy as np
import torch

SR, N_FFT, HOP, WINDOW = 16000, 400, 160, 480000


def hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), f / (200.0 / 3))


def mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))


def mel_filters(n_mels, sr=SR, n_fft=N_FFT):
    """librosa.filters.mel(sr, n_fft, n_mels) with htk=False, norm='slaney', as float64 [n_mels, n_fft//2+1]."""
    fft_f = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_f)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    return weights * (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]


@functools.lru_cache(maxsize=None)
def _filters(n_mels, dtype):
    return torch.from_numpy(mel_filters(n_mels)).to(dtype)


def log_mel_window(audio, n_mels, dtype=torch.float32):
    """One window: audio (1-D tensor) padded/cut to 30 s → [n_mels, 3000]."""
    audio = audio.to(dtype)
    audio = torch.nn.functional.pad(audio[:WINDOW], (0, max(0, WINDOW - audio.shape[0])))
    window = torch.hann_window(N_FFT, dtype=dtype)
    stft = torch.stft(audio, N_FFT, HOP, window=window, return_complex=True)
    magnitudes = stft[..., :-1].abs() ** 2
    mel = _filters(n_mels, dtype) @ magnitudes
    log_spec = torch.clamp(mel, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def log_mel(audio, n_mels, dtype=torch.float32):
    """Any length: consecutive 30 s windows, each padded and floored on its own, concatenated along frames."""
    count = max(1, math.ceil(audio.shape[0] / WINDOW))
    return torch.cat([log_mel_window(audio[i * WINDOW:(i + 1) * WINDOW], n_mels, dtype) for i in range(count)], dim=1)
