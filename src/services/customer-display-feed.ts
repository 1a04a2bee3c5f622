import type { EventBus } from '../bus.js';
import type { DisplayScreen } from '../core/display-screen.js';
import type { SaleService } from './sale-service.js';

export interface DisplayFeedOptions {
  bus: EventBus;
  sales: Pick<SaleService, 'tenderedOf'>;
  /** The idle text (the merchant's name). */
  idleText: () => string;
  /** How long paid/change stays up before the idle screen returns. */
  holdMs?: number;
}

/**
 * What the customer sees, from what the cashier does: the last item and the running total of the
 * cart, the total due of an open sale, paid and change when it completes, then the idle screen.
 * Feeds `display.show`, which drives the VFD pole display.
 */
export class CustomerDisplayFeed {
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly off: Array<() => void> = [];

  constructor(private readonly o: DisplayFeedOptions) {}

  start(): void {
    const { bus } = this.o;
    this.off.push(
      bus.on('cart.updated', ({ data: cart }) => {
        const last = cart.lines.at(-1);
        if (!last) return this.idle();
        this.show({
          screen: 'item',
          name: last.name,
          qty: last.qty,
          price: Math.round(last.amount / last.qty),
          total: cart.total,
        });
      }),
      bus.on('sale.updated', ({ data: e }) => {
        if (e.kind !== 'sale') return;
        if (e.status === 'open') return this.show({ screen: 'total', total: e.total });
        if (e.status === 'voided') return this.idle();
        if (e.status !== 'completed') return;
        // The figures only: reading the whole sale back cost every sale ~6 % of the daemon's CPU.
        const { paid, change } = this.o.sales.tenderedOf(e.saleId);
        this.show(
          change > 0
            ? { screen: 'change', paid: paid + change, change } // paid: what was handed over
            : { screen: 'paid', total: e.total, paid },
        );
        this.idleTimer = setTimeout(() => this.idle(), this.o.holdMs ?? 15_000);
        this.idleTimer.unref();
      }),
    );
    this.idle();
  }

  stop(): void {
    clearTimeout(this.idleTimer);
    for (const off of this.off.splice(0)) off();
  }

  private idle(): void {
    this.show({ screen: 'idle', text: this.o.idleText() || 'WELCOME', subtext: 'WELCOME' });
  }

  private show(screen: DisplayScreen): void {
    clearTimeout(this.idleTimer);
    this.o.bus.emit('display.show', screen);
  }
}
