/**
 * Builders for crafted checkpoint files in tests: pickle bytes opcode by opcode, torch-style state-dict
 * pickles, a STORED zip writer whose size, offset and count fields can be made to lie (including ZIP64
 * fields), and safetensors files with any header. Everything is small; the lies are in the numbers.
 */

/** Pickle bytes, opcode by opcode (protocol 2–4 opcodes). */
export class PickleBuilder {
  private readonly parts: number[] = [];

  private op(...bytes: number[]): this {
    for (const b of bytes) this.parts.push(b);
    return this;
  }
  private raw(bytes: Uint8Array): this {
    for (const b of bytes) this.parts.push(b);
    return this;
  }
  private u32(n: number): number[] {
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  }

  proto(v = 2): this { return this.op(0x80, v); }
  stop(): this { return this.op(0x2e); }
  mark(): this { return this.op(0x28); }
  none(): this { return this.op(0x4e); }
  bool(v: boolean): this { return this.op(v ? 0x88 : 0x89); }
  emptyDict(): this { return this.op(0x7d); }
  emptyList(): this { return this.op(0x5d); }
  emptyTuple(): this { return this.op(0x29); }
  tuple(): this { return this.op(0x74); }
  tuple1(): this { return this.op(0x85); }
  tuple2(): this { return this.op(0x86); }
  list(): this { return this.op(0x6c); }
  setitem(): this { return this.op(0x73); }
  setitems(): this { return this.op(0x75); }
  appends(): this { return this.op(0x65); }
  reduce(): this { return this.op(0x52); }
  build(): this { return this.op(0x62); }
  binpersid(): this { return this.op(0x51); }
  dup(): this { return this.op(0x32); }
  pop(): this { return this.op(0x30); }
  put(i: number): this { return this.op(0x72, ...this.u32(i)); }
  get(i: number): this { return this.op(0x6a, ...this.u32(i)); }
  /** BININT for 32-bit values, LONG1 for larger (two's complement, little-endian). */
  int(n: number | bigint): this {
    const v = BigInt(n);
    if (v >= -(2n ** 31n) && v < 2n ** 31n) return this.op(0x4a, ...this.u32(Number(BigInt.asUintN(32, v))));
    const bytes: number[] = [];
    let x = v;
    for (;;) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
      if ((x === 0n && !(bytes[bytes.length - 1]! & 0x80)) || (x === -1n && bytes[bytes.length - 1]! & 0x80)) break;
    }
    return this.op(0x8a, bytes.length, ...bytes);
  }
  /** BINUNICODE. */
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.op(0x58, ...this.u32(b.length)).raw(b);
  }
  /** GLOBAL "module\nname\n" (protocol 0 style, as torch writes with protocol 2). */
  global(module: string, name: string): this {
    return this.op(0x63).raw(new TextEncoder().encode(`${module}\n${name}\n`));
  }
  /** A tuple of small ints. */
  ints(values: Array<number | bigint>): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface ViewSpec {
  /** The state-dict key. */
  key: string;
  /** The storage's key in the archive (data/<storageKey>). */
  storageKey: string;
  storageType?: string;
  /** The element count the persistent id declares. */
  numel: number | bigint;
  offset?: number | bigint;
  size: Array<number | bigint>;
  stride: Array<number | bigint>;
}

/** Pushes `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`. */
export function pushTensor(p: PickleBuilder, v: ViewSpec): PickleBuilder {
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.mark();
  p.mark().str('storage').global('torch', v.storageType ?? 'FloatStorage').str(v.storageKey).str('cpu').int(v.numel).tuple().binpersid();
  p.int(v.offset ?? 0).ints(v.size).ints(v.stride).bool(false);
  p.global('collections', 'OrderedDict').emptyTuple().reduce();
  return p.tuple().reduce();
}

/** A whole data.pkl: a dict of tensor views, as torch.save writes a state dict. */
export function stateDictPickle(views: ViewSpec[]): Uint8Array {
  const p = new PickleBuilder().proto(2).emptyDict().mark();
  for (const v of views) pushTensor(p.str(v.key), v);
  return p.setitems().stop().bytes();
}

