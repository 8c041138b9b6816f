#!/usr/bin/env python3
"""Makes fixtures/design-corpus/: a small corpus whose analysis answer is known by design, and an SAE built by
hand for the bundled toy backbone whisper-tiny-random (d = 64, 3 layers) that gives that answer.

speech/  espeak-ng sentences, several voices and languages          (16 kHz mono 16-bit WAV, 1.5-3 s each)
music/   sox chords and melodies (pluck, sine, saw, square, triangle)
sounds/  noise bursts (white, pink, brown), clicks, mains hum, thumps
sae/layer_<n>/ae.pt, config.json   one SAE per layer (torch.save, the reference BatchTopK state-dict layout) with a
         stored threshold, so threshold mode runs and every code depends on its own frame only
expected.json   what the corpus analyses must find (see below); VERSIONS.json

The SAE is not random. Its features are built from the backbone's own activations of these clips (taken with the
project's CLI, `node dist/cli.cjs activations`, so run `npm run build` first):
  feature j has a unit encoder row w_j and fires (code > threshold t) exactly on the frames whose projection
  s = x . w_j lies above a cut c_j, because encoder.bias_j = t - c_j and b_dec = 0 (pre = s - c_j + t).
  w_j separates the frames of its domains P_j from the others' frames: the normalised weight vector of a
  logistic regression of "frame is in P_j" on the 64 activations (L2 1e-2, Newton steps, the other domains'
  frames weighted 20x because the feature must never fire on them; the plain difference of domain means is
  too weak on this random backbone: it leaves some clips of P_j with no frame above every other domain's).
  c_j lies at least a margin above the largest projection of any frame of the other domains, so the feature
  cannot fire outside P_j, and as low as that allows, so it fires on most frames of P_j and, as checked, on at
  least one frame of every clip of P_j. No frame lies within the margin (1e-3 x the projections' spread, at
  least 1e-3) of a cut, so the float differences between this computation and the pipeline's (about 1e-5)
  cannot move a frame across it: the frame counts are exact. Feature 6 ("everywhere") uses the mean activation
  as its direction and a cut below every frame.
  Features:  0 speech, 1 music, 2 sounds, 3 speech+music, 4 speech+sounds, 5 sounds+music, 6 every clip,
             7 dead (zero row, bias -1: pre = -1 on every frame).
  Decoder: column j = w_j (e_j for the dead feature), unit norm; b_dec = 0.
The generator then computes every code with numpy (threshold mode, reference doc section 2), the per-domain
frame and audio frequencies, and the appendix-C classification (reference doc section 5: audio level
tau {0.5, 0.3}, frame level {0.2, 0.1, 0.04}, four domain combinations), and refuses to write the fixture (it
is made in a staging folder that replaces the old one only when all of this holds) unless, on every layer: each
feature fires in exactly the clips of its domains; its audio-level labels in all four combinations are the
designed ones; the single-domain features get their domain at the frame level too (three-way); no frame lies
within half a margin of a cut; and the saved checkpoint, loaded back with torch and run in float32, fires on the
same frames.

expected.json: per layer, per feature: intended (audio-level labels per combination, by design), audio/frame
  labels and grades as computed, per-domain frequencies, the clips where it fires (active_frames and max_act per
  clip) and its expected top clips (its domains' clips, all of which rank above every other clip).

Run: /usr/bin/python3 test/reference/make_design_corpus.py   (Debian python3-torch 1.13, numpy; espeak-ng, sox;
     node and a built dist/cli.cjs).  --sae-only keeps the committed clips and rebuilds only the SAE and expected.json.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
OUT = os.path.join(HERE, 'fixtures', 'design-corpus')
# Everything is made in a staging folder and replaces OUT only once every check has passed.
DEST = OUT + '.staging'
CLI = os.path.join(ROOT, 'dist', 'cli.cjs')
BACKBONE = 'whisper-tiny-random'
LAYERS = (1, 2, 3)
D = 64
SR = 16000
DOMAINS = ('speech', 'sounds', 'music')
COMBINATIONS = (('speech', 'sounds', 'music'), ('speech', 'sounds'), ('speech', 'music'), ('sounds', 'music'))
TAUS = {'audio': (0.5, 0.3), 'frame': (0.2, 0.1, 0.04)}
THRESHOLD = 0.1
K = 4

# feature id -> (name, domains where it must fire)
FEATURES = [
    ('speech', ('speech',)),
    ('music', ('music',)),
    ('sounds', ('sounds',)),
    ('speech+music', ('speech', 'music')),
    ('speech+sounds', ('speech', 'sounds')),
    ('sounds+music', ('sounds', 'music')),
    ('everywhere', ('speech', 'sounds', 'music')),
    ('dead', ()),
]
F = len(FEATURES)
DEAD = F - 1

SPEECH = [  # name, voice, words per minute, text
    ('s1_en-us', 'en-us', 185, 'The quick brown fox jumps over the lazy dog.'),
    ('s2_en-gb-f3', 'en-gb+f3', 160, 'She sells sea shells by the shore.'),
    ('s3_scotland-m3', 'en-gb-scotland+m3', 165, 'How much wood would a woodchuck chuck?'),
    ('s4_en-us-f2', 'en-us+f2', 170, 'Sparse features light up frame by frame.'),
    ('s5_de', 'de', 160, 'Guten Morgen, wie geht es Ihnen?'),
    ('s6_fr-m1', 'fr+m1', 165, 'Bonjour, comment allez-vous?'),
]


def sox(*args):
    # -R: repeatable (seeded noise, fixed header); -D: no dither, so the bytes are the same on every run.
    subprocess.run(['sox', '-R', '-D', *args], check=True)


def to_clip(src, dst, max_s=3.0):
    """src (any rate) -> 16 kHz mono 16-bit, at most max_s seconds, peak normalised to -3 dBFS."""
    seconds = float(subprocess.run(['soxi', '-D', src], check=True, capture_output=True, text=True).stdout)
    trim = ['trim', '0', str(max_s)] if seconds > max_s else []
    sox(src, '-r', str(SR), '-c', '1', '-b', '16', dst, *trim, 'gain', '-n', '-3')


def write_pcm(path, signal):
    pcm = np.clip(np.round(signal * 32767), -32768, 32767).astype('<i2')
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def make_speech(folder, tmp):
    for name, voice, wpm, text in SPEECH:
        raw = os.path.join(tmp, name + '.raw.wav')
        subprocess.run(['espeak-ng', '-v', voice, '-s', str(wpm), '-w', raw, text], check=True)
        to_clip(raw, os.path.join(folder, name + '.wav'))


def make_music(folder, tmp):
    rate = ['-r', str(SR), '-b', '16', '-c', '1']
    # Chords: several voices of one synth in one effect, mixed to mono.
    sox('-n', *rate, os.path.join(folder, 'm1_c-major-pluck.wav'),
        'synth', '2.0', 'pluck', 'C4', 'pluck', 'E4', 'pluck', 'G4', 'channels', '1', 'gain', '-n', '-3')
    sox('-n', *rate, os.path.join(folder, 'm2_a-minor-saw.wav'),
        'synth', '2.2', 'sawtooth', 'A3', 'sawtooth', 'C4', 'sawtooth', 'E4', 'channels', '1', 'gain', '-6',
        'lowpass', '2500', 'fade', 'q', '0.05', '2.2', '0.4', 'gain', '-n', '-3')
    # Chord progression C F G C, square waves, 0.6 s each.
    parts = []
    for i, chord in enumerate([('C4', 'E4', 'G4'), ('F3', 'A3', 'C4'), ('G3', 'B3', 'D4'), ('C4', 'E4', 'G4')]):
        p = os.path.join(tmp, f'prog{i}.wav')
        synth = [a for n in chord for a in ('square', n)]
        sox('-n', *rate, p, 'synth', '0.6', *synth, 'channels', '1', 'gain', '-6', 'lowpass', '3000', 'fade', 'q', '0.02', '0.6', '0.1', 'gain', '-n', '-6')
        parts.append(p)
    sox(*parts, os.path.join(tmp, 'prog.wav'))
    to_clip(os.path.join(tmp, 'prog.wav'), os.path.join(folder, 'm3_progression-square.wav'))
    # Melodies: one note after another.
    melodies = {
        'm4_scale-sine': ('sine', 0.3, ['C5', 'D5', 'E5', 'F5', 'G5', 'A5', 'B5']),
        'm5_arpeggio-pluck': ('pluck', 0.25, ['C4', 'E4', 'G4', 'C5', 'G4', 'E4', 'C4', 'G3']),
        'm6_tune-triangle': ('triangle', 0.35, ['E4', 'D4', 'C4', 'D4', 'E4', 'E4']),
    }
    for name, (wave_type, note_s, notes) in melodies.items():
        parts = []
        for i, note in enumerate(notes):
            p = os.path.join(tmp, f'{name}{i}.wav')
            sox('-n', *rate, p, 'synth', str(note_s), wave_type, note, 'fade', 'q', '0.01', str(note_s), '0.05', 'gain', '-n', '-6')
            parts.append(p)
        sox(*parts, os.path.join(tmp, name + '.wav'))
        to_clip(os.path.join(tmp, name + '.wav'), os.path.join(folder, name + '.wav'))


def make_sounds(folder, tmp):
    rate = ['-r', str(SR), '-b', '16', '-c', '1']
    # Noise bursts: 0.3 s of white noise, 0.2 s of silence, four times.
    parts = []
    for i in range(4):
        p = os.path.join(tmp, f'burst{i}.wav')
        sox('-n', *rate, p, 'synth', '0.3', 'whitenoise', 'fade', 'q', '0.01', '0.3', '0.05', 'pad', '0', '0.2')
        parts.append(p)
    sox(*parts, os.path.join(tmp, 'bursts.wav'))
    to_clip(os.path.join(tmp, 'bursts.wav'), os.path.join(folder, 'n1_white-bursts.wav'))
    sox('-n', *rate, os.path.join(folder, 'n2_pink-noise.wav'), 'synth', '2.0', 'pinknoise', 'fade', 'q', '0.2', '2.0', '0.3', 'gain', '-n', '-3')
    sox('-n', *rate, os.path.join(folder, 'n3_brown-noise.wav'), 'synth', '1.8', 'brownnoise', 'gain', '-n', '-3')
    # Mains hum: 50 Hz and its harmonics with a little noise.
    sox('-n', *rate, os.path.join(folder, 'n4_hum-50hz.wav'),
        'synth', '2.0', 'sine', '50', 'sine', '100', 'sine', '150', 'sine', '250', 'whitenoise', 'channels', '1', 'gain', '-n', '-3')
    rng = np.random.default_rng(20261)
    # Clicks: single-sample impulses with a short ring, at random times.
    n = int(2.0 * SR)
    clicks = np.zeros(n)
    for at in np.sort(rng.choice(n - 200, 14, replace=False)):
        clicks[at:at + 160] += rng.choice([-1, 1]) * np.exp(-np.arange(160) / 12.0) * rng.uniform(0.5, 1.0)
    write_pcm(os.path.join(folder, 'n5_clicks.wav'), 0.7 * clicks / np.abs(clicks).max())
    # Thumps: low decaying knocks (a door), noise-excited.
    n = int(2.4 * SR)
    thumps = np.zeros(n)
    for at_s in (0.2, 0.55, 0.9, 1.6):
        at = int(at_s * SR)
        m = int(0.25 * SR)
        t = np.arange(m) / SR
        thumps[at:at + m] += np.exp(-t / 0.04) * (np.sin(2 * np.pi * 90 * t) + 0.5 * rng.standard_normal(m))
    write_pcm(os.path.join(folder, 'n6_thumps.wav'), 0.7 * thumps / np.abs(thumps).max())


def make_clips():
    for domain in DOMAINS:
        shutil.rmtree(os.path.join(DEST, domain), ignore_errors=True)
        os.makedirs(os.path.join(DEST, domain))
    with tempfile.TemporaryDirectory() as tmp:
        make_speech(os.path.join(DEST, 'speech'), tmp)
        make_music(os.path.join(DEST, 'music'), tmp)
        make_sounds(os.path.join(DEST, 'sounds'), tmp)


def list_clips():
    """[(relative path, domain)] in a fixed order (domain, then name)."""
    out = []
    for domain in DOMAINS:
        for name in sorted(os.listdir(os.path.join(DEST, domain))):
            if name.endswith('.wav'):
                out.append((f'{domain}/{name}', domain))
    return out


def clip_seconds(path):
    with wave.open(path) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SR, 1, 2), path
        return w.getnframes() / SR


def activations(clips, tmp):
    """{layer: [acts [frames, 64] float32 per clip]} from the project's CLI."""
    if not os.path.exists(CLI):
        sys.exit(f'{CLI} is missing: run `npm run build` first.')
    env = {**os.environ, 'AUDIOSAE_EXECUTION_PROVIDER': 'cpu', 'AUDIOSAE_CACHE': os.path.join(tmp, 'cache')}
    acts = {layer: [] for layer in LAYERS}
    for i, (rel, _) in enumerate(clips):
        for layer in LAYERS:
            out = os.path.join(tmp, f'{i}.{layer}.npy')
            r = subprocess.run(['node', CLI, 'activations', os.path.join(DEST, rel), '--backbone', BACKBONE, '--layer', str(layer), '--out', out],
                               env=env, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f'activations of {rel}, layer {layer} failed: {r.stderr.strip()}')
            a = np.load(out)
            assert a.dtype == np.float32 and a.ndim == 2 and a.shape[1] == D, (rel, layer, a.shape)
            acts[layer].append(a)
    return acts


