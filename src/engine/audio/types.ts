/** Decoded audio: the file's own sample rate and one Float32Array per channel, samples in [-1, 1]. */
export interface DecodedAudio {
  sampleRateHz: number;
  channels: Float32Array[];
  /** True when the samples came from integers, which cannot be NaN or infinite (so need no check). */
  integerSource?: boolean;
  /** Channels the file holds, when the decoder merged identical ones (an MP3 declared stereo with equal channels). */
  sourceChannels?: number;
}

/** A log-mel spectrogram: [nMels, frames] row-major, 100 frames per second. */
export interface MelSpectrogram {
  nMels: number;
  frames: number;
  data: Float32Array; // [nMels, frames] row-major
}