export interface ZipSpec {
  name: string;
  data: Uint8Array;
  /** Lies for the central directory (ZIP64 extra fields are written for values ≥ 0xffffffff). */
  size?: number | bigint;
  compressedSize?: number | bigint;
  offset?: number | bigint;
  method?: number;
  /** A ZIP64 extra field shorter than the saturated fields need. */
  truncatedZip64?: boolean;
}

/** A STORED zip archive; `count` overrides the entry count in the end record (ZIP64 when ≥ 0xffff). */
export function storedZip(entries: ZipSpec[], options: { count?: number | bigint } = {}): Uint8Array {
  const chunks: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.method ?? 0, 8);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    chunks.push(local, name, Buffer.from(e.data));
    const size = BigInt(e.size ?? e.data.length);
    const compressed = BigInt(e.compressedSize ?? e.data.length);
    const at = BigInt(e.offset ?? offset);
    const big = (v: bigint) => v >= 0xffffffffn;
    const extra: bigint[] = [size, compressed, at].filter(big);
    const extraBuf = Buffer.alloc(extra.length ? 4 + (e.truncatedZip64 ? 0 : 8 * extra.length) : 0);
    if (extra.length) {
      extraBuf.writeUInt16LE(0x0001, 0);
      extraBuf.writeUInt16LE(e.truncatedZip64 ? 0 : 8 * extra.length, 2);
      if (!e.truncatedZip64) extra.forEach((v, i) => extraBuf.writeBigUInt64LE(v, 4 + 8 * i));
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(45, 4);
    central.writeUInt16LE(45, 6);
    central.writeUInt16LE(e.method ?? 0, 10);
    central.writeUInt32LE(big(compressed) ? 0xffffffff : Number(compressed), 20);
    central.writeUInt32LE(big(size) ? 0xffffffff : Number(size), 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extraBuf.length, 30);
    central.writeUInt32LE(big(at) ? 0xffffffff : Number(at), 42);
    centrals.push(central, name, extraBuf);
    offset += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(centrals);
  const count = BigInt(options.count ?? entries.length);
  const tail: Buffer[] = [];
  if (count >= 0xffffn) {
    const z64 = Buffer.alloc(56);
    z64.writeUInt32LE(0x06064b50, 0);
    z64.writeBigUInt64LE(44n, 4);
    z64.writeBigUInt64LE(count, 24);
    z64.writeBigUInt64LE(count, 32);
    z64.writeBigUInt64LE(BigInt(cd.length), 40);
    z64.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(z64, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count >= 0xffffn ? 0xffff : Number(count), 8);
  end.writeUInt16LE(count >= 0xffffn ? 0xffff : Number(count), 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, cd, ...tail, end]);
}

/** A torch.save-shaped archive: `archive/data.pkl`, `archive/byteorder` and one entry per storage. */
export function torchZip(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}, lies: Partial<Record<string, Omit<ZipSpec, 'name' | 'data'>>> = {}): Uint8Array {
  const entries: ZipSpec[] = [
    { name: 'archive/data.pkl', data: pickle },
    { name: 'archive/byteorder', data: new TextEncoder().encode('little') },
  ];
  for (const [key, data] of Object.entries(storages)) entries.push({ name: `archive/data/${key}`, data, ...lies[key] });
  return storedZip(entries);
}

/** Float32 little-endian bytes. */
export const f32Bytes = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

/** A safetensors file: the header given as JSON text (so it can be anything) and the data bytes after it. */
export function safetensorsFile(headerJson: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = Buffer.from(headerJson);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(data)]);
}

/** True when a message holds a raw C0/C1 control character (ESC, CR …). */
// eslint-disable-next-line no-control-regex
export const hasControlCharacter = (text: string): boolean => /[\u0000-\u001f\u007f-\u009f]/.test(text);
