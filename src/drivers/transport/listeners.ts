/** A set of listeners; one that throws does not stop the others (device I/O must go on). */
export class Listeners<A extends unknown[]> {
  private readonly set = new Set<(...args: A) => void>();

  add(listener: (...args: A) => void): () => void {
    this.set.add(listener);
    return () => {
      this.set.delete(listener);
    };
  }

  emit(...args: A): void {
    for (const listener of [...this.set]) {
      try {
        listener(...args);
      } catch {
        // A broken listener is the listener's bug; the byte stream must keep flowing.
      }
    }
  }
}
