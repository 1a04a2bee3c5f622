/**
 * The new-order sound: two short tones from WebAudio (no audio file to serve). Browsers only let a
 * page make sound after a tap, so `unlock()` is called from the cashier's taps (sign-in, orders);
 * the kiosk may also start Chromium with `--autoplay-policy=no-user-gesture-required`.
 */
export class Beeper {
  private ctx: AudioContext | undefined;
  /** How many times it was asked to sound (the browser tests check the alert by this). */
  count = 0;

  unlock(): void {
    try {
      this.ctx ??= new AudioContext();
      if (this.ctx.state === 'suspended') void this.ctx.resume().catch(() => {});
    } catch {
      // no audio output: the banner still shows the order
    }
  }

  beep(): void {
    this.count++;
    this.unlock();
    const ctx = this.ctx;
    if (!ctx) return;
    try {
      const start = ctx.currentTime;
      for (const [offset, freq] of [
        [0, 880],
        [0.22, 1320],
      ] as const) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = 'sine';
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, start + offset);
        gain.gain.exponentialRampToValueAtTime(0.4, start + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.18);
        osc.connect(gain).connect(ctx.destination);
        osc.start(start + offset);
        osc.stop(start + offset + 0.2);
      }
    } catch {
      // a sound that cannot play is not an error worth showing
    }
  }
}
