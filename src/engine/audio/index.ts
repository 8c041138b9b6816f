export * from './constants.ts';
export type { DecodedAudio, MelSpectrogram } from './types.ts';
export { decodeWav, isWav } from './wav.ts';
export { decodeAudio, loadAudioFile, sniffFormat, type AudioFormat } from './decode.ts';
export { loadAudio16kMono, resample, toMono, type Audio16k } from './resample.ts';
export { hzToMel, melFilterBank, melToHz } from './melFilters.ts';
export { buildLogMelGraph, forEachMelWindow, whisperLogMel, whisperLogMelWindow, windowsOf, type MelWindowInfo } from './logmel.ts';
