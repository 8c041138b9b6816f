#!/usr/bin/env python3
"""Writes a corpus of a few hundred clips of the three kinds the paper classifies, for running every corpus verb at
a realistic size (bench/corpus_verbs.sh): N clips per domain (default 100), two datasets per domain, files of
several rates and formats, and a CSV manifest with a metadata column.

speech/<dataset>/  espeak-ng: 24 sentences × many voices and languages, speed 130-210 wpm (16 kHz WAV, or FLAC)
music/<dataset>/   sox: chords, progressions and melodies of pluck, sine, saw, square and triangle (44.1 kHz WAV)
sounds/<dataset>/  sox and numpy: white/pink/brown noise bursts, clicks, mains hum, thumps (22.05 kHz WAV)
manifest.csv       path, domain, dataset, loud (1 when the clip's peak is above -6 dBFS: a label for label-search)
Clip lengths 1.5-4 s. Seeded: the same N gives the same clips.
Run: /usr/bin/python3 bench/make_corpus.py <folder> [N]   (Debian espeak-ng, sox, python3-numpy)
"""
import csv
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

SENTENCES = [
    'The quick brown fox jumps over the lazy dog.', 'Please call Stella and ask her to bring these things.',
    'How much wood would a woodchuck chuck?', 'Sparse features light up frame by frame.',
    'She sells sea shells by the sea shore.', 'We measure how well the layer is reconstructed.',
    'Every encoder layer has its own dictionary.', 'The meeting starts at half past nine tomorrow.',
    'Turn left at the second traffic light.', 'A rainbow is a division of white light into many beams.',
    'Open the window, it is getting warm in here.', 'The museum closes early on Sundays.',
    'Numbers are only as good as their reference.', 'Listen carefully to the sound of the rain.',
    'Guten Morgen, wie geht es Ihnen heute?', 'Bonjour, comment allez-vous ce matin?',
    'Buenos días, ¿cómo estás?', 'Buongiorno, come stai oggi?', 'Goedemorgen, hoe gaat het met je?',
    'Dzień dobry, jak się masz?', 'Bom dia, tudo bem com você?', 'God morgon, hur mår du?',
    'The children played in the park until dark.', 'Can you hear the difference between these two voices?',
]
VOICES = ['en-us', 'en-gb', 'en-gb-scotland', 'en-us-nyc', 'en-029', 'en-gb-x-rp', 'de', 'fr-fr', 'es', 'it', 'nl',
          'pl', 'pt-br', 'sv', 'fi', 'cs', 'hu', 'ro', 'da', 'nb']
VARIANTS = ['', '+m1', '+m3', '+f1', '+f2', '+f4', '+klatt', '+croak', '+whisper']
NOTES = ['C3', 'D3', 'E3', 'F3', 'G3', 'A3', 'B3', 'C4', 'D4', 'E4', 'F4', 'G4', 'A4', 'B4', 'C5', 'D5', 'E5', 'G5']
WAVES = ['pluck', 'sine', 'sawtooth', 'square', 'triangle']


def sox(*args):
    subprocess.run(['sox', '-R', '-D', *args], check=True)


def write_pcm(path, signal, rate):
    pcm = np.clip(np.round(signal * 32767), -32768, 32767).astype('<i2')
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def speech(i, rng, dst, tmp):
    text = SENTENCES[i % len(SENTENCES)]
    voice = VOICES[rng.integers(len(VOICES))] + VARIANTS[rng.integers(len(VARIANTS))]
    raw = os.path.join(tmp, 'speech.wav')
    subprocess.run(['espeak-ng', '-v', voice, '-s', str(int(rng.integers(130, 210))), '-p', str(int(rng.integers(20, 80))), '-w', raw, text], check=True)
    sox(raw, '-r', '16000', '-c', '1', '-b', '16', dst, 'trim', '0', '4', 'gain', '-n', str(-float(rng.uniform(1, 12))))


