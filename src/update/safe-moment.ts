/** What must be settled before the terminal may reboot into an installed update. */
export interface RebootBlockers {
  openSalesWithPayments: number;
  unresolvedPayments: number;
  reversalsOwed: number;
  printing: number;
  /** Recharges whose answer (credited, or hand the cash back) has not come yet. */
  rechargesPending?: number;
}

/** Each thing in flight, in words for the log and `up/state`; empty when a reboot loses nothing. */
export function blockerReasons(b: RebootBlockers): string[] {
  const reasons: string[] = [];
  if (b.openSalesWithPayments > 0) reasons.push(`${b.openSalesWithPayments} open sale(s) with payments`);
  if (b.unresolvedPayments > 0) reasons.push(`${b.unresolvedPayments} unresolved payment(s)`);
  if (b.reversalsOwed > 0) reasons.push(`${b.reversalsOwed} reversal(s) owed`);
  if (b.printing > 0) reasons.push(`${b.printing} print job(s) printing`);
  if ((b.rechargesPending ?? 0) > 0) reasons.push(`${b.rechargesPending} recharge(s) not answered yet`);
  return reasons;
}

export interface RebootWindow {
  /** Minutes after local midnight. */
  from: number;
  to: number;
}

/** `"02:00-04:00"` (local time; may wrap midnight, `"23:00-01:00"`). */
export function parseWindow(text: string): RebootWindow {
  const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not HH:MM-HH:MM`);
  const from = Number(m[1]) * 60 + Number(m[2]);
  const to = Number(m[3]) * 60 + Number(m[4]);
  if (from === to) throw new Error(`"${text}" is an empty window`);
  return { from, to };
}

function minuteOfDay(d: Date): number {
  return d.getHours() * 60 + d.getMinutes();
}

export function inWindow(w: RebootWindow | undefined, at: Date): boolean {
  if (!w) return true;
  const m = minuteOfDay(at);
  return w.from < w.to ? m >= w.from && m < w.to : m >= w.from || m < w.to;
}

/** The first moment at or after `at` inside the window (`at` itself without a window). */
export function nextWindowStart(w: RebootWindow | undefined, at: Date): Date {
  if (!w || inWindow(w, at)) return at;
  const start = new Date(at);
  start.setHours(Math.floor(w.from / 60), w.from % 60, 0, 0);
  if (start.getTime() <= at.getTime()) start.setDate(start.getDate() + 1);
  return start;
}