def weighted_logistic_direction(X, positive, neg_weight=20.0, lam=1e-2, iters=60):
    """Unit direction of an L2-regularised logistic regression of `positive` on X (Newton / IRLS, deterministic),
    the negatives weighted neg_weight times: the feature must never fire on them, so they count more."""
    n, d = X.shape
    Xb = np.hstack([X, np.ones((n, 1))])
    y = positive.astype(np.float64)
    weights = np.where(positive, 1.0, neg_weight)
    reg = lam * np.eye(d + 1)
    reg[d, d] = 0
    beta = np.zeros(d + 1)
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(Xb @ beta)))
        grad = Xb.T @ (weights * (p - y)) + reg @ beta
        hess = Xb.T @ (Xb * (weights * p * (1 - p))[:, None]) + reg
        beta -= np.linalg.solve(hess, grad)
    w = beta[:d]
    return w / np.linalg.norm(w)


def place_cut(s, negative, margin):
    """A cut c at least `margin` above every negative frame with no frame within `margin` of it, as low as the
    candidates allow (so the feature covers as many positive frames as it can)."""
    start = s[negative].max() + 1.25 * margin if negative.any() else s.min() - 1.25 * margin
    # Candidates in ascending order: the start, then just above each projection at or above it (1.25 margins,
    # so rounding cannot bring that frame back within the margin); the one above the largest always holds.
    candidates = np.concatenate([[start], np.sort(s[s >= start - margin]) + 1.25 * margin])
    for c in candidates[candidates >= start]:
        if (np.abs(s - c) >= margin).all():
            return float(c)
    raise AssertionError('unreachable: the cut above every projection holds')


