/**
 * A restricted pickle reader for PyTorch checkpoints. It interprets the pickle opcodes (protocols 0–5) as data
 * and never executes anything: a global is resolved only if it is on a short whitelist of the names
 * `torch.save` emits for state dicts (OrderedDict, tensor/parameter rebuild functions, storage types, dtypes),
 * and every "call" (REDUCE, NEWOBJ, BUILD) is interpreted by code here for those names only. Any other global —
 * `os.system`, `builtins.eval`, `subprocess.Popen`, … — stops reading with an error naming it.
 *
 * Names from the file are looked up only in Maps and Sets (never with `in` on a plain object, where
 * `__proto__`, `constructor` or `toString` would match). Nothing here recurses over file-controlled structure:
 * the opcode loop is flat, `_rebuild_from_type_v2` may not wrap itself, and values are described in messages
 * without `String()` (which recurses into nested lists).
 */
import { AudioSaeError } from '../errors.ts';
import { clip, describeValue } from './describe.ts';
import type { DType } from './tensor.ts';

/** A Python tuple. */
export class PyTuple {
  constructor(readonly items: unknown[]) {}
}

/** A Python dict or OrderedDict (keys are strings or numbers in checkpoints). */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
  /** Attributes set by BUILD, e.g. an OrderedDict's `_metadata`. */
  readonly attributes = new Map<string, unknown>();
}

/** A whitelisted global. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage named by a persistent id: ('storage', storage_type, key, location, numel). */
export interface StorageRef {
  kind: 'storage';
  dtype: DType;
  key: string;
  numel: number;
}

/** A tensor view on a storage, as `_rebuild_tensor_v2` describes it. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  storageOffset: number;
  size: number[];
  stride: number[];
}

/** `torch.<name>Storage` globals and their element types. */
const STORAGE_DTYPES = new Map<string, DType>([
  ['FloatStorage', 'float32'], ['HalfStorage', 'float16'], ['BFloat16Storage', 'bfloat16'], ['DoubleStorage', 'float64'],
  ['LongStorage', 'int64'], ['IntStorage', 'int32'], ['ShortStorage', 'int16'], ['CharStorage', 'int8'], ['ByteStorage', 'uint8'],
  ['BoolStorage', 'bool'],
]);
/** `torch.<dtype>` globals. */
const DTYPE_NAMES = new Map<string, DType>([
  ['float32', 'float32'], ['float', 'float32'], ['float16', 'float16'], ['half', 'float16'], ['bfloat16', 'bfloat16'],
  ['float64', 'float64'], ['double', 'float64'], ['int64', 'int64'], ['long', 'int64'], ['int32', 'int32'], ['int', 'int32'],
  ['int16', 'int16'], ['short', 'int16'], ['int8', 'int8'], ['uint8', 'uint8'], ['bool', 'bool'],
]);

const CALLABLES = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
  'torch.Size',
  'builtins.set',
  'builtins.frozenset',
]);
const TYPES = new Set(['torch.Tensor', 'torch._tensor.Tensor', 'torch.nn.parameter.Parameter', 'torch.storage.UntypedStorage']);

function isWhitelisted(module: string, name: string): boolean {
  const q = `${module}.${name}`;
  if (CALLABLES.has(q) || TYPES.has(q)) return true;
  if (module === 'torch' && (STORAGE_DTYPES.has(name) || DTYPE_NAMES.has(name))) return true;
  return false;
}

const MAX_LONG_BYTES = 64;
/** torch tensors have at most 64 dimensions. */
export const MAX_TENSOR_RANK = 64;

/** A pickle value in a few words, for error messages. */
export function describePy(v: unknown): string {
  if (v instanceof PyTuple) return `a tuple of ${v.items.length}`;
  if (v instanceof PyDict) return `a dict of ${v.map.size}`;
  if (v instanceof PyGlobal) return `the global "${clip(v.qualified)}"`;
  if (isTensorRef(v)) return 'a tensor';
  if (isStorageRef(v)) return 'a storage';
  return describeValue(v);
}

export interface UnpickleOptions {
  /** Resolves a persistent id (torch's storages). */
  persistentLoad?: (pid: unknown) => unknown;
  /** Named in error messages. */
  file: string;
}

