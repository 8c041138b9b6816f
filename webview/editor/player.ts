/**
 * Playback of the 16 kHz clip the model hears, streamed from a file by an <audio> element: play/pause, speed,
 * seeking, and looping a selected region. The caller draws the cursor from `currentTimeS`.
 */
export class Player {
  readonly audio = new Audio();
  /** The region to loop while playing, in seconds, or undefined. */
  loop: [number, number] | undefined;
  private frame = 0;

  constructor(private readonly onTick: (tS: number, playing: boolean) => void) {
    this.audio.preload = 'metadata';
    this.audio.addEventListener('play', () => this.tick());
    this.audio.addEventListener('pause', () => this.onTick(this.audio.currentTime, false));
    this.audio.addEventListener('seeked', () => this.onTick(this.audio.currentTime, !this.audio.paused));
  }

  set source(uri: string) {
    if (this.audio.src !== uri) this.audio.src = uri;
  }

  get ready(): boolean {
    return Boolean(this.audio.src);
  }

  get playing(): boolean {
    return !this.audio.paused;
  }

  get currentTimeS(): number {
    return this.audio.currentTime;
  }

  set speed(rate: number) {
    this.audio.playbackRate = rate;
  }

  toggle(): void {
    if (!this.ready) return;
    if (this.audio.paused) {
      if (this.loop && (this.audio.currentTime < this.loop[0] || this.audio.currentTime >= this.loop[1])) this.audio.currentTime = this.loop[0];
      void this.audio.play().catch(() => undefined);
    } else {
      this.audio.pause();
    }
  }

  seek(tS: number): void {
    this.audio.currentTime = Math.max(0, tS);
    this.onTick(this.audio.currentTime, this.playing);
  }

  private tick(): void {
    cancelAnimationFrame(this.frame);
    const step = () => {
      if (this.loop && this.audio.currentTime >= this.loop[1]) this.audio.currentTime = this.loop[0];
      this.onTick(this.audio.currentTime, this.playing);
      if (this.playing) this.frame = requestAnimationFrame(step);
    };
    step();
  }
}