def design_layer(X, frame_domain):
    """encoder.weight [F, d], encoder.bias [F], decoder.weight [d, F] (float64) and the cut margins."""
    W = np.zeros((F, D))
    b = np.zeros(F)
    margins = {}
    for j, (name, domains) in enumerate(FEATURES):
        if not domains:  # dead: zero row, negative bias, pre = -1 everywhere
            b[j] = -1.0
            continue
        positive = np.isin(frame_domain, domains)
        if positive.all():  # every clip: the mean direction, cut below the lowest frame
            w = X.mean(0) / np.linalg.norm(X.mean(0))
        else:
            w = weighted_logistic_direction(X, positive)
        s = X @ w
        margin = max(1e-3, 1e-3 * s.std())
        c = place_cut(s, ~positive, margin)
        W[j] = w
        b[j] = THRESHOLD - c
        margins[name] = margin
    dec = W.T.copy()
    dec[:, DEAD] = np.eye(D)[DEAD]
    return W, b, dec, margins


def codes(X, W, b, threshold):
    """Threshold mode (reference doc section 2) with b_dec = 0: relu(pre) kept where > threshold."""
    post = np.maximum(X @ W.T + b, 0)
    return np.where(post > threshold, post, 0)


def classify(freq, level):
    """Appendix C (reference doc section 5) for one feature: {combination: (label, grade)} from {domain: frequency}."""
    out = {}
    for combo in COMBINATIONS:
        f = [freq[dm] for dm in combo]
        if all(v == 0 for v in f):
            out['+'.join(combo)] = ('dead', None)
            continue
        i = int(np.argmax(f))
        label, grade = 'unassigned', None
        for g, tau in enumerate(TAUS[level]):
            if all(f[i] - f[k] >= tau - 1e-12 for k in range(len(combo)) if k != i):
                label, grade = combo[i], g
                break
        out['+'.join(combo)] = (label, grade)
    return out


