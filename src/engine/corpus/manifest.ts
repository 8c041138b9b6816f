/**
 * A corpus: clips, each with a domain (speech / sounds / music, or any name) and optionally a dataset, given as
 * a folder (first-level sub-folder = domain, second level, if any = dataset; clips anywhere below) or as a
 * manifest (CSV with a header, or JSONL) with `path`, `domain` and optional `dataset`, `start_s`, `end_s` (a
 * segment of a longer file); relative paths are relative to the manifest, other columns are kept as metadata.
 *
 * Everything that can be checked before any work starts is checked here, and every problem is reported at
 * once (all missing files, not the first): a manifest without `path` or `domain`, duplicate rows, unsupported
 * extensions, impossible segments, and segments past the end of a WAV file (other formats are checked when
 * decoded, and a clip that fails then is recorded as failed without stopping the run).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseWavLayout } from '../audio/wav.ts';
import { AudioSaeError } from '../errors.ts';
import { parseCsv } from './csv.ts';

export const AUDIO_EXTENSIONS = new Set(['.wav', '.flac', '.mp3', '.ogg', '.opus']);

export interface CorpusClip {
  /** Absolute path of the audio file. */
  path: string;
  domain: string;
  dataset: string | null;
  /** A segment of the file in seconds, or null for the whole file. */
  startS: number | null;
  endS: number | null;
  /** The manifest's other columns. */
  metadata: Record<string, string>;
}

export interface Corpus {
  /** The folder or manifest the corpus came from (absolute). */
  source: string;
  clips: CorpusClip[];
  /** sha256 over the clips' identities in a canonical order: the same corpus gives the same checksum. */
  checksum: string;
}

/** A clip's identity within a corpus: its file and segment. */
export function clipKey(c: Pick<CorpusClip, 'path' | 'startS' | 'endS'>): string {
  return `${c.path}\u0000${c.startS ?? ''}\u0000${c.endS ?? ''}`;
}

const MAX_LISTED = 20;

/** The corpus's problems of one kind, all in one error (the first MAX_LISTED in the message, every one in `items`). */
export class CorpusProblems extends AudioSaeError {
  constructor(source: string, what: string, readonly items: string[], hint?: string) {
    const more = items.length > MAX_LISTED ? `; … and ${items.length - MAX_LISTED} more` : '';
    super(`${what} (${items.length}): ${items.slice(0, MAX_LISTED).join('; ')}${more}.`, source, hint);
  }
}

async function walk(folder: string, out: string[]): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(folder, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile()) out.push(p);
  }
}

async function corpusFromFolder(folder: string): Promise<CorpusClip[]> {
  const files: string[] = [];
  await walk(folder, files);
  const clips: CorpusClip[] = [];
  const loose: string[] = [];
  for (const file of files) {
    if (!AUDIO_EXTENSIONS.has(extname(file).toLowerCase())) continue; // notes, labels, images: not clips
    const parts = relative(folder, file).split(sep);
    if (parts.length < 2) {
      loose.push(parts[0]!);
      continue;
    }
    clips.push({ path: file, domain: parts[0]!, dataset: parts.length >= 3 ? parts[1]! : null, startS: null, endS: null, metadata: {} });
  }
  if (loose.length) {
    throw new CorpusProblems(folder, 'holds clips directly in the corpus folder, where they have no domain', loose, 'Put each clip in a sub-folder named after its domain (speech/, sounds/, music/ …).');
  }
  if (clips.length === 0) throw new AudioSaeError('holds no audio clips (.wav, .flac, .mp3, .ogg, .opus) in domain sub-folders.', folder);
  return clips;
}

type Row = Record<string, string>;

function rowsOfManifest(text: string, file: string): Row[] {
  if (/\.jsonl$/i.test(file) || /\.ndjson$/i.test(file)) {
    const rows: Row[] = [];
    text.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new AudioSaeError(`line ${i + 1} is not valid JSON (${(e as Error).message}).`, file);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new AudioSaeError(`line ${i + 1} is not a JSON object.`, file);
      const row: Row = Object.create(null) as Row;
      for (const [k, x] of Object.entries(v)) row[k] = x === null || x === undefined ? '' : typeof x === 'string' ? x : JSON.stringify(x);
      rows.push(row);
    });
    return rows;
  }
  const table = parseCsv(text, file);
  if (table.length === 0) throw new AudioSaeError('is empty: a manifest needs a header row (path,domain,…) and one row per clip.', file);
  const header = table[0]!.map((h) => h.trim());
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup) throw new AudioSaeError(`has the column "${dup}" twice in its header.`, file);
  return table.slice(1).filter((r) => r.some((c) => c.trim() !== '')).map((cells, i) => {
    if (cells.length !== header.length) throw new AudioSaeError(`row ${i + 2} has ${cells.length} fields; the header has ${header.length}.`, file);
    const row: Row = Object.create(null) as Row;
    header.forEach((h, j) => (row[h] = cells[j]!));
    return row;
  });
}

function seconds(value: string | undefined, column: string, line: number, file: string): number | null {
  if (value === undefined || value.trim() === '') return null;
  const v = Number(value);
  if (!Number.isFinite(v) || v < 0) throw new AudioSaeError(`row ${line}: ${column} "${value}" is not a time in seconds ≥ 0.`, file);
  return v;
}

