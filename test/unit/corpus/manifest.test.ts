/** Corpora from folders and manifests: what each gives, and every kind of bad corpus refused before any work. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseCsv } from '../../../src/engine/corpus/csv.ts';
import { CorpusProblems, loadCorpus } from '../../../src/engine/corpus/manifest.ts';
import { AudioSaeError } from '../../../src/engine/errors.ts';
import { makeWav, pcm16 } from '../../helpers/wavFiles.ts';

const tmp = mkdtempSync(join(tmpdir(), 'audiosae-corpus-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const wav = (path: string, seconds = 1) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, makeWav({ rateHz: 16000 }, pcm16([new Float32Array(Math.round(seconds * 16000)).fill(0.1)])));
};

describe('corpora', () => {
  it('a folder: first level = domain, second = dataset, clips anywhere below; other files ignored', async () => {
    const root = join(tmp, 'folder');
    wav(join(root, 'speech', 'libri', 'a.wav'));
    wav(join(root, 'speech', 'libri', 'deeper', 'b.wav'));
    wav(join(root, 'music', 'c.wav'));
    writeFileSync(join(root, 'music', 'notes.txt'), 'not a clip');
    const c = await loadCorpus(root);
    assert.deepEqual(c.clips.map((x) => [x.path.slice(root.length + 1), x.domain, x.dataset]), [
      ['music/c.wav', 'music', null],
      ['speech/libri/a.wav', 'speech', 'libri'],
      ['speech/libri/deeper/b.wav', 'speech', 'libri'],
    ]);
    assert.equal((await loadCorpus(root)).checksum, c.checksum, 'the same corpus, the same checksum');
  });

  it('a CSV manifest: quoted fields, relative paths, segments, metadata columns kept', async () => {
    const root = join(tmp, 'csv');
    wav(join(root, 'clips', 'a, b.wav'), 4);
    wav(join(root, 'clips', 'c.wav'));
    writeFileSync(join(root, 'm.csv'), 'path,domain,dataset,start_s,end_s,label\r\n"clips/a, b.wav",speech,esd,0.5,2,"said ""hi"""\r\nclips/c.wav,sounds,,,,\r\n');
    const c = await loadCorpus(join(root, 'm.csv'));
    assert.equal(c.clips.length, 2);
    assert.deepEqual({ ...c.clips[0], path: undefined }, { path: undefined, domain: 'speech', dataset: 'esd', startS: 0.5, endS: 2, metadata: { label: 'said "hi"' } });
    assert.equal(c.clips[0]!.path, join(root, 'clips', 'a, b.wav'));
    assert.equal(c.clips[1]!.dataset, null);
  });

  it('a JSONL manifest, numbers and nested values as metadata text', async () => {
    const root = join(tmp, 'jsonl');
    wav(join(root, 'x.wav'));
    writeFileSync(join(root, 'm.jsonl'), `${JSON.stringify({ path: 'x.wav', domain: 'music', genre: 'jazz', bpm: 120 })}\n\n`);
    const c = await loadCorpus(join(root, 'm.jsonl'));
    assert.deepEqual(c.clips[0]!.metadata, { genre: 'jazz', bpm: '120' });
  });

  const bad: Array<[string, (root: string) => string, RegExp, number?]> = [
    ['every missing file listed, not the first', (r) => (wav(join(r, 'ok.wav')), writeFileSync(join(r, 'm.csv'), 'path,domain\nok.wav,speech\ngone1.wav,speech\ngone2.wav,music\n'), join(r, 'm.csv')), /lists files that do not exist \(2\): .*gone1\.wav; .*gone2\.wav/, 2],
    ['a manifest without path', (r) => (writeFileSync(join(r, 'm.csv'), 'file,domain\nx.wav,speech\n'), join(r, 'm.csv')), /has no "path" column/],
    ['a manifest without domain', (r) => (writeFileSync(join(r, 'm.csv'), 'path\nx.wav\n'), join(r, 'm.csv')), /has no "domain" column/],
    ['duplicate rows', (r) => (wav(join(r, 'a.wav')), writeFileSync(join(r, 'm.csv'), 'path,domain\na.wav,speech\na.wav,music\n'), join(r, 'm.csv')), /lists the same clip more than once \(1\): .*a\.wav \(entries 1 and 2\)/, 1],
    ['a segment outside its file', (r) => (wav(join(r, 'a.wav'), 1), writeFileSync(join(r, 'm.csv'), 'path,domain,start_s,end_s\na.wav,speech,0.5,3\n'), join(r, 'm.csv')), /segments outside their files \(1\): .*\[0\.5, 3\] s lies outside the file's 1\.000 s/, 1],
    ['an empty segment', (r) => (wav(join(r, 'a.wav'), 1), writeFileSync(join(r, 'm.csv'), 'path,domain,start_s,end_s\na.wav,speech,0.5,0.5\n'), join(r, 'm.csv')), /end_s 0\.5 is not after start_s 0\.5/],
    ['unsupported extensions', (r) => (writeFileSync(join(r, 'a.txt'), 'x'), writeFileSync(join(r, 'm.csv'), 'path,domain\na.txt,speech\n'), join(r, 'm.csv')), /lists files of unsupported types \(1\)/, 1],
    ['clips with no domain folder', (r) => (wav(join(r, 'loose.wav')), wav(join(r, 'speech', 'a.wav')), r), /holds clips directly in the corpus folder, where they have no domain \(1\): loose\.wav/, 1],
    ['an unterminated quote', (r) => (writeFileSync(join(r, 'm.csv'), 'path,domain\n"a.wav,speech\n'), join(r, 'm.csv')), /quoted field opened on line 2 that never closes/],
    ['a row with too many fields', (r) => (writeFileSync(join(r, 'm.csv'), 'path,domain\na.wav,speech,extra\n'), join(r, 'm.csv')), /row 2 has 3 fields; the header has 2/],
    ['a negative time', (r) => (writeFileSync(join(r, 'm.csv'), 'path,domain,start_s\na.wav,speech,-1\n'), join(r, 'm.csv')), /start_s "-1" is not a time in seconds/],
    ['JSONL that is not JSON', (r) => (writeFileSync(join(r, 'm.jsonl'), '{"path": "a.wav", "domain": "x"}\n{oops\n'), join(r, 'm.jsonl')), /m\.jsonl: line 2 is not valid JSON/],
    ['an empty folder', (r) => r, /holds no audio clips/],
  ];
  for (const [what, make, pattern, count] of bad) {
    it(`refuses ${what}, naming the corpus`, async () => {
      const root = join(tmp, `bad-${what.replace(/\W+/g, '_')}`);
      mkdirSync(root, { recursive: true });
      const source = make(root);
      await assert.rejects(loadCorpus(source), (e: unknown) => {
        assert.ok(e instanceof AudioSaeError, String(e));
        assert.match(e.message, pattern);
        assert.ok(e.message.includes(source), e.message);
        if (count !== undefined) assert.equal((e as CorpusProblems).items.length, count);
        return true;
      });
    });
  }

  it('CSV: CRLF and LF, quotes with commas, newlines and doubled quotes, a missing final newline', () => {
    assert.deepEqual(parseCsv('a,b\r\n"x,1","y\ny"\n"say ""hi""",\nlast,row', 'f.csv'), [['a', 'b'], ['x,1', 'y\ny'], ['say "hi"', ''], ['last', 'row']]);
  });
});
