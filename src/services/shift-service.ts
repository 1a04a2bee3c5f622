import { v7 as uuidv7 } from 'uuid';
import type { EventBus } from '../bus.js';
import { assertAmount } from '../core/money.js';
import { foldShift, type ShiftTotals } from '../core/shift-report.js';
import { PosError } from '../errors.js';
import type { Ledger } from '../offline/ledger.js';
import type { ShiftRecord, ShiftStore } from '../offline/shift-store.js';

declare module '../bus.js' {
  interface PosEvents {
    'shift.updated': { shiftId: string; status: 'open' | 'closed' };
  }
}

export interface ShiftReport {
  kind: 'X' | 'Z';
  shiftId: string;
  status: 'open' | 'closed';
  openedAt: string;
  closedAt?: string;
  openingCash: number;
  totals: ShiftTotals;
  countedCash?: number;
  difference?: number;
}

export interface ShiftServiceOptions {
  ledger: Ledger;
  store: ShiftStore;
  bus: EventBus;
  now?: () => Date;
  newId?: () => string;
}

/**
 * Shifts: one open at a time per terminal. Its report is the fold of the ledger records from its
 * `shift.opened` on, so X and Z always equal the sum of the ledger.
 */
export class ShiftService {
  private readonly ledger: Ledger;
  private readonly store: ShiftStore;
  private readonly bus: EventBus;
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(options: ShiftServiceOptions) {
    this.ledger = options.ledger;
    this.store = options.store;
    this.bus = options.bus;
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? uuidv7;
  }

  open(openingCash: number): ShiftReport {
    assertAmount(openingCash, 'openingCash');
    const shift = this.ledger.transact(() => {
      const current = this.store.current();
      if (current)
        throw new PosError('SHIFT_ALREADY_OPEN', `shift ${current.id} is still open: close it first`);
      return this.openInTransaction(openingCash, false);
    });
    this.bus.emit('shift.updated', { shiftId: shift.id, status: 'open' });
    return this.report(shift);
  }

  /** The open shift's id, opening one (with no counted cash) when money moves outside a shift. */
  currentIdInTransaction(): string {
    return (this.store.current() ?? this.openInTransaction(0, true)).id;
  }

  private openInTransaction(openingCash: number, auto: boolean): ShiftRecord {
    const id = this.newId();
    const at = this.now().toISOString();
    const record = this.ledger.append('shift.opened', {
      shiftId: id,
      openingCash,
      ...(auto ? { auto: true } : {}),
    });
    this.store.insert(id, at, openingCash, record.seq, auto);
    return this.store.get(id)!;
  }

  currentReport(): ShiftReport {
    const shift = this.store.current();
    if (!shift) throw new PosError('NO_OPEN_SHIFT', 'no shift is open');
    return this.report(shift);
  }

  reportOf(shiftId: string): ShiftReport {
    const shift = this.store.get(shiftId);
    if (!shift) throw new PosError('NOT_FOUND', `no shift ${shiftId}`);
    return this.report(shift);
  }

  /** Z: refused while any payment is unresolved; records `shift.closed` with the report. */
  close(countedCash: number): ShiftReport {
    assertAmount(countedCash, 'countedCash');
    const closed = this.ledger.transact(() => {
      const shift = this.store.current();
      if (!shift) throw new PosError('NO_OPEN_SHIFT', 'no shift is open');
      const unresolved = this.store.unresolvedPayments();
      if (unresolved > 0) {
        throw new PosError(
          'PAYMENT_UNRESOLVED',
          `${unresolved} payment(s) are unresolved: resolve them before closing the shift`,
          { unresolved },
        );
      }
      const totals = this.totals(shift);
      if (totals.pendingPayments > 0) {
        throw new PosError('PAYMENT_UNRESOLVED', 'payments recorded as pending are unresolved');
      }
      const at = this.now().toISOString();
      const record = this.ledger.append('shift.closed', {
        shiftId: shift.id,
        openedAt: shift.openedAt,
        closedAt: at,
        openingCash: shift.openingCash,
        countedCash,
        expectedCash: totals.expectedCash,
        difference: countedCash - totals.expectedCash,
        z: totals,
      });
      this.store.close(shift, at, record.seq, {
        countedCash,
        difference: countedCash - totals.expectedCash,
        totals,
      });
      return this.store.get(shift.id)!;
    });
    this.bus.emit('shift.updated', { shiftId: closed.id, status: 'closed' });
    return this.report(closed);
  }

  private totals(shift: ShiftRecord): ShiftTotals {
    const records: Array<{ type: string; body: Record<string, unknown> }> = [];
    // A restored copy's move re-appends the shift's records, its opening too: read on from there.
    let after =
      this.ledger.factRow(shift.openedSeq) ??
      this.ledger.findLatest('shift.opened', 'shiftId', shift.id)?.seq ??
      shift.openedSeq;
    for (;;) {
      const page = this.ledger.recordsAfter(after, 1000);
      for (const r of page) {
        records.push(r);
      }
      if (page.length < 1000) return foldShift(shift.openingCash, records);
      after = page.at(-1)!.seq;
    }
  }

  private report(shift: ShiftRecord): ShiftReport {
    if (shift.status === 'closed' && shift.closing) {
      const report: ShiftReport = {
        kind: 'Z',
        shiftId: shift.id,
        status: 'closed',
        openedAt: shift.openedAt,
        openingCash: shift.openingCash,
        totals: shift.closing.totals as ShiftTotals,
        countedCash: shift.closing.countedCash,
        difference: shift.closing.difference,
      };
      if (shift.closedAt) report.closedAt = shift.closedAt;
      return report;
    }
    return {
      kind: 'X',
      shiftId: shift.id,
      status: shift.status,
      openedAt: shift.openedAt,
      openingCash: shift.openingCash,
      totals: this.totals(shift),
    };
  }
}