export function unpickle(input: Uint8Array, options: UnpickleOptions): unknown {
  const { file } = options;
  // A plain Uint8Array view (not a Buffer), so that slice() below copies.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const td = new TextDecoder('utf-8', { fatal: false });
  const latin1 = new TextDecoder('latin1');
  let pos = 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const fail = (problem: string): never => {
    throw new AudioSaeError(`cannot be read: ${problem} (pickle byte ${pos}).`, file);
  };
  const need = (n: number) => {
    if (n < 0 || pos + n > bytes.length) fail('the pickle is truncated');
  };
  const u8 = () => (need(1), bytes[pos++]!);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) fail('a length field is larger than the whole file');
    return Number(v);
  };
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('the pickle is truncated (unterminated line)');
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => (stack.length === 0 ? fail('stack underflow') : stack.pop());
  const top = () => (stack.length === 0 ? fail('stack underflow') : stack[stack.length - 1]);
  const popMark = (): unknown[] => {
    const items = stack;
    if (metastack.length === 0) fail('MARK missing');
    stack = metastack.pop()!;
    return items;
  };
  const refuse = (what: string): never => {
    throw new AudioSaeError(
      `is refused for safety: its pickle refers to ${what}, which is not on the list of names a PyTorch state dict may use. Nothing was executed.`,
      file,
      'Only load checkpoints from sources you trust; re-save plain state dicts with torch.save(model.state_dict(), path).',
    );
  };
  const global = (module: string, name: string) => {
    if (!isWhitelisted(module, name)) refuse(`"${clip(module)}.${clip(name)}"`);
    return new PyGlobal(module, name);
  };
  const decodeLong = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof PyDict)) fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2) fail('odd number of items for SETITEMS');
    for (let i = 0; i < items.length; i += 2) (target as PyDict).map.set(items[i], items[i + 1]);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME
      case 0x2e: { // STOP
        if (stack.length !== 1) fail(`the pickle ends with ${stack.length} values on the stack`);
        return stack[0];
      }
      case 0x28: metastack.push(stack); stack = []; break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(decodeLong(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = u32();
        if (n > MAX_LONG_BYTES) fail(`an integer of ${n} bytes is far larger than any checkpoint needs`);
        stack.push(decodeLong(take(n)));
        break;
      }
      case 0x49: { // INT (text)
        const s = line().trim();
        stack.push(s === '00' ? false : s === '01' ? true : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: stack.push(Number.parseInt(line().replace(/L$/, ''), 10)); break; // LONG (text)
      case 0x47: need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT (big-endian)
      case 0x46: stack.push(Number.parseFloat(line())); break; // FLOAT (text)
      case 0x58: stack.push(td.decode(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(td.decode(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(td.decode(take(u64()))); break; // BINUNICODE8
      case 0x54: stack.push(latin1.decode(take(i32()))); break; // BINSTRING
      case 0x55: stack.push(latin1.decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x96: stack.push(take(u64()).slice()); break; // BYTEARRAY8
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x8f: stack.push([]); break; // EMPTY_SET (as a list)
      case 0x74: { const items = popMark(); stack.push(new PyTuple(items)); break; } // TUPLE
      case 0x85: stack.push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(new PyTuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(new PyTuple([a, b, c])); break; } // TUPLE3
      case 0x6c: { const items = popMark(); stack.push(items); break; } // LIST
      case 0x91: { const items = popMark(); stack.push(items); break; } // FROZENSET (as a list)
      case 0x64: { const d = new PyDict(); setItems(d, popMark()); stack.push(d); break; } // DICT (popMark runs before the push)
      case 0x61: { const v = pop(); const l = top(); if (!Array.isArray(l)) fail('APPEND to a non-list'); (l as unknown[]).push(v); break; } // APPEND
      case 0x65: // APPENDS
      case 0x90: { // ADDITEMS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) fail('APPENDS to a non-list');
        // One push per item: push(...items) throws a RangeError for a few hundred thousand items.
        for (const item of items) (l as unknown[]).push(item);
        break;
      }
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: memo.set(Number.parseInt(line(), 10), top()); break; // PUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
        const idx = op === 0x68 ? u8() : op === 0x6a ? u32() : Number.parseInt(line(), 10);
        if (!memo.has(idx)) fail(`memo entry ${idx} is missing`);
        stack.push(memo.get(idx));
        break;
      }
      case 0x63: { const module = line(); const name = line(); stack.push(global(module, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop();
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        build(obj, state);
        break;
      }
      case 0x51: stack.push(persistent(pop())); break; // BINPERSID
      case 0x50: stack.push(persistent(line())); break; // PERSID
      case 0x69: refuse(`the INST opcode (class "${clip(line())}.${clip(line())}")`); break; // INST
      case 0x6f: refuse('the OBJ opcode (an arbitrary constructor call)'); break; // OBJ
      case 0x82: case 0x83: case 0x84: refuse('the copyreg extension registry'); break; // EXT1/2/4
      default:
        fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }

  function persistent(pid: unknown): unknown {
    if (!options.persistentLoad) fail('a persistent id appears, but this file kind has no storages');
    return options.persistentLoad!(pid);
  }

  function build(obj: unknown, state: unknown): void {
    if (obj instanceof PyDict) {
      // OrderedDict state: a dict of attributes, or (dict, slots). Attribute names are strings in Python;
      // anything else is skipped rather than turned into text.
      const dicts = state instanceof PyTuple ? state.items : [state];
      for (const d of dicts) if (d instanceof PyDict) for (const [k, v] of d.map) if (typeof k === 'string') obj.attributes.set(k, v);
      return;
    }
    if (isTensorRef(obj)) return; // tensor state (e.g. a Parameter's attributes) carries no data
    fail('BUILD on an object that is not a dict or tensor');
  }

  function call(fn: unknown, argsValue: unknown): unknown {
    if (!(fn instanceof PyGlobal)) return fail('a call target that is not a whitelisted global');
    const args = argsValue instanceof PyTuple ? argsValue.items : Array.isArray(argsValue) ? argsValue : fail('call arguments are not a tuple');
    switch (fn.qualified) {
      case 'collections.OrderedDict': {
        const d = new PyDict();
        if (args.length && Array.isArray(args[0])) for (const pair of args[0] as unknown[]) if (pair instanceof PyTuple) d.map.set(pair.items[0], pair.items[1]);
        return d;
      }
      case 'torch._utils._rebuild_tensor':
      case 'torch._utils._rebuild_tensor_v2':
        return rebuildTensor(args);
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        if (!isTensorRef(args[0])) fail('a parameter without tensor data');
        return args[0];
      case 'torch._tensor._rebuild_from_type_v2': {
        // (func, new_type, args, state): torch wraps a tensor rebuild in it once; it never wraps itself, and
        // refusing that keeps a self-nested chain from recursing without bound.
        const [inner, , innerArgs] = args;
        if (inner instanceof PyGlobal && inner.qualified === 'torch._tensor._rebuild_from_type_v2') {
          fail('_rebuild_from_type_v2 wraps itself, which torch.save never writes');
        }
        return call(inner, innerArgs);
      }
      case 'torch.Size':
        return args[0] instanceof PyTuple ? args[0] : new PyTuple(args);
      case 'builtins.set':
      case 'builtins.frozenset':
        return Array.isArray(args[0]) ? [...(args[0] as unknown[])] : [];
      case 'torch.nn.parameter.Parameter':
        if (isTensorRef(args[0])) return args[0];
        return fail('a Parameter built from something other than a tensor');
      default:
        return refuse(`a call to "${clip(fn.qualified)}"`);
    }
  }

  function rebuildTensor(args: unknown[]): TensorRef {
    const [storage, offset, size, stride] = args;
    if (!isStorageRef(storage)) fail(`a tensor whose storage is ${describePy(storage)}, not a checkpoint storage`);
    const ints = (v: unknown, what: string): number[] => {
      const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : fail(`tensor ${what} is ${describePy(v)}, not a tuple`);
      if (items.length > MAX_TENSOR_RANK) fail(`a tensor ${what} has ${items.length} dimensions; torch allows ${MAX_TENSOR_RANK}`);
      return items.map((x) => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : fail(`tensor ${what} holds ${describePy(x)}`)));
    };
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) fail(`a tensor with an invalid storage offset (${describePy(offset)})`);
    const sizes = ints(size, 'size');
    const strides = ints(stride, 'stride');
    if (sizes.length !== strides.length) fail('a tensor whose size and stride differ in length');
    return { kind: 'tensor', storage: storage as StorageRef, storageOffset: offset as number, size: sizes, stride: strides };
  }
}

export function isTensorRef(v: unknown): v is TensorRef {
  return typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor';
}

export function isStorageRef(v: unknown): v is StorageRef {
  return typeof v === 'object' && v !== null && (v as StorageRef).kind === 'storage';
}

/** The dtype of a storage type global (torch.FloatStorage …) or dtype global (torch.float32 …). */
export function dtypeOfStorageType(g: unknown): DType | undefined {
  if (!(g instanceof PyGlobal) || g.module !== 'torch') return undefined;
  return STORAGE_DTYPES.get(g.name) ?? DTYPE_NAMES.get(g.name);
}
