#!/usr/bin/env python3
"""Makes the checkpoint-reader fixtures in fixtures/checkpoints/ with the real torch.save.

For every good checkpoint, expected tensors are written as raw little-endian bytes plus manifest.json
(dtype, shape, file) so tests compare every element bit for bit. Hostile and damaged files are made by hand.
Run: /usr/bin/python3 test/reference/make_checkpoints.py   (Debian python3-torch 1.13, numpy)
"""
import io
import json
import os
import pickle
import shutil
import struct
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'checkpoints')
MARKER = '/tmp/audiosae-pickle-executed'   # a hostile pickle would create this if it were ever run

DT = {torch.float32: 'float32', torch.float16: 'float16', torch.bfloat16: 'bfloat16', torch.float64: 'float64',
      torch.int64: 'int64', torch.int32: 'int32', torch.uint8: 'uint8', torch.bool: 'bool', torch.int16: 'int16', torch.int8: 'int8'}


def expected(name, tensors):
    folder = os.path.join(OUT, name + '.expected')
    os.makedirs(folder, exist_ok=True)
    manifest = {}
    for i, (key, t) in enumerate(tensors.items()):
        t = t.detach().contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().astype(t.numpy().dtype.newbyteorder('<')).tobytes()
        fname = f'{i}.bin'
        with open(os.path.join(folder, fname), 'wb') as f:
            f.write(raw)
        manifest[key] = {'dtype': DT[t.dtype], 'shape': list(t.shape), 'file': fname}
    with open(os.path.join(folder, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)


def save(name, obj, flat=None, **kw):
    torch.save(obj, os.path.join(OUT, name), **kw)
    if flat is not None:
        expected(name, flat)


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 5)
        self.norm = torch.nn.LayerNorm(5)
        self.register_buffer('steps', torch.tensor(7))


