#!/usr/bin/env python3
"""Regenerates every reference fixture (`npm run fixtures`): runs each generator in test/reference/ in turn.

Most need Debian's python3-torch and numpy (and espeak-ng, sox, ffmpeg for the audio); make_resample.py needs
scipy. Each generator records the versions it ran with next to its fixtures (VERSIONS.json).
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATORS = [
    'make_audio.py', 'make_npy.py', 'make_checkpoints.py', 'make_sae.py', 'make_whisper.py', 'make_hubert.py',
    'make_demo_assets.py', 'make_resample.py', 'make_corpus_stats.py', 'make_design_corpus.py', 'make_cooccurrence.py', 'make_receptive_field.py', 'make_pca.py', 'make_profile_sae.py',
]

for name in GENERATORS:
    path = os.path.join(HERE, name)
    if not os.path.exists(path):
        print(f'skip {name}: not present', flush=True)
        continue
    print(f'== {name}', flush=True)
    subprocess.run([sys.executable, path], check=True)
