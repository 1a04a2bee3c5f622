import { ApiError, api } from './api.js';
import type { ShiftActions } from './cashier-actions.js';
import { type CashierContext, requestPrint } from './cashier-context.js';
import type { ShiftReport } from './cashier-state.js';
import { parseYuan } from './money.js';

/** The shift screen: open with a float, the X report, close with counted cash (the Z), on paper. */
export class ShiftFlow implements ShiftActions {
  /** Bumped by every change of the shown shift report, so an older request cannot overwrite it. */
  private gen = 0;
  /** The shift known to be open (so a checkout need not ask); cleared when one closes. */
  private knownOpen: string | undefined;
  /** What to do once the shift a sale asked for is open: that sale's checkout. */
  private afterOpen: () => void = () => {};

  constructor(private readonly c: CashierContext) {}

  /**
   * Before a sale: true when a shift is open. Otherwise the shift screen asks for the float
   * (备用金) and the checkout goes on once it is opened: no shift opens by itself at ¥0 from here.
   */
  async ensureOpen(then: () => void): Promise<boolean> {
    const s = this.c.s;
    if (this.knownOpen) return true;
    this.afterOpen = then;
    await this.load();
    if (s.shiftAvailable === 'no' || s.shift?.status === 'open') return true;
    s.keypad = '';
    s.closing = undefined;
    s.openThenCheckout = true;
    s.screen = 'shift';
    this.c.render();
    return false;
  }

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
    if (!shiftId) this.knownOpen = report?.status === 'open' ? report.shiftId : undefined;
  }

  /** After a reload: a Z stays until the cashier leaves it; an X is recomputed. */
  async reload(): Promise<void> {
    const s = this.c.s;
    if (s.screen === 'shift' && s.shift?.kind !== 'Z') await this.load();
  }

  /** Another tab, a script or this screen's own close changed the shift: follow it. */
  async onShiftUpdated(d: Record<string, unknown>): Promise<void> {
    const s = this.c.s;
    if (d.status === 'closed') this.knownOpen = undefined;
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
    s.closing = undefined;
    s.openThenCheckout = false;
    s.screen = 'shift';
    this.c.render();
  }

  /** 开班 with the float typed on the keypad (¥0 must be typed too); then the waiting checkout. */
  async openShift(): Promise<void> {
    const s = this.c.s;
    if (s.keypad === '') return this.c.say(this.c.t.t('floatFirst'));
    if (!(await this.sendCash('/api/v1/shifts', 'openingCash', parseYuan(s.keypad)))) return;
    this.knownOpen = s.shift?.shiftId;
    if (s.openThenCheckout) {
      s.openThenCheckout = false;
      this.afterOpen();
    }
  }

  /**
   * 交班结算: nothing typed is refused; a typed count (¥0 too) first shows expected, counted and the
   * difference from a fresh X report. Nothing is recorded or printed until the cashier confirms.
   */
  async closeShift(): Promise<void> {
    const s = this.c.s;
    const counted = s.keypad === '' ? undefined : parseYuan(s.keypad);
    if (counted === undefined) return this.c.say(this.c.t.t('countFirst'));
    try {
      await this.load();
    } catch (err) {
      this.c.fail(err);
      return;
    }
    if (s.shift?.status !== 'open') return this.c.render();
    if (s.shift.totals.pendingPayments > 0) return this.c.say(this.c.t.t('shiftUnresolved'));
    s.closing = { counted, expected: s.shift.totals.expectedCash };
    this.c.render();
  }

  /** Back from the confirmation to the count: nothing was recorded. */
  cancelClose(): void {
    this.c.s.closing = undefined;
    this.c.render();
  }

  /** The confirmed count closes the shift; the Z (with the difference) prints by itself. */
  async confirmClose(): Promise<void> {
    const s = this.c.s;
    const closing = s.closing;
    if (!closing) return;
    // The Z report stays on screen until the cashier leaves it.
    if (await this.sendCash('/api/v1/shifts/current/close', 'countedCash', closing.counted)) {
      s.closing = undefined;
      this.knownOpen = undefined;
      this.c.render();
    }
  }

  /** The shown report on paper: X of the open shift, or the Z again. */
  async printShift(): Promise<void> {
    const shift = this.c.s.shift;
    if (!shift) return;
    const id = shift.kind === 'X' ? 'current' : encodeURIComponent(shift.shiftId);
    await requestPrint(this.c, `/api/v1/shifts/${id}/print`);
  }

  /** The opening float or the counted cash; the report in the reply is shown. True when done. */
  private async sendCash(
    path: string,
    field: 'openingCash' | 'countedCash',
    amount: number | undefined,
  ): Promise<boolean> {
    const s = this.c.s;
    if (amount === undefined) return false;
    try {
      this.show(await api<ShiftReport>('POST', path, { [field]: amount }));
      s.keypad = '';
    } catch (err) {
      // A close refused while a payment is unresolved is a note for the cashier, not an error.
      const unresolved = err instanceof ApiError && err.code === 'PAYMENT_UNRESOLVED';
      if (field === 'countedCash' && unresolved) {
        s.closing = undefined;
        this.c.say(this.c.t.t('shiftUnresolved'));
      } else this.c.fail(err);
      return false;
    }
    this.c.render();
    return true;
  }

  private show(report: ShiftReport | undefined): void {
    this.gen++;
    this.c.s.shift = report;
  }
}