def intended_audio_labels(domains):
    """By design every clip of `domains` fires and no other: audio frequency 1 there, 0 elsewhere."""
    out = {}
    for combo in COMBINATIONS:
        inside = [dm for dm in combo if dm in domains]
        out['+'.join(combo)] = 'dead' if not inside else inside[0] if len(inside) == 1 else 'unassigned'
    return out


def check_with_torch(path, X, expected_mask):
    """The saved checkpoint, loaded back and run in float32 torch, fires on the same frames."""
    state = torch.load(path)
    x = torch.from_numpy(X.astype(np.float32))
    post = torch.relu((x - state['b_dec']) @ state['encoder.weight'].t() + state['encoder.bias'])
    mask = (post > state['threshold']).numpy()
    if not np.array_equal(mask, expected_mask):
        sys.exit(f'{path}: torch float32 fires on {int((mask != expected_mask).sum())} frames differently from the design.')


def build(clips, acts):
    sae_root = os.path.join(DEST, 'sae')
    shutil.rmtree(sae_root, ignore_errors=True)
    versions = {'torch': torch.__version__, 'numpy': np.__version__}
    frames = [a.shape[0] for a in acts[LAYERS[0]]]
    expected = {
        'backbone': BACKBONE, 'layers': list(LAYERS), 'dict_size': F, 'k': K, 'threshold': THRESHOLD, 'mode': 'threshold',
        'taus': {k: list(v) for k, v in TAUS.items()},
        'clips': [{'path': rel, 'domain': dm, 'frames': n} for (rel, dm), n in zip(clips, frames)],
        'tolerance': {'max_act': 1e-4, 'sum_act': 1e-3},
        'per_layer': {},
    }
    clip_domain = np.array([dm for _, dm in clips])
    report = []
    for layer in LAYERS:
        per_clip = [a.astype(np.float64) for a in acts[layer]]
        if [a.shape[0] for a in per_clip] != frames:
            sys.exit(f'layer {layer}: frame counts differ from layer {LAYERS[0]}')
        X = np.concatenate(per_clip)
        frame_clip = np.concatenate([np.full(n, i) for i, n in enumerate(frames)])
        frame_domain = clip_domain[frame_clip]
        W, b, dec, margins = design_layer(X, frame_domain)

        folder = os.path.join(sae_root, f'layer_{layer}')
        os.makedirs(folder)
        state = {
            'encoder.weight': torch.from_numpy(W.astype(np.float32)),
            'encoder.bias': torch.from_numpy(b.astype(np.float32)),
            'decoder.weight': torch.from_numpy(dec.astype(np.float32)),
            'b_dec': torch.zeros(D),
            'k': torch.tensor(K),
            'threshold': torch.tensor(THRESHOLD),
        }
        torch.save(state, os.path.join(folder, 'ae.pt'))
        with open(os.path.join(folder, 'config.json'), 'w') as fh:
            json.dump({'trainer': {'activation_dim': D, 'dict_size': F, 'k': K, 'layer': layer,
                                   'note': 'built by hand from the design corpus (make_design_corpus.py), not trained',
                                   'features': [name for name, _ in FEATURES]}, 'versions': versions}, fh, indent=1)

        # Everything below from the float32 weights as saved.
        W32, b32 = state['encoder.weight'].double().numpy(), state['encoder.bias'].double().numpy()
        f = codes(X, W32, b32, THRESHOLD)
        pre = X @ W32.T + b32
        check_with_torch(os.path.join(folder, 'ae.pt'), X, f > 0)

        layer_out = {'features': [], 'dead': []}
        for j, (name, domains) in enumerate(FEATURES):
            fj = f[:, j]
            if domains:
                closest = float(np.abs(pre[:, j] - THRESHOLD).min())
                if closest < margins[name] / 2:
                    sys.exit(f'layer {layer} feature {j} ({name}): a frame lies {closest:.2e} from the threshold')
            active = fj > 0
            clip_active = np.array([active[frame_clip == i].any() for i in range(len(clips))])
            audio_freq = {dm: float(clip_active[clip_domain == dm].mean()) for dm in DOMAINS}
            frame_freq = {dm: float(active[frame_domain == dm].mean()) for dm in DOMAINS}
            audio = classify(audio_freq, 'audio')
            frame = classify(frame_freq, 'frame')
            intended = intended_audio_labels(domains)
            got = {c: lab for c, (lab, _) in audio.items()}
            if got != intended:
                sys.exit(f'layer {layer} feature {j} ({name}): audio-level labels {got}, designed {intended}; '
                         f'audio frequencies {audio_freq}')
            should_fire = np.isin(clip_domain, domains)
            if not np.array_equal(clip_active, should_fire):
                sys.exit(f'layer {layer} feature {j} ({name}): fires in clips {np.flatnonzero(clip_active).tolist()}, designed {np.flatnonzero(should_fire).tolist()}')
            if len(domains) == 1 and frame['+'.join(DOMAINS)][0] != domains[0]:
                sys.exit(f'layer {layer} feature {j} ({name}): frame-level label {frame}, frame frequencies {frame_freq}')
            per = {}
            for i in np.flatnonzero(clip_active):
                v = fj[frame_clip == i]
                per[clips[i][0]] = {'active_frames': int((v > 0).sum()), 'max_act': float(v.max()), 'sum_act': float(v.sum())}
            top = sorted(per, key=lambda p: -per[p]['max_act'])
            layer_out['features'].append({
                'feature': j, 'name': name, 'domains': list(domains),
                'intended_audio': intended,
                'audio': {c: {'label': lab, 'grade': g} for c, (lab, g) in audio.items()},
                'frame': {c: {'label': lab, 'grade': g} for c, (lab, g) in frame.items()},
                'audio_freq': audio_freq, 'frame_freq': frame_freq,
                'top_clips': top, 'clips': per,
            })
            if not domains:
                layer_out['dead'].append(j)
            report.append(f'layer {layer} f{j} {name:14s} audio ' + ' '.join(f'{dm} {audio_freq[dm]:.2f}' for dm in DOMAINS) +
                          ' | frame ' + ' '.join(f'{dm} {frame_freq[dm]:.3f}' for dm in DOMAINS) +
                          f' | 3-way audio {audio["speech+sounds+music"][0]}, frame {frame["speech+sounds+music"][0]}/{frame["speech+sounds+music"][1]}')
        expected['per_layer'][str(layer)] = layer_out
    with open(os.path.join(DEST, 'expected.json'), 'w') as fh:
        json.dump(expected, fh, indent=1)
    return report


