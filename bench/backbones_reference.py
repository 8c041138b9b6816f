#!/usr/bin/env python3
"""PyTorch side of the backbone benchmark: the reference forward passes of test/reference (openai-whisper's
AudioEncoder, transformers' HubertModel, written out) with real-size random weights, up to one layer, 30 s.
Prints one JSON line: median seconds and peak RSS.  Usage: bench/backbones_reference.py whisper|hubert <layer>"""
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'reference'))
import make_hubert  # noqa: E402
import make_whisper  # noqa: E402


def main():
    torch.set_num_threads(os.cpu_count())
    what, layer = sys.argv[1], int(sys.argv[2])
    if what == 'whisper':
        w = make_whisper.make_weights(768, 12, 12, 3072, 80, 1)
        mel = torch.randn(80, 3000) * 0.1
        run = lambda: make_whisper.encoder_forward(w, layer, 12, mel)  # noqa: E731
    else:
        make_hubert.C, make_hubert.D, make_hubert.HEADS, make_hubert.FFN, make_hubert.LAYERS = 512, 768, 12, 3072, layer
        w = make_hubert.make_weights('base-like', 1)
        wave = torch.randn(480000) * 0.1
        run = lambda: make_hubert.forward(w, 'base-like', wave)  # noqa: E731
    times = []
    with torch.no_grad():
        run()
        for _ in range(3):
            t = time.perf_counter()
            run()
            times.append(time.perf_counter() - t)
    print(json.dumps({'seconds': statistics.median(times), 'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


if __name__ == '__main__':
    main()
