/**
 * Hostile and broken model folders: config.json that is not an object, keys with null or wrong-typed values,
 * sizes that contradict each other or the weights (heads not dividing the width, HuBERT conv lists of
 * different lengths, more layers in the weights than the config says), sharded indexes pointing outside the
 * folder, and config paths that are folders. Each case ends in an AudioSaeError naming the file (and the key)
 * before any graph is built.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readJson } from '../../../src/engine/backbones/hfWeights.ts';
import { loadHubertEncoder } from '../../../src/engine/backbones/hubert.ts';
import { loadWhisperEncoder } from '../../../src/engine/backbones/whisper.ts';
import { AudioSaeError } from '../../../src/engine/errors.ts';
import { buildHubertEncoderGraph, hubertFrames, hubertMinSamples, type HubertEncoderConfig } from '../../../src/engine/onnx/hubert.ts';
import { buildWhisperEncoderGraph } from '../../../src/engine/onnx/whisper.ts';
import { fixture } from '../../helpers/compare.ts';
import { hasControlCharacter } from '../../helpers/hostileFiles.ts';

const root = mkdtempSync(join(tmpdir(), 'audiosae-hostile-config-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

const baseConfig = (family: 'whisper' | 'hubert') =>
  JSON.parse(readFileSync(join(fixture(family, family === 'whisper' ? 'small-like' : 'base-like'), 'config.json'), 'utf8')) as Record<string, unknown>;

/** A 100 000-deep nested list, as text: JSON.stringify of it would itself overflow the stack. */
const NESTED = 'NESTED_100000_DEEP';
const nestedText = `${'['.repeat(100000)}${']'.repeat(100000)}`;

/** A model folder with the fixture's weights (linked) and the given config.json text. */
function folderWith(family: 'whisper' | 'hubert', configText: string): string {
  const folder = join(root, `${family}${counter++}`);
  mkdirSync(folder);
  symlinkSync(join(fixture(family, family === 'whisper' ? 'small-like' : 'base-like'), 'model.safetensors'), join(folder, 'model.safetensors'));
  writeFileSync(join(folder, 'config.json'), configText.replace(`"${NESTED}"`, nestedText));
  return folder;
}

async function refuses(work: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  const err = await work.then(() => assert.fail('accepted'), (e: unknown) => e);
  assert.ok(err instanceof AudioSaeError, `not an AudioSaeError: ${(err as Error)?.stack ?? String(err)}`);
  assert.ok(err.message.includes(file), `does not name ${file}: ${err.message}`);
  assert.match(err.message, pattern);
  assert.equal(hasControlCharacter(err.message), false, JSON.stringify(err.message));
}

const load = { whisper: loadWhisperEncoder, hubert: loadHubertEncoder };
const wrongValues: Array<[string, unknown]> = [
  ['null', null], ['a string', '64'], ['zero', 0], ['negative', -4], ['fractional', 1.5], ['a list', [64]], ['an object', {}],
  ['a boolean', true], ['beyond 2^53', 1e20], ['a 100 000-deep list', NESTED],
];

describe('hostile config.json: not an object, or not there', () => {
  for (const family of ['whisper', 'hubert'] as const) {
    for (const [label, text, pattern] of [
      ['null', 'null', /holds null, not a JSON object/],
      ['a number', '5', /holds 5, not a JSON object/],
      ['an array', '[]', /holds a list of 0, not a JSON object/],
      ['not JSON', '{"d_model":', /is not valid JSON/],
    ] as const) {
      it(`${family}: refuses a config.json that is ${label}`, async () => {
        const folder = folderWith(family, text);
        await refuses(load[family](folder), join(folder, 'config.json'), pattern);
      });
    }
  }

  it('says a config.json that is a folder is a folder, and a missing one is missing', async () => {
    const folder = join(root, 'folder-config');
    mkdirSync(join(folder, 'config.json'), { recursive: true });
    await refuses(loadWhisperEncoder(folder), join(folder, 'config.json'), /is a folder, not a file/);
    const empty = join(root, 'no-config');
    mkdirSync(empty);
    await refuses(loadWhisperEncoder(empty), join(empty, 'config.json'), /file not found\. A model folder needs a config\.json/);
    await refuses(loadWhisperEncoder(join(fixture('whisper', 'small-like'), 'config.json')), 'config.json', /a part of its path is a file, not a folder/);
  });

  it('refuses a config.json of 65 MB without reading it', async () => {
    const folder = folderWith('whisper', '');
    truncateSync(join(folder, 'config.json'), 65 * 1024 * 1024);
    await refuses(loadWhisperEncoder(folder), join(folder, 'config.json'), /is 68157440 bytes, more than the 67108864/);
  });

  it('reads config.json into an object without a prototype (no key finds Object.prototype)', async () => {
    const folder = folderWith('whisper', '{"__proto__": {"model_type": "whisper"}, "d_model": 64}');
    const config = await readJson(join(folder, 'config.json'));
    assert.equal(Object.getPrototypeOf(config), null);
    for (const key of ['constructor', 'toString', 'hasOwnProperty', 'model_type']) assert.equal(config[key], undefined, key);
    assert.deepEqual(Object.keys(config), ['__proto__', 'd_model']);
  });
});

