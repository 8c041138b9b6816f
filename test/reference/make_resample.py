#!/usr/bin/env python3
"""Makes the resampler reference fixtures in fixtures/resample/: an independent resampling to 16 kHz by scipy's
polyphase resampler (scipy.signal.resample_poly, Kaiser window), for signals band-limited to 0.3 of the lower rate (inside both filters' passbands) at the
rates users' files come in, plus a tone above 8 kHz that a good resampler must remove.

<rate>.in.f32      the input signal at <rate> Hz (float32 little-endian): chirp from 50 Hz to 0.3 of the lower rate, plus two tones
<rate>.ref.f32     scipy.signal.resample_poly(x, up, down, window=('kaiser', 14.0)) in float64, stored as float32
alias.<rate>.f32   a 10 kHz tone at <rate> Hz (for the stopband check; no reference needed)
manifest.json, VERSIONS.json
Run: python3 test/reference/make_resample.py   (numpy, scipy)
"""
import json
import math
import os

import numpy as np
import scipy
import scipy.signal

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'resample')
RATES = [8000, 11025, 22050, 44100, 48000, 96000]
SECONDS = 0.6


def signal(rate):
    t = np.arange(int(SECONDS * rate)) / rate
    # A linear chirp and two tones, all well inside both resamplers' passbands (scipy's rolls off early).
    top = 0.3 * min(rate, 16000)
    chirp = scipy.signal.chirp(t, f0=50, t1=SECONDS, f1=top, method='linear')
    x = 0.4 * chirp + 0.2 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 0.2 * min(rate, 16000) * t)
    # Fade in and out so the clip's edges do not ring.
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.05)
    return (x * fade).astype(np.float64)


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {}
    for rate in RATES:
        x = signal(rate)
        g = math.gcd(16000, rate)
        up, down = 16000 // g, rate // g
        ref = scipy.signal.resample_poly(x, up, down, window=('kaiser', 14.0))
        x.astype('<f4').tofile(os.path.join(OUT, f'{rate}.in.f32'))
        ref.astype('<f4').tofile(os.path.join(OUT, f'{rate}.ref.f32'))
        manifest[str(rate)] = {'in': len(x), 'ref': len(ref), 'up': up, 'down': down}
        if rate > 20000:
            t = np.arange(int(0.2 * rate)) / rate
            (0.5 * np.sin(2 * np.pi * 10000 * t)).astype('<f4').tofile(os.path.join(OUT, f'alias.{rate}.f32'))
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(OUT, 'VERSIONS.json'), 'w') as f:
        json.dump({'numpy': np.__version__, 'scipy': scipy.__version__, 'window': ['kaiser', 14.0]}, f, indent=1)


if __name__ == '__main__':
    main()
