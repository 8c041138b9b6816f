/** The options every model-running verb shares, and turning them into resolved model files. */
import type { HubProgress } from '../engine/hub/index.ts';
import { resolveModels, type Resolved } from '../engine/pipeline/resolve.ts';
import type { EncoderTap } from '../engine/onnx/whisper.ts';
import type { SaeModeChoice } from '../engine/sae/index.ts';
import { numberOption, type OptionSpec, type ParsedArgs } from './args.ts';
import { assetPath } from './assets.ts';

export const MODEL_OPTIONS: OptionSpec[] = [
  { name: 'backbone', value: '<id>', description: 'hubert-base, hubert-large, whisper-small, whisper-large-v3, whisper-large-v3-turbo, or the bundled whisper-tiny-random, hubert-tiny-random', required: true },
  { name: 'layer', value: '<n>', description: 'encoder block, 1-based', numeric: { kind: 'int', min: 1, max: 64 }, required: true },
  { name: 'weights', value: '<dir>', description: 'backbone folder in Hugging Face layout (default: download from the Hub)' },
  { name: 'sae', value: '<path>', description: 'SAE ae.pt, or a folder of layer_<n>/ (default: the Hub repo of the backbone)' },
  { name: 'tap', value: '<where>', description: 'block: raw block output; final-norm: after the final LayerNorm', choices: ['block', 'final-norm'], default: 'block' },
  { name: 'mode', value: '<mode>', description: 'SAE encoding: auto (threshold when stored), threshold, batch-topk', choices: ['auto', 'threshold', 'batch-topk'], default: 'auto' },
  { name: 'normalize-input', description: 'HuBERT: zero-mean, unit-variance waveform (off by default)' },
  { name: 'max-hubert-seconds', value: '<s>', description: 'HuBERT: longest clip run in one pass', numeric: { kind: 'number', min: 1, max: 3600 }, default: '60' },
];

export interface ModelChoice {
  layer: number;
  tap: EncoderTap;
  mode: SaeModeChoice;
  normalizeInput: boolean;
  maxHubertSeconds: number;
}

export function modelChoice(args: ParsedArgs): ModelChoice {
  return {
    layer: numberOption(args, 'layer')!,
    tap: args.options.get('tap') as EncoderTap,
    mode: args.options.get('mode') as SaeModeChoice,
    normalizeInput: args.flags.has('normalize-input'),
    maxHubertSeconds: numberOption(args, 'max-hubert-seconds')!,
  };
}

/** Download progress lines on stderr, at most one a second per file. */
export function downloadProgress(): (file: string, p: HubProgress) => void {
  let lastReport = 0;
  return (file, p) => {
    const now = Date.now();
    if (now - lastReport < 1000 && p.bytes < p.total) return;
    lastReport = now;
    const eta = Number.isFinite(p.etaSeconds) ? `, ${Math.round(p.etaSeconds)} s left` : '';
    process.stderr.write(`downloading ${file}: ${(p.bytes / 1e6).toFixed(1)} / ${(p.total / 1e6).toFixed(1)} MB (${(p.bytesPerSecond / 1e6).toFixed(1)} MB/s${eta})\n`);
  };
}

export async function resolveFromArgs(args: ParsedArgs, needSae = true): Promise<Resolved> {
  return resolveModels({
    backbone: args.options.get('backbone')!,
    layer: numberOption(args, 'layer')!,
    weights: args.options.get('weights'),
    sae: args.options.get('sae'),
    needSae,
    demoModelsDir: assetPath('demo', 'models'),
    onProgress: downloadProgress(),
  });
}
