/**
 * The in-process event bus. Modules declare their events by augmenting `PosEvents`:
 *   declare module '../bus.js' { interface PosEvents { 'scan': ScanEvent } }
 */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by the modules that emit events
export interface PosEvents {}

export type EventType = keyof PosEvents & string;

export interface BusEvent<K extends EventType = EventType> {
  seq: number;
  type: K;
  at: string;
  data: PosEvents[K];
}

type Listener<K extends EventType> = (event: BusEvent<K>) => void;
type AnyListener = (event: BusEvent) => void;

export class EventBus {
  private seq = 0;
  private readonly listeners = new Map<string, Set<Listener<EventType>>>();
  private readonly anyListeners = new Set<AnyListener>();

  constructor(
    private readonly now: () => Date = () => new Date(),
    private readonly onListenerError: (err: unknown, type: string) => void = () => {},
  ) {}

  on<K extends EventType>(type: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener as unknown as Listener<EventType>);
    return () => set.delete(listener as unknown as Listener<EventType>);
  }

  onAny(listener: AnyListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  /** Delivers synchronously; a listener that throws is reported and does not stop the others. */
  emit<K extends EventType>(type: K, data: PosEvents[K]): BusEvent<K> {
    this.seq += 1;
    const event: BusEvent<K> = { seq: this.seq, type, at: this.now().toISOString(), data };
    for (const listener of this.listeners.get(type) ?? []) this.deliver(listener, event, type);
    for (const listener of this.anyListeners) this.deliver(listener as Listener<K>, event, type);
    return event;
  }

  private deliver<K extends EventType>(listener: Listener<K>, event: BusEvent<K>, type: string): void {
    try {
      listener(event);
    } catch (err) {
      this.onListenerError(err, type);
    }
  }
}
