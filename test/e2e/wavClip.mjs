// WAV bytes for the clips the real-VS-Code runs write into their workspaces.

/** 16 kHz mono 16-bit WAV bytes of `seconds`, sample i = `at(i)` (clipped to [-1, 1]). */
export function wavClip(seconds, at) {
  const n = seconds * 16000;
  const wav = Buffer.alloc(44 + 2 * n);
  wav.write('RIFF', 0); wav.writeUInt32LE(36 + 2 * n, 4); wav.write('WAVEfmt ', 8); wav.writeUInt32LE(16, 16); wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22); wav.writeUInt32LE(16000, 24); wav.writeUInt32LE(32000, 28); wav.writeUInt16LE(2, 32); wav.writeUInt16LE(16, 34);
  wav.write('data', 36); wav.writeUInt32LE(2 * n, 40);
  const pcm = new Int16Array(wav.buffer, wav.byteOffset + 44, n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(32767 * Math.max(-1, Math.min(1, at(i))));
  return wav;
}