def music(i, rng, dst, tmp):
    rate = ['-r', '44100', '-b', '16', '-c', '1']
    kind = i % 3
    synth = WAVES[rng.integers(len(WAVES))]
    if kind == 0:  # a chord
        notes = rng.choice(NOTES, 3, replace=False)
        sox('-n', *rate, dst, 'synth', f'{rng.uniform(1.5, 3.5):.2f}', *[a for n in notes for a in (synth, n)], 'channels', '1',
            'fade', 'q', '0.05', '0', '0.3', 'gain', '-n', str(-float(rng.uniform(1, 12))))
        return
    parts = []
    for k in range(int(rng.integers(4, 10))):  # a melody (1) or a chord progression (2), note after note
        p = os.path.join(tmp, f'note{k}.wav')
        notes = rng.choice(NOTES, 1 if kind == 1 else 3, replace=False)
        d = float(rng.uniform(0.2, 0.5))
        sox('-n', *rate, p, 'synth', f'{d:.2f}', *[a for n in notes for a in (synth, n)], 'channels', '1', 'fade', 'q', '0.01', f'{d:.2f}', '0.05', 'gain', '-n', '-6')
        parts.append(p)
    sox(*parts, dst, 'trim', '0', '4', 'gain', '-n', str(-float(rng.uniform(1, 12))))


def sounds(i, rng, dst, tmp):
    sr = 22050
    kind = i % 5
    n = int(rng.uniform(1.5, 3.5) * sr)
    if kind == 0:  # noise bursts
        colour = ['whitenoise', 'pinknoise', 'brownnoise'][rng.integers(3)]
        parts = []
        for k in range(int(rng.integers(2, 6))):
            p = os.path.join(tmp, f'burst{k}.wav')
            sox('-n', '-r', str(sr), '-b', '16', '-c', '1', p, 'synth', f'{rng.uniform(0.15, 0.5):.2f}', colour, 'pad', '0', f'{rng.uniform(0.1, 0.4):.2f}')
            parts.append(p)
        sox(*parts, dst, 'gain', '-n', str(-float(rng.uniform(1, 12))))
        return
    t = np.arange(n) / sr
    if kind == 1:  # clicks
        x = np.zeros(n)
        for at in rng.choice(n - 300, int(rng.integers(5, 25)), replace=False):
            x[at:at + 160] += rng.choice([-1, 1]) * np.exp(-np.arange(160) / 12.0)
    elif kind == 2:  # mains hum with harmonics
        f0 = [50, 60][rng.integers(2)]
        x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in (1, 2, 3, 5)) + 0.05 * rng.standard_normal(n)
    elif kind == 3:  # thumps
        x = np.zeros(n)
        for at in rng.choice(n - sr // 4, int(rng.integers(2, 6)), replace=False):
            m = sr // 4
            tt = np.arange(m) / sr
            x[at:at + m] += np.exp(-tt / 0.04) * (np.sin(2 * np.pi * rng.uniform(60, 120) * tt) + 0.5 * rng.standard_normal(m))
    else:  # steady noise
        x = rng.standard_normal(n) * np.linspace(0.2, 1.0, n) ** rng.uniform(0, 2)
    write_pcm(dst, float(10 ** (-rng.uniform(1, 12) / 20)) * x / np.abs(x).max(), sr)


def peak_dbfs(path):
    out = subprocess.run(['sox', path, '-n', 'stat'], check=True, capture_output=True, text=True).stderr
    peak = max(abs(float(line.split(':')[1])) for line in out.splitlines() if line.startswith(('Maximum amplitude', 'Minimum amplitude')))
    return 20 * np.log10(max(peak, 1e-9))


def main(out, n=100):
    rng = np.random.default_rng(2026)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for domain, make, datasets in (('speech', speech, ('espeak-a', 'espeak-b')), ('music', music, ('synth-a', 'synth-b')), ('sounds', sounds, ('noise-a', 'noise-b'))):
            for i in range(n):
                dataset = datasets[i % 2]
                folder = os.path.join(out, domain, dataset)
                os.makedirs(folder, exist_ok=True)
                ext = 'flac' if domain == 'speech' and i % 4 == 3 else 'wav'
                path = os.path.join(folder, f'{domain}{i:04d}.{ext}')
                if not os.path.exists(path):
                    make(i, rng, path, tmp)
                else:
                    make(i, rng, os.path.join(tmp, f'skip.{ext}'), tmp)  # keep the random stream the same
                rows.append({'path': os.path.relpath(path, out), 'domain': domain, 'dataset': dataset, 'loud': int(peak_dbfs(path) > -6)})
    with open(os.path.join(out, 'manifest.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=['path', 'domain', 'dataset', 'loud'])
        w.writeheader()
        w.writerows(rows)
    print(f'{len(rows)} clips in {out}')


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100)