async function corpusFromManifest(file: string): Promise<CorpusClip[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new AudioSaeError(`cannot be read (${(e as NodeJS.ErrnoException).code}).`, file);
  }
  const rows = rowsOfManifest(text.replace(/^\uFEFF/, ''), file);
  if (rows.length === 0) throw new AudioSaeError('lists no clips.', file);
  for (const column of ['path', 'domain']) {
    if (!rows.every((r) => Object.hasOwn(r, column))) {
      throw new AudioSaeError(`has no "${column}" column.`, file, 'A manifest needs path and domain; dataset, start_s and end_s are optional.');
    }
  }
  const base = dirname(file);
  const known = new Set(['path', 'domain', 'dataset', 'start_s', 'end_s']);
  return rows.map((r, i) => {
    const line = i + 2; // 1-based, after the header (JSONL: the object's order)
    if (!r.path!.trim()) throw new AudioSaeError(`row ${line} has an empty path.`, file);
    if (!r.domain!.trim()) throw new AudioSaeError(`row ${line} has an empty domain.`, file);
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(r)) if (!known.has(k)) metadata[k] = v;
    const p = r.path!.trim();
    return {
      path: isAbsolute(p) ? p : resolve(base, p),
      domain: r.domain!.trim(),
      dataset: r.dataset?.trim() ? r.dataset.trim() : null,
      startS: seconds(r.start_s, 'start_s', line, file),
      endS: seconds(r.end_s, 'end_s', line, file),
      metadata,
    };
  });
}

/** Duration of a WAV file from its header, or undefined for other formats (checked when decoded). */
export function wavDurationS(path: string): number | undefined {
  if (extname(path).toLowerCase() !== '.wav') return undefined;
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    const layout = parseWavLayout((offset, length) => {
      const buf = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      const n = readSync(fd, buf, 0, buf.length, offset);
      return buf.subarray(0, n);
    }, size, path);
    return layout.frames / layout.sampleRateHz;
  } catch {
    return undefined; // a damaged file fails as a clip, with its own error, when the run reaches it
  } finally {
    closeSync(fd);
  }
}

async function validate(source: string, clips: CorpusClip[]): Promise<void> {
  const unsupported = clips.filter((c) => !AUDIO_EXTENSIONS.has(extname(c.path).toLowerCase())).map((c) => c.path);
  if (unsupported.length) throw new CorpusProblems(source, 'lists files of unsupported types', unsupported, 'Supported: .wav, .flac, .mp3, .ogg, .opus.');
  const missing: string[] = [];
  for (const c of clips) {
    const s = await stat(c.path).catch(() => undefined);
    if (!s) missing.push(c.path);
    else if (!s.isFile()) missing.push(`${c.path} (not a file)`);
  }
  if (missing.length) throw new CorpusProblems(source, 'lists files that do not exist', missing);
  const seen = new Map<string, number>();
  const duplicates: string[] = [];
  clips.forEach((c, i) => {
    const key = clipKey(c);
    const first = seen.get(key);
    if (first !== undefined) duplicates.push(`${c.path}${c.startS !== null || c.endS !== null ? ` [${c.startS ?? 0}, ${c.endS ?? 'end'}]` : ''} (entries ${first + 1} and ${i + 1})`);
    else seen.set(key, i);
  });
  if (duplicates.length) throw new CorpusProblems(source, 'lists the same clip more than once', duplicates);
  const badSegments: string[] = [];
  for (const c of clips) {
    if (c.startS === null && c.endS === null) continue;
    if (c.startS !== null && c.endS !== null && c.endS <= c.startS) {
      badSegments.push(`${c.path}: end_s ${c.endS} is not after start_s ${c.startS}`);
      continue;
    }
    const duration = wavDurationS(c.path);
    if (duration === undefined) continue;
    if ((c.startS ?? 0) >= duration || (c.endS ?? 0) > duration + 1e-6) {
      badSegments.push(`${c.path}: [${c.startS ?? 0}, ${c.endS ?? 'end'}] s lies outside the file's ${duration.toFixed(3)} s`);
    }
  }
  if (badSegments.length) throw new CorpusProblems(source, 'lists segments outside their files', badSegments);
}

/** Reads and checks a corpus given as a folder or a manifest file. */
export async function loadCorpus(sourcePath: string): Promise<Corpus> {
  const source = resolve(sourcePath);
  const s = await stat(source).catch(() => undefined);
  if (!s) throw new AudioSaeError('does not exist.', source, 'Give a corpus folder (domain sub-folders) or a manifest (.csv, .jsonl).');
  let clips: CorpusClip[];
  if (s.isDirectory()) clips = await corpusFromFolder(source);
  else if (/\.(csv|jsonl|ndjson)$/i.test(source)) clips = await corpusFromManifest(source);
  else throw new AudioSaeError('is neither a folder nor a manifest (.csv, .jsonl).', source);
  await validate(source, clips);
  const hash = createHash('sha256');
  for (const key of clips.map((c) => `${clipKey(c)}\u0000${c.domain}\u0000${c.dataset ?? ''}`).sort()) hash.update(key).update('\n');
  return { source, clips, checksum: hash.digest('hex') };
}
