/**
 * The screens are redrawn whole on each change. A redraw between a finger's down and up replaces
 * the button under it, and the tap is lost (no click reaches either button). A redraw asked for
 * while a tap is under way waits until it has ended, after its click; a press held longer than a
 * tap (or whose up never comes) lets it through.
 */
export class TapGuard {
  private down = false;
  private pending: (() => void) | undefined;
  private holdTimer: number | undefined;

  constructor(
    doc: Document = document,
    private readonly longestTapMs = 1_000,
  ) {
    doc.addEventListener('pointerdown', () => this.press(), true);
    doc.addEventListener('pointerup', () => this.release(), true);
    doc.addEventListener('pointercancel', () => this.release(), true);
  }

  /** Draws now, or once the tap under way has ended. */
  draw(render: () => void): void {
    if (this.down) this.pending = render;
    else render();
  }

  private press(): void {
    this.down = true;
    window.clearTimeout(this.holdTimer);
    this.holdTimer = window.setTimeout(() => this.release(), this.longestTapMs);
  }

  private release(): void {
    if (!this.down) return;
    this.down = false;
    window.clearTimeout(this.holdTimer);
    const render = this.pending;
    this.pending = undefined;
    // After the click this pointerup belongs to: it is dispatched in this same task.
    if (render) window.setTimeout(render, 0);
  }
}