describe('hostile config.json: Whisper keys and sizes', () => {
  for (const key of ['d_model', 'encoder_layers', 'encoder_attention_heads', 'encoder_ffn_dim', 'num_mel_bins', 'max_source_positions']) {
    it(`refuses "${key}" missing or null, a string, zero, negative, fractional, a list, an object, a boolean, huge, deeply nested`, async () => {
      const missing = baseConfig('whisper');
      delete missing[key];
      const folder = folderWith('whisper', JSON.stringify(missing));
      await refuses(loadWhisperEncoder(folder), join(folder, 'config.json'), new RegExp(`has no "${key}" \\(a positive integer\\)`));
      for (const [label, value] of wrongValues) {
        const f = folderWith('whisper', JSON.stringify({ ...baseConfig('whisper'), [key]: value }));
        await refuses(loadWhisperEncoder(f), join(f, 'config.json'), new RegExp(`has an invalid "${key}": expected a positive integer, got `)).catch((e) => {
          throw new Error(`${key} = ${label}: ${(e as Error).message}`);
        });
      }
    });
  }

  for (const heads of [3, 5, 128]) {
    it(`refuses encoder_attention_heads ${heads}, which does not divide d_model 64`, async () => {
      const folder = folderWith('whisper', JSON.stringify({ ...baseConfig('whisper'), encoder_attention_heads: heads }));
      await refuses(loadWhisperEncoder(folder), join(folder, 'config.json'), new RegExp(`"encoder_attention_heads" \\(${heads}\\) does not divide "d_model" \\(64\\)`));
    });
  }

  it('refuses a config the graph builder cannot build, with an AudioSaeError rather than a RangeError', async () => {
    const { config, weights } = await loadWhisperEncoder(fixture('whisper', 'small-like'));
    assert.throws(() => buildWhisperEncoderGraph(weights, { ...config, heads: 5 }, { layers: [1], tap: 'block' }),
      (e: unknown) => e instanceof AudioSaeError && /"encoder_attention_heads" \(5\) does not divide "d_model" \(64\)/.test(e.message));
  });

  for (const [label, change, pattern] of [
    ['64 mel bins', { num_mel_bins: 64 }, /has "num_mel_bins" 64; the Whisper front end makes 80 or 128 mel bins/],
    ['750 positions', { max_source_positions: 750 }, /has "max_source_positions" 750; AudioSAE runs 30 s windows of 3000 mel frames, which need 1500/],
    ['128 mel bins for weights made for 80', { num_mel_bins: 128 }, /has "model\.encoder\.conv1\.weight" with shape \[64, 80, 3\], expected \[64, 128, 3\]/],
    ['fewer layers than the weights hold', { encoder_layers: 2 }, /holds more encoder layers than "encoder_layers" \(2\) in config\.json says/],
    ['more layers than the weights hold', { encoder_layers: 4 }, /lacks the tensor "model\.encoder\.layers\.3\./],
    ['a wider FFN than the weights', { encoder_ffn_dim: 256 }, /has "model\.encoder\.layers\.0\.fc1\.weight" with shape \[128, 64\], expected \[256, 64\]/],
  ] as const) {
    it(`refuses ${label} when the encoder is opened`, async () => {
      const folder = folderWith('whisper', JSON.stringify({ ...baseConfig('whisper'), ...change }));
      await refuses(loadWhisperEncoder(folder), folder, pattern);
    });
  }
});

describe('hostile config.json: HuBERT lists and sizes', () => {
  for (const key of ['conv_dim', 'conv_kernel', 'conv_stride']) {
    it(`refuses "${key}" missing, null, empty, with a null, zero or fractional entry, or not a list`, async () => {
      for (const value of [undefined, null, [], [32, null], [0, 1], [1.5], '32', { 0: 32 }, NESTED]) {
        const c = { ...baseConfig('hubert'), [key]: value };
        if (value === undefined) delete c[key];
        const folder = folderWith('hubert', JSON.stringify(c));
        await refuses(loadHubertEncoder(folder), join(folder, 'config.json'), new RegExp(`"${key}"`));
      }
    });
  }

  for (const [label, change, pattern] of [
    ['conv_kernel and conv_stride shorter than conv_dim (gave 3199 frames for 2 s)', { conv_kernel: [10, 3], conv_stride: [5, 2] },
      /"conv_dim", "conv_kernel" and "conv_stride" must have one entry per conv layer; they have 7, 2 and 2/],
    ['conv_kernel longer than conv_dim', { conv_kernel: [10, 3, 3, 3, 3, 2, 2, 2] }, /they have 7, 8 and 7/],
    ['a hop other than 320 samples', { conv_stride: [5, 2, 2, 2, 2, 2, 4] }, /a hop of 640 samples per frame; AudioSAE's time axis needs 320/],
    ['num_attention_heads not dividing hidden_size', { num_attention_heads: 5 }, /"num_attention_heads" \(5\) does not divide "hidden_size" \(64\)/],
    ['positional conv groups not dividing hidden_size', { num_conv_pos_embedding_groups: 3 }, /"num_conv_pos_embedding_groups" \(3\) does not divide "hidden_size" \(64\)/],
    ['feat_extract_norm null', { feat_extract_norm: null }, /has an invalid "feat_extract_norm": expected "group" or "layer", got null/],
    ['feat_extract_norm "constructor"', { feat_extract_norm: 'constructor' }, /expected "group" or "layer", got "constructor"/],
    ['hidden_act "__proto__"', { hidden_act: '__proto__' }, /has an invalid "hidden_act": expected "gelu", got "__proto__"/],
    ['conv_bias "yes"', { conv_bias: 'yes' }, /has an invalid "conv_bias": expected true or false, got "yes"/],
    ['do_stable_layer_norm null', { do_stable_layer_norm: null }, /"do_stable_layer_norm": expected true or false, got null/],
    ['layer_norm_eps -1', { layer_norm_eps: -1 }, /has an invalid "layer_norm_eps": expected a positive number, got -1/],
    ['layer_norm_eps null', { layer_norm_eps: null }, /"layer_norm_eps": expected a positive number, got null/],
    ['num_hidden_layers null', { num_hidden_layers: null }, /has an invalid "num_hidden_layers": expected a positive integer, got null/],
  ] as const) {
    it(`refuses ${label}, naming config.json`, async () => {
      const folder = folderWith('hubert', JSON.stringify({ ...baseConfig('hubert'), ...change }));
      await refuses(loadHubertEncoder(folder), join(folder, 'config.json'), pattern);
    });
  }

  for (const [label, change, pattern] of [
    ['fewer conv layers than the weights hold', { conv_dim: [32, 32, 32, 32, 32, 32], conv_kernel: [10, 3, 3, 3, 3, 2], conv_stride: [5, 2, 2, 2, 2, 4] },
      /holds more conv layers than the 6 that "conv_dim", "conv_kernel" and "conv_stride" in config\.json list/],
    ['fewer transformer layers than the weights hold', { num_hidden_layers: 2 }, /holds more transformer layers than "num_hidden_layers" \(2\)/],
    ['more transformer layers than the weights hold', { num_hidden_layers: 4 }, /lacks the tensor "encoder\.layers\.3\./],
    ['a conv kernel the weights do not have', { conv_kernel: [10, 3, 3, 3, 3, 2, 3] }, /"feature_extractor\.conv_layers\.6\.conv\.weight" with shape \[32, 32, 2\], expected \[32, 32, 3\]/],
    ['a wider conv_dim than the weights', { conv_dim: [32, 32, 32, 32, 32, 32, 64] }, /"feature_extractor\.conv_layers\.6\.conv\.weight" with shape \[32, 32, 2\], expected \[64, 32, 2\]/],
    ['a positional conv kernel the weights do not have', { num_conv_pos_embeddings: 64 }, /pos_conv_embed/],
  ] as const) {
    it(`refuses ${label} when the encoder is opened`, async () => {
      const folder = folderWith('hubert', JSON.stringify({ ...baseConfig('hubert'), ...change }));
      await refuses(loadHubertEncoder(folder), folder, pattern);
    });
  }

  it('the graph builder refuses mismatched lists with an AudioSaeError', async () => {
    const { config, weights, posConvWeight } = await loadHubertEncoder(fixture('hubert', 'base-like'));
    const bad: HubertEncoderConfig = { ...config, convKernel: [10, 3] };
    assert.throws(() => buildHubertEncoderGraph(weights, bad, { layers: [1], tap: 'block', normalizeInput: false, posConvWeight }),
      (e: unknown) => e instanceof AudioSaeError && /one entry per conv layer/.test(e.message));
  });

  it('the minimum clip follows the config: 400 samples for HuBERT, more for a wider stack', () => {
    const c = { convKernel: [10, 3, 3, 3, 3, 2, 2], convStride: [5, 2, 2, 2, 2, 2, 2] };
    assert.equal(hubertMinSamples(c), 400);
    assert.equal(hubertFrames(c, hubertMinSamples(c)), 1);
    assert.equal(hubertFrames(c, hubertMinSamples(c) - 1), 0);
    const wide = { convKernel: [10, 3, 3, 3, 3, 2, 4], convStride: [5, 2, 2, 2, 2, 2, 2] };
    assert.equal(hubertFrames(wide, hubertMinSamples(wide)), 1);
    assert.equal(hubertFrames(wide, hubertMinSamples(wide) - 1), 0);
  });
});

describe('hostile model.safetensors.index.json', () => {
  const sharded = fixture('whisper', 'small-like-sharded');
  const index = JSON.parse(readFileSync(join(sharded, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
  function shardedFolder(indexText: string): string {
    const folder = join(root, `sharded${counter++}`);
    mkdirSync(folder);
    for (const f of ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) symlinkSync(join(sharded, f), join(folder, f));
    writeFileSync(join(folder, 'model.safetensors.index.json'), indexText);
    return folder;
  }
  const first = Object.keys(index.weight_map).find((k) => k.startsWith('model.encoder.'))!;
  for (const [label, text, pattern] of [
    ['null', 'null', /holds null, not a JSON object/],
    ['without weight_map', '{"metadata": {}}', /has no "weight_map" object \(got nothing\)/],
    ['with a null weight_map', '{"weight_map": null}', /has no "weight_map" object \(got null\)/],
    ['with a weight_map string', '{"weight_map": "model.safetensors"}', /has no "weight_map" object/],
    ['with a shard outside the folder', JSON.stringify({ weight_map: { ...index.weight_map, [first]: '../small-like/model.safetensors' } }), /maps "model\.encoder\..*" to "\.\.\/small-like\/model\.safetensors", which is not a file name in the model folder/],
    ['with an absolute shard path', JSON.stringify({ weight_map: { ...index.weight_map, [first]: '/etc/passwd' } }), /to "\/etc\/passwd", which is not a file name/],
    ['with a shard ".."', JSON.stringify({ weight_map: { ...index.weight_map, [first]: '..' } }), /to "\.\.", which is not a file name/],
    ['with a null shard', JSON.stringify({ weight_map: { ...index.weight_map, [first]: null } }), /to null, which is not a file name/],
    ['with a shard that is a folder', JSON.stringify({ weight_map: { ...index.weight_map, [first]: 'sub' } }), /sub: is a folder, not a file/],
  ] as const) {
    it(`refuses an index ${label}`, async () => {
      const folder = shardedFolder(text);
      mkdirSync(join(folder, 'sub'));
      await refuses(loadWhisperEncoder(folder), folder, pattern);
    });
  }

  it('reads prototype-named tensors in weight_map as plain names', async () => {
    const folder = shardedFolder(JSON.stringify({ weight_map: { ...index.weight_map, __proto__: 'model-00001-of-00002.safetensors', constructor: 'model-00002-of-00002.safetensors' } }));
    const { config } = await loadWhisperEncoder(folder);
    assert.equal(config.dModel, 64);
  });
});
