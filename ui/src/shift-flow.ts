import { ApiError, api } from './api.js';
import type { ShiftActions } from './cashier-actions.js';
import { type CashierContext, requestPrint } from './cashier-context.js';
import type { ShiftReport } from './cashier-state.js';
import { parseYuan } from './money.js';

/** The shift screen: open with a float, the X report, close with counted cash (the Z), on paper. */
export class ShiftFlow implements ShiftActions {
  /** Bumped by every change of the shown shift report, so an older request cannot overwrite it. */
  private gen = 0;

  constructor(private readonly c: CashierContext) {}

  /**
   * The open shift's X report (`undefined` when none is open), or the report of `shiftId`. A reply
   * is dropped when the shown report changed after the request went out: the close's own reply
   * (the Z) and the `shift.updated` it causes race, and the older answer ("no shift open") must not
   * replace the Z on screen.
   */
  async load(shiftId?: string): Promise<void> {
    const s = this.c.s;
    const gen = ++this.gen;
    let report: ShiftReport | undefined;
    try {
      report = await api<ShiftReport>(
        'GET',
        `/api/v1/shifts/${shiftId ? encodeURIComponent(shiftId) : 'current'}`,
      );
      s.shiftAvailable = 'yes';
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === 'NO_OPEN_SHIFT') report = undefined;
      else if (err.status === 404 && err.code === 'NOT_FOUND' && !shiftId) s.shiftAvailable = 'no';
      else throw err;
    }
    if (gen === this.gen) s.shift = report;
  }

  /** After a reload: a Z stays until the cashier leaves it; an X is recomputed. */
  async reload(): Promise<void> {
    const s = this.c.s;
    if (s.screen === 'shift' && s.shift?.kind !== 'Z') await this.load();
  }

  /** Another tab, a script or this screen's own close changed the shift: follow it. */
  async onShiftUpdated(d: Record<string, unknown>): Promise<void> {
    const s = this.c.s;
    if (s.screen !== 'shift') return;
    const shown = s.shift;
    if (d.status === 'closed' && shown?.kind === 'Z' && shown.shiftId === d.shiftId) return;
    try {
      await this.load(d.status === 'closed' ? String(d.shiftId) : undefined);
    } catch (err) {
      this.c.fail(err);
      return;
    }
    this.c.render();
  }

  async showShift(): Promise<void> {
    const s = this.c.s;
    if (s.screen === 'pay') return;
    try {
      await this.load();
    } catch (err) {
      this.c.fail(err);
      return;
    }
    s.keypad = '';
    s.message = undefined;
    s.screen = 'shift';
    this.c.render();
  }

  async openShift(): Promise<void> {
    await this.sendCash('/api/v1/shifts', 'openingCash');
  }

  async closeShift(): Promise<void> {
    // The Z report stays on screen until the cashier leaves it.
    await this.sendCash('/api/v1/shifts/current/close', 'countedCash');
  }

  /** The shown report on paper: X of the open shift, or the Z again. */
  async printShift(): Promise<void> {
    const shift = this.c.s.shift;
    if (!shift) return;
    const id = shift.kind === 'X' ? 'current' : encodeURIComponent(shift.shiftId);
    await requestPrint(this.c, `/api/v1/shifts/${id}/print`);
  }

  /** The keypad's amount as the opening float or the counted cash; the report in the reply is shown. */
  private async sendCash(path: string, field: 'openingCash' | 'countedCash'): Promise<void> {
    const s = this.c.s;
    const amount = parseYuan(s.keypad || '0');
    if (amount === undefined) return;
    try {
      this.show(await api<ShiftReport>('POST', path, { [field]: amount }));
      s.keypad = '';
    } catch (err) {
      // A close refused while a payment is unresolved is a note for the cashier, not an error.
      const unresolved = err instanceof ApiError && err.code === 'PAYMENT_UNRESOLVED';
      if (field === 'countedCash' && unresolved) this.c.say(this.c.t.t('shiftUnresolved'));
      else this.c.fail(err);
      return;
    }
    this.c.render();
  }

  private show(report: ShiftReport | undefined): void {
    this.gen++;
    this.c.s.shift = report;
  }
}
