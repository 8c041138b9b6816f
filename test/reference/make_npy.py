#!/usr/bin/env python3
"""Makes .npy files with numpy itself (each dtype, format versions 1-3, Fortran order, big-endian) in fixtures/npy/.
Run: /usr/bin/python3 test/reference/make_npy.py"""
import json
import os
import shutil

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'npy')
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
base = np.arange(12).reshape(3, 4) - 5
arrays = {'f4': base.astype('<f4') / 3, 'f8': base.astype('<f8') / 7, 'i4': base.astype('<i4'), 'i8': base.astype('<i8') * 10**12,
          'u1': (base + 5).astype('u1'), 'b1': base > 0, 'f2': base.astype('<f2') / 4, 'scalar': np.array(2.5, '<f4'), 'empty': np.zeros((0, 3), '<f4')}
for name, a in arrays.items():
    np.save(os.path.join(OUT, f'{name}.npy'), a)
for version in ((2, 0), (3, 0)):
    with open(os.path.join(OUT, f'v{version[0]}.npy'), 'wb') as f:
        npformat.write_array(f, arrays['f4'], version=version)
np.save(os.path.join(OUT, 'fortran.npy'), np.asfortranarray(np.arange(24, dtype='<f4').reshape(2, 3, 4)))
np.save(os.path.join(OUT, 'bigendian.npy'), base.astype('>f4'))
with open(os.path.join(OUT, 'expected.json'), 'w') as f:
    json.dump({name: {'shape': list(a.shape), 'values': [float(v) if a.dtype.kind == 'f' else int(v) for v in a.ravel()]}
               for name, a in arrays.items()} | {'fortran': {'shape': [2, 3, 4], 'values': list(range(24))}}, f)
json.dump({'numpy': np.__version__}, open(os.path.join(OUT, 'VERSIONS.json'), 'w'))
