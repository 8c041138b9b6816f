import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InProcessRunner } from '../../../src/engine/runtime/inProcess.ts';
import { decodeAudio, decodeWav, loadAudio16kMono, resample, toMono } from '../../../src/engine/audio/index.ts';
import { mp3DeclaredChannels } from '../../../src/engine/audio/decode.ts';
import { AudioSaeError } from '../../../src/engine/errors.ts';
import { assertClose, fixture } from '../../helpers/compare.ts';

const codecs = fixture('audio', 'codecs');
const tmp = mkdtempSync(join(tmpdir(), 'audiosae-audio-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface WavSpec { format: 1 | 3 | 0xfffe; bits: number; channels: number; rate: number; subFormat?: 1 | 3; samples: number[][] }

/** Writes a WAV byte by byte, with optional extra chunks before/after data and a data-size override. */
function makeWav(spec: WavSpec, opts: { before?: Buffer[]; after?: Buffer[]; dataSize?: number } = {}): Buffer {
  const { bits, channels, rate } = spec;
  const bytesPer = bits / 8;
  const frames = spec.samples[0]!.length;
  const data = Buffer.alloc(frames * channels * bytesPer);
  const isFloat = spec.format === 3 || spec.subFormat === 3;
  let o = 0;
  for (let t = 0; t < frames; t++) for (let c = 0; c < channels; c++, o += bytesPer) {
    const v = spec.samples[c]![t]!;
    if (isFloat) bits === 32 ? data.writeFloatLE(v, o) : data.writeDoubleLE(v, o);
    else if (bits === 8) data.writeUInt8(Math.round(v * 128 + 128), o);
    else if (bits === 16) data.writeInt16LE(Math.round(v * 32768), o);
    else if (bits === 24) data.writeIntLE(Math.round(v * 8388608), o, 3);
    else data.writeInt32LE(Math.round(v * 2147483648), o);
  }
  const fmt = Buffer.alloc(spec.format === 0xfffe ? 40 : 16);
  fmt.writeUInt16LE(spec.format, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE(rate * channels * bytesPer, 8);
  fmt.writeUInt16LE(channels * bytesPer, 12);
  fmt.writeUInt16LE(bits, 14);
  if (spec.format === 0xfffe) {
    fmt.writeUInt16LE(22, 16);
    fmt.writeUInt16LE(bits, 18);
    fmt.writeUInt16LE(spec.subFormat!, 24);
    Buffer.from('000000001000800000aa00389b71', 'hex').copy(fmt, 26);
  }
  const chunk = (id: string, body: Buffer, size = body.length) => {
    const h = Buffer.alloc(8);
    h.write(id, 0, 'latin1');
    h.writeUInt32LE(size, 4);
    return Buffer.concat([h, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const body = Buffer.concat([Buffer.from('WAVE'), chunk('fmt ', fmt), ...(opts.before ?? []), chunk('data', data, opts.dataSize ?? data.length), ...(opts.after ?? [])]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

/** ffmpeg's sine source has amplitude 1/8; the fixture halves it and the stereo upmix spreads it at −3 dB. */
const TONE_AMPLITUDE = 0.125 * 0.5 * Math.SQRT1_2;
const ramp = (n: number, scale = 1) => Array.from({ length: n }, (_, i) => scale * (i / n - 0.5));
const odd = Buffer.from('abc');

describe('WAV decoding', () => {
  for (const [label, spec, tol] of [
    ['8-bit unsigned PCM', { format: 1, bits: 8, channels: 1, rate: 8000, samples: [ramp(64)] }, 1 / 128],
    ['16-bit PCM stereo', { format: 1, bits: 16, channels: 2, rate: 44100, samples: [ramp(50), ramp(50, -0.5)] }, 1 / 32768],
    ['24-bit PCM', { format: 1, bits: 24, channels: 1, rate: 48000, samples: [ramp(40)] }, 1 / 8388608],
    ['32-bit PCM', { format: 1, bits: 32, channels: 1, rate: 16000, samples: [ramp(40)] }, 1e-9],
    ['32-bit float, 3 channels', { format: 3, bits: 32, channels: 3, rate: 22050, samples: [ramp(10), ramp(10, 2), ramp(10, -1)] }, 0],
    ['64-bit float', { format: 3, bits: 64, channels: 1, rate: 16000, samples: [ramp(10, 0.3)] }, 0],
    ['WAVE_FORMAT_EXTENSIBLE float', { format: 0xfffe, subFormat: 3, bits: 32, channels: 2, rate: 16000, samples: [ramp(8), ramp(8)] }, 0],
    ['WAVE_FORMAT_EXTENSIBLE 16-bit', { format: 0xfffe, subFormat: 1, bits: 16, channels: 1, rate: 16000, samples: [ramp(8)] }, 1 / 32768],
  ] as const) {
    it(`reads ${label}`, () => {
      const audio = decodeWav(makeWav(spec as unknown as WavSpec), 'x.wav');
      assert.equal(audio.sampleRateHz, spec.rate);
      assert.equal(audio.channels.length, spec.channels);
      spec.samples.forEach((ch, c) => assertClose(audio.channels[c]!, Float32Array.from(ch), { atol: tol + 1e-7, what: `${label} ch${c}` }));
    });
  }

  it('skips LIST/fact/odd-sized chunks before and after the data', () => {
    const spec: WavSpec = { format: 1, bits: 16, channels: 1, rate: 16000, samples: [ramp(33)] };
    const chunk = (id: string, body: Buffer) => Buffer.concat([Buffer.from(id), Buffer.from([body.length, 0, 0, 0]), body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
    const bytes = makeWav(spec, { before: [chunk('LIST', Buffer.from('INFOISFT')), chunk('junk', odd), chunk('fact', Buffer.alloc(4))], after: [chunk('LIST', odd)] });
    assertClose(decodeWav(bytes, 'x.wav').channels[0]!, Float32Array.from(spec.samples[0]!), { atol: 1 / 32768 });
  });

  for (const size of [0, 0xffffffff]) {
    it(`reads to the end of the file when the data size is ${size} (streaming writers)`, () => {
      const spec: WavSpec = { format: 1, bits: 16, channels: 2, rate: 16000, samples: [ramp(21), ramp(21)] };
      const audio = decodeWav(makeWav(spec, { dataSize: size }), 'x.wav');
      assert.equal(audio.channels[0]!.length, 21);
    });
  }

  it('reads an extensible 24-bit 3-channel file with a LIST chunk written by ffmpeg', async () => {
    const audio = await decodeAudio(readFileSync(join(codecs, 'tone_s24_extensible.wav')), 'tone.wav');
    assert.equal(audio.channels.length, 3);
    assert.equal(audio.sampleRateHz, 44100);
    assert.equal(audio.channels[0]!.length, 44100);
    const peak = Math.max(...audio.channels[0]!.map(Math.abs));
    assert.ok(Math.abs(peak - TONE_AMPLITUDE) < 0.001, `peak ${peak}`);
  });

  it('says a file is truncated when the data chunk declares more than the file holds', () => {
    const bytes = makeWav({ format: 1, bits: 16, channels: 1, rate: 16000, samples: [ramp(100)] }, { dataSize: 400 });
    assert.throws(() => decodeWav(bytes, 'short.wav'), /short\.wav: is truncated: its data chunk declares 400 bytes but only 200 follow/);
  });

  it('names unsupported codecs (mu-law)', async () => {
    await assert.rejects(decodeAudio(readFileSync(join(codecs, 'tone_mulaw.wav')), 'mulaw.wav'), /mulaw\.wav: uses the mu-law codec/);
  });

  it('rejects NaN and Inf samples with their position', () => {
    const s = ramp(100);
    s[37] = NaN;
    const bytes = makeWav({ format: 3, bits: 32, channels: 1, rate: 1000, samples: [s] });
    return assert.rejects(decodeAudio(bytes, 'nan.wav'), /nan\.wav: holds a non-finite sample \(NaN\) in channel 1 at 0\.037 s/);
  });

  it('rejects a header-only WAV as zero-length audio', () => {
    const bytes = makeWav({ format: 1, bits: 16, channels: 1, rate: 16000, samples: [[]] });
    return assert.rejects(decodeAudio(bytes, 'zero.wav'), /zero\.wav: holds no audio samples/);
  });
});

describe('compressed formats', () => {
  for (const [file, rate] of [['tone.flac', 44100], ['tone.mp3', 44100], ['tone.ogg', 44100], ['tone.opus', 48000]] as const) {
    it(`decodes ${file}: rate, length and a 440 Hz tone of the right amplitude`, async () => {
      const audio = await decodeAudio(readFileSync(join(codecs, file)), file);
      assert.equal(audio.sampleRateHz, rate);
      // The MP3 decoder mixes joint-stereo streams down to one channel; the pipeline averages to mono anyway.
      assert.equal(audio.channels.length, file.endsWith('.mp3') ? 1 : 2);
      const n = audio.channels[0]!.length;
      assert.ok(Math.abs(n - rate) < rate * 0.06, `${n} samples for 1 s`);
      // Energy at 440 Hz vs 1 kHz over the middle half second (Goertzel-style projection).
      const mono = toMono(audio.channels);
      const at = (hz: number) => {
        let re = 0, im = 0;
        for (let i = Math.floor(n / 4); i < Math.floor((3 * n) / 4); i++) {
          re += mono[i]! * Math.cos((2 * Math.PI * hz * i) / rate);
          im += mono[i]! * Math.sin((2 * Math.PI * hz * i) / rate);
        }
        return (2 * Math.hypot(re, im)) / Math.floor(n / 2);
      };
      assert.ok(Math.abs(at(440) - TONE_AMPLITUDE) < 0.003, `amplitude at 440 Hz: ${at(440)}`);
      assert.ok(at(1000) < 0.001, `amplitude at 1 kHz: ${at(1000)}`);
    });
  }

  for (const ext of ['flac', 'mp3', 'ogg', 'opus']) {
    for (const kind of ['empty', 'truncated', 'corrupt']) {
      it(`gives a clear error (or, for damaged streams, finite audio) for a ${kind} .${ext}`, async () => {
        const name = `${kind}.${ext}`;
        try {
          const audio = await decodeAudio(readFileSync(join(codecs, name)), name);
          // Some damaged streams still hold decodable frames: then what comes out must be real audio.
          assert.notEqual(kind, 'empty');
          assert.ok(audio.channels[0]!.length > 0);
        } catch (e) {
          assert.ok(e instanceof AudioSaeError, `not a user error: ${e}`);
          assert.ok(e.message.includes(name), e.message);
        }
      });
    }
  }

  it('rejects unknown formats by content, not by name', async () => {
    await assert.rejects(decodeAudio(Buffer.from('just some text, not audio'), 'notes.wav'), /notes\.wav: is not in a supported audio format/);
  });
});

describe('mono mixdown and resampling', () => {
  let runner: InProcessRunner;
  before(() => { runner = new InProcessRunner(); });
  after(() => runner.dispose());

  it('averages channels', () => {
    assert.deepEqual([...toMono([Float32Array.of(1, 0.5), Float32Array.of(0, -0.5)])], [0.5, 0]);
  });

  for (const [fromHz, engine] of [[8000, 'graph'], [22050, 'graph'], [44100, 'graph'], [48000, 'graph'], [44100, 'libsamplerate'], [44056, 'odd rate pair: libsamplerate even with a runner']] as const) {
    it(`resamples ${fromHz} Hz to 16 kHz (${engine}): length rule, 1 kHz tone kept within 0.1 dB and in phase`, async () => {
      const n = fromHz; // 1 s
      const x = Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / fromHz));
      const y = await resample(x, fromHz, 16000, engine === 'libsamplerate' ? undefined : runner);
      {
        // Output sample i sits at input time i·from/16000: the tone comes out in phase, sample for sample.
        const expected = Float32Array.from({ length: 8000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * (i + 4000)) / 16000));
        assertClose(y.subarray(4000, 12000), expected, { atol: 1e-4, what: `${fromHz} Hz tone` });
      }
      assert.equal(y.length, Math.round((n * 16000) / fromHz));
      let re = 0, im = 0;
      for (let i = 4000; i < 12000; i++) {
        re += y[i]! * Math.cos((2 * Math.PI * 1000 * i) / 16000);
        im += y[i]! * Math.sin((2 * Math.PI * 1000 * i) / 16000);
      }
      const amp = (2 * Math.hypot(re, im)) / 8000;
      assert.ok(Math.abs(20 * Math.log10(amp / 0.5)) < 0.1, `gain ${20 * Math.log10(amp / 0.5)} dB`);
    });
  }

  it('attenuates tones above the new Nyquist frequency by more than 80 dB', async () => {
    for (const hz of [8500, 11000, 19000]) {
      const x = Float32Array.from({ length: 44100 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / 44100));
      const y = await resample(x, 44100, 16000, runner);
      let rms = 0;
      for (let i = 2000; i < 14000; i++) rms += y[i]! ** 2;
      rms = Math.sqrt(rms / 12000);
      assert.ok(20 * Math.log10(rms / (0.5 / Math.SQRT2)) < -80, `${hz} Hz leaks at ${20 * Math.log10(rms / (0.5 / Math.SQRT2))} dB`);
    }
  });

  it('libsamplerate (fallback) attenuates a tone above the new Nyquist frequency by more than 60 dB', async () => {
    const x = Float32Array.from({ length: 44100 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 11000 * i) / 44100));
    const y = await resample(x, 44100);
    let rms = 0;
    for (let i = 2000; i < 14000; i++) rms += y[i]! ** 2;
    rms = Math.sqrt(rms / 12000);
    assert.ok(20 * Math.log10(rms / (0.5 / Math.SQRT2)) < -60, `leak ${20 * Math.log10(rms / (0.5 / Math.SQRT2))} dB`);
  });

  it('loads a file to 16 kHz mono', async () => {
    const path = join(tmp, 'stereo.wav');
    writeFileSync(path, makeWav({ format: 1, bits: 16, channels: 2, rate: 32000, samples: [ramp(3200), ramp(3200)] }));
    const a = await loadAudio16kMono(path, runner);
    assert.equal(a.samples.length, 1600);
    assert.equal(a.sourceRateHz, 32000);
    assert.equal(a.channels, 2);
    assert.ok(Math.abs(a.durationS - 0.1) < 1e-9);
    await assert.rejects(loadAudio16kMono(join(tmp, 'missing.wav')), /missing\.wav: file not found/);
  });
});

describe('channel counts the file declares', () => {
  it('a stereo MP3 whose channels are identical is still described as 2 channels', async () => {
    const bytes = readFileSync(join(codecs, 'tone.mp3'));
    assert.equal(mp3DeclaredChannels(bytes), 2, 'the frame header says stereo');
    const audio = await decodeAudio(bytes, 'tone.mp3');
    assert.equal(audio.channels.length, 1, 'audio-decode merged the identical channels');
    assert.equal(audio.sourceChannels, 2);
  });

  it('reads the mode bits after an ID3v2 tag (mono = 3)', () => {
    const tag = Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5]);
    assert.equal(mp3DeclaredChannels(Buffer.concat([tag, Buffer.from([0xff, 0xfb, 0x90, 0xc0])])), 1);
    assert.equal(mp3DeclaredChannels(Buffer.concat([tag, Buffer.from([0xff, 0xfb, 0x90, 0x40])])), 2);
    assert.equal(mp3DeclaredChannels(Buffer.from('no frames here')), undefined);
  });
});
