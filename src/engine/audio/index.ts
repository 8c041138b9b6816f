export * from './constants.ts';
export type { DecodedAudio, MelSpectrogram } from './types.ts';
export { decodeWav, isWav, MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ } from './wav.ts';
export { decodeAudio, loadAudioFile, sniffFormat, type AudioFormat } from './decode.ts';
export { loadAudio16kMono, resample, toMono, type Audio16k } from './resample.ts';
export { hzToMel, melFilterBank, melToHz } from './melFilters.ts';
export { buildLogMelGraph, forEachMelWindow, whisperLogMel, whisperLogMelWindow, windowsOf, type MelWindowInfo } from './logmel.ts';
export { openAudio16kStream, samplesReader, type AudioStream16k, type SampleReader } from './source.ts';
