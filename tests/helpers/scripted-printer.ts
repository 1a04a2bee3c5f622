import type { JobPrinter, PrintOutcome } from '../../src/services/print-service.js';

/** A printer whose next outcomes the test scripts; it remembers what reached the paper. */
export class ScriptedPrinter implements JobPrinter {
  ready = true;
  outcomes: PrintOutcome[] = [];
  paper: string[] = [];
  private listeners = new Set<() => void>();
  isReady(): boolean {
    return this.ready;
  }
  onReady(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  becomeReady(): void {
    this.ready = true;
    for (const l of this.listeners) l();
  }
  async print(bytes: Uint8Array): Promise<PrintOutcome> {
    const outcome = this.outcomes.shift() ?? { result: 'printed' };
    if (outcome.result !== 'not-started') this.paper.push(Buffer.from(bytes).toString());
    if (outcome.result !== 'printed') this.ready = false;
    return outcome;
  }
}
