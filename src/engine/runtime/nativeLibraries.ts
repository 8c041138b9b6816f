/**
 * Whether a shared library can be loaded into this process, and which libraries an ELF file asks for: the facts
 * behind the execution-provider explanations ("libcudnn.so.9 not found"). Loading goes through the dynamic
 * linker itself (process.dlopen), so LD_LIBRARY_PATH, the ldconfig cache and RUNPATHs count exactly as they
 * will when onnxruntime loads the library; a library that is not a Node addon loads and then fails to
 * "self-register", which still proves it was found and its own dependencies resolved.
 */
import { readFileSync } from 'node:fs';

/** undefined when the library loads; otherwise the dynamic linker's one-line reason. */
export function libraryLoadError(nameOrPath: string): string | undefined {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, nameOrPath);
    return undefined;
  } catch (e) {
    const message = String((e as Error).message ?? e).split('\n')[0]!;
    if (/did not self-register|Module did not|napi_register_module|Cannot find module/.test(message)) return undefined;
    return message;
  }
}

/** The DT_NEEDED entries (e.g. "libcudnn.so.9") of a 64-bit little-endian ELF shared library. */
export function elfNeeded(path: string): string[] {
  const b = readFileSync(path);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error(`${path} is not a 64-bit little-endian ELF file`);
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  const loads: Array<{ vaddr: number; offset: number; filesz: number }> = [];
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    const type = b.readUInt32LE(p);
    const offset = Number(b.readBigUInt64LE(p + 8));
    const vaddr = Number(b.readBigUInt64LE(p + 16));
    const filesz = Number(b.readBigUInt64LE(p + 32));
    if (type === 1) loads.push({ vaddr, offset, filesz }); // PT_LOAD
    if (type === 2) dynamic = { offset, size: filesz }; // PT_DYNAMIC
  }
  if (!dynamic) return [];
  const fileOffset = (vaddr: number) => {
    const seg = loads.find((l) => vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz);
    if (!seg) throw new Error(`${path}: address ${vaddr} is outside every loaded segment`);
    return vaddr - seg.vaddr + seg.offset;
  };
  const needed: number[] = [];
  let strtab = -1;
  for (let p = dynamic.offset; p + 16 <= dynamic.offset + dynamic.size; p += 16) {
    const tag = Number(b.readBigInt64LE(p));
    const val = Number(b.readBigUInt64LE(p + 8));
    if (tag === 0) break; // DT_NULL
    if (tag === 1) needed.push(val); // DT_NEEDED
    if (tag === 5) strtab = fileOffset(val); // DT_STRTAB
  }
  if (strtab < 0) return [];
  return needed.map((off) => {
    const start = strtab + off;
    return b.toString('latin1', start, b.indexOf(0, start));
  });
}