def tool_version(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[0]


def main():
    shutil.rmtree(DEST, ignore_errors=True)
    os.makedirs(DEST)
    try:
        if '--sae-only' in sys.argv[1:]:
            for domain in DOMAINS:
                shutil.copytree(os.path.join(OUT, domain), os.path.join(DEST, domain))
        else:
            make_clips()
        clips = list_clips()
        total = sum(os.path.getsize(os.path.join(DEST, rel)) for rel, _ in clips)
        for rel, _ in clips:
            seconds = clip_seconds(os.path.join(DEST, rel))
            if not 1.5 <= seconds <= 3.0:
                sys.exit(f'{rel}: {seconds} s, outside 1.5-3 s')
        if total > 1_500_000:
            sys.exit(f'the clips take {total} bytes, over 1.5 MB')
        with tempfile.TemporaryDirectory() as tmp:
            acts = activations(clips, tmp)
        report = build(clips, acts)
        sha = {rel: hashlib.sha256(open(os.path.join(DEST, rel), 'rb').read()).hexdigest() for rel, _ in clips}
        with open(os.path.join(DEST, 'VERSIONS.json'), 'w') as fh:
            json.dump({'torch': torch.__version__, 'numpy': np.__version__, 'espeak-ng': tool_version(['espeak-ng', '--version']),
                       'sox': tool_version(['sox', '--version']), 'node': tool_version(['node', '--version']),
                       'activations': f'node dist/cli.cjs activations --backbone {BACKBONE} (AUDIOSAE_EXECUTION_PROVIDER=cpu)',
                       'clip_sha256': sha}, fh, indent=1)
    except BaseException:
        shutil.rmtree(DEST, ignore_errors=True)
        raise
    shutil.rmtree(OUT, ignore_errors=True)
    os.rename(DEST, OUT)
    print('\n'.join(report))
    print('wrote', OUT, f'{len(clips)} clips, {total} bytes')


if __name__ == '__main__':
    main()
