/** Clips read by range from disk give exactly the samples of decoding the whole file; hostile WAV headers are refused. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeWav, loadAudio16kMono, openAudio16kStream } from '../../../src/engine/audio/index.ts';
import { AudioSaeError } from '../../../src/engine/errors.ts';
import { InProcessRunner } from '../../../src/engine/runtime/inProcess.ts';
import { assertClose } from '../../helpers/compare.ts';
import { chunk, fmtChunk, makeWav, pcm16 } from '../../helpers/wavFiles.ts';

const tmp = mkdtempSync(join(tmpdir(), 'audiosae-source-'));
let runner: InProcessRunner;
before(() => { runner = new InProcessRunner(); });
after(async () => { await runner.dispose(); rmSync(tmp, { recursive: true, force: true }); });

function tones(seconds: number, rateHz: number, channels: number): Float32Array[] {
  return Array.from({ length: channels }, (_, c) => Float32Array.from({ length: Math.round(seconds * rateHz) }, (_, i) => 0.4 * Math.sin((2 * Math.PI * (300 + 170 * c) * i) / rateHz) + 0.1 * Math.sin(i * 0.37)));
}

describe('clips read by range', () => {
  for (const [rateHz, channels, seconds] of [[16000, 1, 3.3], [44100, 2, 7.9], [8000, 1, 2.05], [48000, 2, 31.2], [22050, 3, 1.7]] as const) {
    it(`a ${rateHz} Hz, ${channels}-channel WAV streams the samples loadAudio16kMono gives, in any range`, async () => {
      const path = join(tmp, `t${rateHz}_${channels}.wav`);
      writeFileSync(path, makeWav({ rateHz, channels }, pcm16(tones(seconds, rateHz, channels))));
      const whole = (await loadAudio16kMono(path, runner)).samples;
      const stream = await openAudio16kStream(path, runner);
      try {
        assert.equal(stream.reader.length, whole.length);
        assert.equal(stream.sourceRateHz, rateHz);
        assert.equal(stream.channels, channels);
        assertClose(await stream.reader.read(0, whole.length), whole, { atol: 1e-6, what: 'whole clip' });
        for (const [start, count] of [[0, 1], [1, 999], [12345, 4801], [whole.length - 7, 50], [Math.floor(whole.length / 2), 480000]]) {
          const got = await stream.reader.read(start, count);
          assertClose(got, whole.subarray(start, Math.min(whole.length, start + count)), { atol: 1e-6, what: `range ${start}+${count}` });
        }
      } finally {
        await stream.close();
      }
    });
  }

  it('a folder and a missing file are errors that name the file', async () => {
    mkdirSync(join(tmp, 'folder.wav'));
    await assert.rejects(openAudio16kStream(join(tmp, 'folder.wav'), runner), /folder\.wav: is a folder, not a file/);
    await assert.rejects(openAudio16kStream(join(tmp, 'missing.wav'), runner), /missing\.wav: file not found/);
  });
});

describe('hostile WAV headers (in memory and streamed)', () => {
  const data = pcm16(tones(0.5, 16000, 1));
  const cases: Array<[string, Buffer, RegExp]> = [
    ...[0, 1, 999, 768001, 0xffffffff].map((rateHz): [string, Buffer, RegExp] => [`a sample rate of ${rateHz} Hz`, makeWav({ rateHz }, data), new RegExp(`sample rate of ${rateHz} Hz, outside the 1–768 kHz`)]),
    ['an RF64 file whose ds64 chunk is cut short', Buffer.concat([makeWav({ riff: 'RF64', before: [chunk('ds64', Buffer.alloc(8))] }, data)]), /truncated RF64 "ds64" chunk/],
    ['an RF64 file ending inside its ds64 chunk', Buffer.concat([Buffer.from('RF64\xff\xff\xff\xffWAVEds64\x1c\x00\x00\x00\x00\x00', 'latin1')]), /truncated RF64 "ds64" chunk/],
    ['ten thousand empty chunks before the data', makeWav({ before: Array.from({ length: 10_001 }, () => chunk('junk', Buffer.alloc(0))) }, data), /more than 10000 chunks/],
    ['a data chunk larger than the file', makeWav({ dataSize: data.length * 4 }, data), /is truncated: its data chunk declares/],
    ['0 channels', makeWav({ channels: 0 }, data), /declares 0 channels/],
    ['a truncated fmt chunk', Buffer.concat([Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00', 'latin1')]), /truncated "fmt " chunk/],
  ];
  for (const [what, bytes, pattern] of cases) {
    it(`refuses ${what}`, async () => {
      const name = `hostile-${what.replace(/\W+/g, '_')}.wav`;
      const path = join(tmp, name);
      writeFileSync(path, bytes);
      const check = (e: unknown) => {
        assert.ok(e instanceof AudioSaeError, String(e));
        assert.match(e.message, pattern);
        assert.ok(e.message.includes(name), e.message);
        return true;
      };
      assert.throws(() => decodeWav(bytes, path), check);
      await assert.rejects(openAudio16kStream(path, runner), check);
    });
  }

  it('fmt after data, odd-sized chunks and a streaming writer\'s zero data size still read', async () => {
    const body = pcm16(tones(0.25, 16000, 1));
    const dataChunk = Buffer.concat([Buffer.from('data'), Buffer.alloc(4), body]); // size 0: "to the end"
    const file = Buffer.concat([Buffer.from('RIFF\x00\x00\x00\x00WAVE', 'latin1'), chunk('odd ', Buffer.alloc(3)), fmtChunk({}), dataChunk]);
    const path = join(tmp, 'streaming.wav');
    writeFileSync(path, file);
    const s = await openAudio16kStream(path, runner);
    try {
      assert.equal(s.reader.length, 4000);
      assertClose(await s.reader.read(0, 4000), decodeWav(file, path).channels[0]!, { atol: 0 });
    } finally {
      await s.close();
    }
  });
});