def rezip_with_root(src, dst, new_root):
    """Rewrites a torch zip with another root folder name (as torch 2.x writes 'archive/')."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            name = new_root + '/' + info.filename.split('/', 1)[1]
            zout.writestr(zipfile.ZipInfo(name), zin.read(info.filename))


def hostile_pickle(module, name, arg):
    # GLOBAL module name; MARK arg TUPLE; REDUCE; STOP  (protocol 0 opcodes; no pickle.dumps of real callables)
    return (b'c' + module.encode() + b'\n' + name.encode() + b'\n' + b'(' +
            b'V' + arg.encode() + b'\n' + b'tR.')


def zip_with_pkl(path, pkl, root='archive'):
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as z:
        z.writestr(root + '/data.pkl', pkl)
        z.writestr(root + '/version', '3\n')


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    torch.manual_seed(1234)

    dtypes = {
        'f32': torch.randn(4, 6), 'f16': torch.randn(3, 5).half(), 'bf16': torch.randn(2, 7).bfloat16(),
        'f64': torch.randn(5).double(), 'i64': torch.arange(-5, 7).reshape(3, 4), 'i32': torch.arange(9, dtype=torch.int32) * -3,
        'u8': torch.arange(250, 256, dtype=torch.uint8), 'b': torch.tensor([True, False, True]),
        'i16': torch.tensor([-300, 2, 30000], dtype=torch.int16), 'i8': torch.tensor([-128, 0, 127], dtype=torch.int8),
        'k64': torch.tensor(50), 'k32': torch.tensor(50, dtype=torch.int32), 'threshold': torch.tensor(0.125),
        'f16_special': torch.tensor([6e-8, 1e-5, 65504, float('inf'), -float('inf'), 0.0, -0.0], dtype=torch.float16),
    }
    save('dtypes.pt', dtypes, dtypes)

    base = torch.arange(60, dtype=torch.float32).reshape(6, 10)
    views = {
        'transposed': base.t(), 'slice_offset': base[2:5, 3:8], 'step': base[:, ::3], 'row': base[4],
        'expanded': torch.arange(3.0).reshape(3, 1).expand(3, 4), 'shared_a': base, 'shared_b': base.view(60)[7:19].reshape(3, 4),
    }
    save('views.pt', views, views)

    m = Tiny()
    sd = m.state_dict()
    save('module_state.pt', sd, dict(sd))

    sae_like = {'encoder.weight': torch.randn(16, 4), 'encoder.bias': torch.randn(16), 'decoder.weight': torch.randn(4, 16),
                'b_dec': torch.randn(4), 'k': torch.tensor(3), 'threshold': torch.tensor(-1.0)}
    save('weights.pt', sae_like, sae_like)   # torch 1.13 names the root folder after the file: "weights/"
    rezip_with_root(os.path.join(OUT, 'weights.pt'), os.path.join(OUT, 'archive_root.pt'), 'archive')
    expected('archive_root.pt', sae_like)

    nested = {'state_dict': {'lin.weight': torch.randn(2, 2), 'lin.bias': torch.zeros(2)}, 'step': 3, 'lr': 0.5, 'name': 'run'}
    save('nested.pt', nested, {'state_dict.lin.weight': nested['state_dict']['lin.weight'],
                               'state_dict.lin.bias': nested['state_dict']['lin.bias'],
                               'step': torch.tensor(3), 'lr': torch.tensor(0.5, dtype=torch.float64)})

    save('legacy.pt', {'w': torch.ones(2)}, _use_new_zipfile_serialization=False)

    # Hostile: each names a callable outside the whitelist; running it would create MARKER.
    for name, (module, fn, arg) in {
        'evil_os_system.pt': ('os', 'system', f'touch {MARKER}'),
        'evil_posix_system.pt': ('posix', 'system', f'touch {MARKER}'),
        'evil_eval.pt': ('builtins', 'eval', f"open('{MARKER}','w')"),
        'evil_getattr.pt': ('builtins', 'getattr', 'x'),
        'evil_popen.pt': ('subprocess', 'Popen', f'touch {MARKER}'),
        'evil_lookalike.pt': ('torch._utils', '_rebuild_tensor_v3', 'x'),
    }.items():
        zip_with_pkl(os.path.join(OUT, name), hostile_pickle(module, fn, arg))
    with open(os.path.join(OUT, 'evil_raw.pkl'), 'wb') as f:
        f.write(hostile_pickle('os', 'system', f'touch {MARKER}'))
    # A whitelisted global called with a hostile REDUCE target smuggled through STACK_GLOBAL.
    zip_with_pkl(os.path.join(OUT, 'evil_stack_global.pt'),
                 b'\x80\x02\x8c\x08builtins\x8c\x04exec\x93\x8c\x05print\x85R.')

    # Damaged files.
    good = open(os.path.join(OUT, 'weights.pt'), 'rb').read()
    with open(os.path.join(OUT, 'truncated.pt'), 'wb') as f:
        f.write(good[: len(good) // 2])
    eocd = good.rfind(b'PK\x05\x06')
    cd_off = struct.unpack('<I', good[eocd + 16: eocd + 20])[0]
    damaged = bytearray(good)
    damaged[cd_off: cd_off + 4] = b'XXXX'
    with open(os.path.join(OUT, 'corrupt_cd.pt'), 'wb') as f:
        f.write(bytes(damaged))
    with open(os.path.join(OUT, 'empty.pt'), 'wb') as f:
        pass
    # Storage shorter than the view needs, and a missing storage: rewrite one entry of a real archive.
    with zipfile.ZipFile(os.path.join(OUT, 'weights.pt')) as zin:
        names = zin.namelist()
        with zipfile.ZipFile(os.path.join(OUT, 'short_storage.pt'), 'w') as zs, zipfile.ZipFile(os.path.join(OUT, 'missing_storage.pt'), 'w') as zm:
            for n in names:
                data = zin.read(n)
                if n.endswith('/data/0'):
                    zs.writestr(n, data[:8])
                    continue
                zs.writestr(n, data)
                zm.writestr(n, data)

    with open(os.path.join(OUT, 'VERSIONS.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'numpy': np.__version__, 'seed': 1234, 'marker': MARKER}, f, indent=1)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
