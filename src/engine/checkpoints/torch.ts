/**
 * Reads checkpoints written by `torch.save` (zip format, PyTorch 1.6 onwards): `<root>/data.pkl` (the object,
 * read by the restricted unpickler), `<root>/data/<key>` (one entry per storage), `<root>/byteorder`. The root
 * folder's name varies between writers and is found, not assumed. Tensors come back contiguous and row-major,
 * whatever their strides and storage offsets on disk; tensors sharing a storage are each read correctly.
 *
 * Nested dicts are flattened with dotted keys (flatten.ts); plain Python numbers in them become scalar tensors
 * (int64 or float64), because some checkpoints store `k` as an int rather than a tensor. Every view is checked
 * against its storage and the file (views.ts) before the first tensor is read.
 */
import { AudioSaeError } from '../errors.ts';
import { clip } from './describe.ts';
import { openRegularFile, readExactly } from './files.ts';
import { flattenStateDict } from './flatten.ts';
import type { DType, StateDict, Tensor } from './tensor.ts';
import { dtypeOfStorageType, PyTuple, unpickle, type StorageRef } from './unpickle.ts';
import { checkTotal, checkView, materialise, type CheckedView } from './views.ts';
import { ZipReader } from './zip.ts';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;

async function sniff(path: string): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(path);
  try {
    return await readExactly(handle, path, 0, Math.min(size, 8), size);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

export async function loadTorchCheckpoint(path: string): Promise<StateDict> {
  const head = await sniff(path);
  if (head.length === 0) throw new AudioSaeError('is empty (0 bytes).', path);
  if (!ZIP_MAGIC.every((b, i) => head[i] === b)) {
    if (head[0] === 0x80) {
      throw new AudioSaeError(
        'uses the legacy (pre-1.6) torch.save format, which is not supported.',
        path,
        'Re-save it with torch >= 1.6: torch.save(torch.load(path), path).',
      );
    }
    throw new AudioSaeError('is not a PyTorch checkpoint (not a zip archive written by torch.save).', path);
  }
  const zip = await ZipReader.open(path);
  try {
    const pklEntries = [...zip.entries.values()].filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
    if (pklEntries.length !== 1) {
      throw new AudioSaeError(`is not a torch.save archive: expected one "<root>/data.pkl", found ${pklEntries.length}.`, path);
    }
    const root = pklEntries[0]!.name.slice(0, -'data.pkl'.length);
    const byteorderEntry = zip.entries.get(`${root}byteorder`);
    const byteorder = byteorderEntry ? new TextDecoder().decode(await zip.read(byteorderEntry, 16)).trim() : 'little';
    if (byteorder !== 'little' && byteorder !== 'big') throw new AudioSaeError(`has an unknown byteorder "${clip(byteorder)}".`, path);

    const storages = new Map<string, StorageRef>();
    const obj = unpickle(await zip.read(pklEntries[0]!, MAX_PICKLE_BYTES), {
      file: path,
      persistentLoad: (pid) => storageRef(pid, storages, path),
    });

    const refs = flattenStateDict(obj, path);
    if (refs.size === 0) throw new AudioSaeError('holds no tensors.', path);
    // Every view is checked before anything is read, so a bad last tensor costs no reads of the first.
    const views: CheckedView[] = [];
    for (const [key, ref] of refs) {
      if (typeof ref === 'number') continue;
      const entry = zip.entries.get(`${root}data/${ref.storage.key}`);
      if (!entry) throw new AudioSaeError(`is damaged: the storage "${clip(ref.storage.key)}" of "${clip(key)}" is missing from the archive.`, path);
      if (entry.method !== 0) throw new AudioSaeError(`stores "${clip(key)}" compressed, which torch.save never does.`, path);
      views.push(checkView(ref, key, entry, path));
    }
    checkTotal(views, zip.fileSize, path);
    const byKey = new Map(views.map((v) => [v.key, v]));
    const out: StateDict = new Map();
    for (const [key, ref] of refs) {
      out.set(key, typeof ref === 'number' ? scalarTensor(ref) : await materialise(zip, byKey.get(key)!, byteorder === 'big'));
    }
    return out;
  } finally {
    await zip.close();
  }
}

/**
 * A persistent id ('storage', storage_type, key, location, numel) as a storage reference. One key is one
 * storage: torch.save refuses to save a storage under two dtypes, so a second reference that disagrees is
 * damage, not a view.
 */
function storageRef(pid: unknown, storages: Map<string, StorageRef>, path: string): StorageRef {
  const items = pid instanceof PyTuple ? pid.items : [];
  const [tag, type, key, , numel] = items;
  const dtype = dtypeOfStorageType(type);
  if (tag !== 'storage' || typeof key !== 'string' || !dtype || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
    throw new AudioSaeError('cannot be read: a storage reference in its pickle is malformed.', path);
  }
  const known = storages.get(key);
  if (known) {
    if (known.dtype !== dtype || known.numel !== numel) {
      throw new AudioSaeError(
        `is damaged: storage "${clip(key)}" is referenced as ${known.numel} ${known.dtype} elements and as ${numel} ${dtype} elements.`,
        path,
      );
    }
    return known;
  }
  const ref: StorageRef = { kind: 'storage', dtype, key, numel };
  storages.set(key, ref);
  return ref;
}

function scalarTensor(v: number): Tensor {
  return Number.isInteger(v)
    ? { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(v)) }
    : { dtype: 'float64', shape: [], data: Float64Array.of(v) };
}

export type { DType };
