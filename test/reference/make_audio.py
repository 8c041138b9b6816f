#!/usr/bin/env python3
"""Makes the audio front-end fixtures in fixtures/audio/.

signals/<name>.f32   the 16 kHz input signal (float32 little-endian)
mel/<name>.<n>.f32   its reference log-mel (float32), computed in float64 with torch.stft, keeping per window
                     only the frames over real audio plus 3 (the rest is padding): [n_mels, kept frames]
filters.<n>.f64      the Slaney mel filter bank [n_mels, 201] (float64)
speech.wav           espeak-ng speech at 16 kHz (the speech-like signal's source)
manifest.json        names, lengths, shapes; VERSIONS.json
Run: /usr/bin/python3 test/reference/make_audio.py   (Debian python3-torch, numpy, espeak-ng)
"""
import json
import os
import subprocess
import sys
import wave

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from whisper_frontend import SR, log_mel, mel_filters  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'audio')


def speech():
    path = os.path.join(OUT, 'speech.wav')
    subprocess.run(['espeak-ng', '-v', 'en-us', '-s', '160', '-w', path + '.tmp.wav',
                    'The quick brown fox jumps over the lazy dog.'], check=True)
    subprocess.run(['sox', path + '.tmp.wav', '-r', '16000', '-c', '1', '-b', '16', path], check=True)
    os.remove(path + '.tmp.wav')
    with wave.open(path) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(np.float32) / 32768


def codecs():
    """A 1 s, 440 Hz, 0.5-amplitude stereo tone at 44.1 kHz in each compressed format (ffmpeg), plus damaged copies."""
    folder = os.path.join(OUT, 'codecs')
    os.makedirs(folder, exist_ok=True)
    src = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=1', '-af', 'volume=0.5,aformat=channel_layouts=stereo']
    for name, args in {
        'tone.flac': ['-c:a', 'flac'],
        'tone.mp3': ['-c:a', 'libmp3lame', '-b:a', '128k'],
        'tone.ogg': ['-c:a', 'libvorbis', '-q:a', '4'],
        'tone.opus': ['-c:a', 'libopus', '-b:a', '96k', '-ar', '48000'],
        'tone_s24_extensible.wav': ['-c:a', 'pcm_s24le', '-rf64', 'never', '-ac', '3'],
        'tone_mulaw.wav': ['-c:a', 'pcm_mulaw'],
    }.items():
        subprocess.run(['ffmpeg', '-loglevel', 'error', '-y', *src, *args, os.path.join(folder, name)], check=True)
    for name in ('tone.flac', 'tone.mp3', 'tone.ogg', 'tone.opus'):
        data = open(os.path.join(folder, name), 'rb').read()
        stem, ext = name.split('.')
        with open(os.path.join(folder, f'truncated.{ext}'), 'wb') as f:
            f.write(data[: min(len(data) // 10, 600)])
        corrupt = bytearray(data)
        rng = np.random.default_rng(len(data))
        corrupt[64:] = rng.integers(0, 256, len(data) - 64, dtype=np.uint8).tobytes()
        with open(os.path.join(folder, f'corrupt.{ext}'), 'wb') as f:
            f.write(bytes(corrupt))
        with open(os.path.join(folder, f'empty.{ext}'), 'wb') as f:
            pass


def main():
    codecs()
    os.makedirs(os.path.join(OUT, 'signals'), exist_ok=True)
    os.makedirs(os.path.join(OUT, 'mel'), exist_ok=True)
    rng = np.random.default_rng(7)
    t = lambda seconds: np.arange(int(seconds * SR)) / SR  # noqa: E731
    signals = {
        'speech': speech(),
        'noise': (0.3 * rng.standard_normal(int(1.5 * SR))).astype(np.float32),
        'tone_440': (0.5 * np.sin(2 * np.pi * 440 * t(1))).astype(np.float32),
        'tone_bin': (0.25 * np.sin(2 * np.pi * 1000 * t(1))).astype(np.float32),  # 1000 Hz = bin 25 exactly
        'silence': np.zeros(int(1 * SR), np.float32),
        'clipped': np.clip(3 * np.sin(2 * np.pi * 220 * t(1)), -1, 1).astype(np.float32),
        'dc': np.full(int(1 * SR), 0.5, np.float32),
        'impulse': np.eye(1, int(1 * SR), 8000, dtype=np.float32)[0],
        'short_odd': (0.2 * rng.standard_normal(12345)).astype(np.float32),
        'long_two_windows': (0.1 * rng.standard_normal(int(31.3 * SR)) * (t(31.3) % 7 < 2) + 0.3 * np.sin(2 * np.pi * 300 * t(31.3))).astype(np.float32),
    }
    manifest = {}
    for name, x in signals.items():
        x.astype('<f4').tofile(os.path.join(OUT, 'signals', name + '.f32'))
        entry = {'samples': int(x.size)}
        for n_mels in (80, 128):
            if n_mels == 128 and name not in ('speech', 'noise', 'silence'):
                continue
            mel = log_mel(torch.from_numpy(x.astype(np.float64)), n_mels, dtype=torch.float64).numpy()
            keep = []
            for w in range(mel.shape[1] // 3000):
                real = min(480000, x.size - w * 480000)
                keep.extend(range(w * 3000, w * 3000 + min(3000, -(-real // 160) + 3)))
            mel = mel[:, keep]
            mel.astype('<f4').tofile(os.path.join(OUT, 'mel', f'{name}.{n_mels}.f32'))
            entry[str(n_mels)] = list(mel.shape)
        manifest[name] = entry
    for n_mels in (80, 128):
        mel_filters(n_mels).astype('<f8').tofile(os.path.join(OUT, f'filters.{n_mels}.f64'))
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(OUT, 'VERSIONS.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'numpy': np.__version__, 'seed': 7, 'reference_dtype': 'float64'}, f, indent=1)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
