/** The Whisper front end's fixed numbers (openai-whisper `audio.py`). */
export const SAMPLE_RATE_HZ = 16000;
export const N_FFT = 400;
export const HOP_SAMPLES = 160;
/** One encoder window: 30 s. */
export const WINDOW_SAMPLES = 480000;
export const MEL_FRAMES_PER_WINDOW = 3000;
export const MEL_FRAMES_PER_SECOND = SAMPLE_RATE_HZ / HOP_SAMPLES; // 100
/** Both backbone families emit one frame per 20 ms. */
export const SAMPLES_PER_MODEL_FRAME = 320;
export const MODEL_FRAMES_PER_SECOND = SAMPLE_RATE_HZ / SAMPLES_PER_MODEL_FRAME; // 50
