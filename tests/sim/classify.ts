import type { ScenarioResult } from './scenario.js';

/**
 * Which known bug a failing seed most likely finds, from its violations and trace (a hint for the
 * reader of the fuzz output, never part of the verdict). Cases are those of the issue "Money under
 * faults"; letters are bugs the simulation found beyond them (docs/money-safety.md).
 */
export function classify(r: ScenarioResult): string[] {
  const trace = r.trace.join('\n');
  const restoredOn = new Set([...trace.matchAll(/ (T\d+): fault: database restored/g)].map((m) => m[1]));
  const labels = new Set<string>();
  for (const v of r.violations) {
    const m = v.message;
    const restored = restoredOn.has(m.split(':')[0]!) || (m.startsWith('member ') && restoredOn.size > 0);
    if (restored && (v.invariant === 'c' || v.invariant === 'f')) labels.add('case 1 (restored database)');
    else if (/recharge .* still pending/.test(m)) labels.add('R (recharge not retried)');
    else if (/member .* points/.test(m)) labels.add('P (points)');
    else if (m.startsWith('member ')) labels.add('R (recharge not retried)');
    else if (/never consumed/.test(m)) labels.add('C (coupon consume not retried)');
    else if (/outbox not drained|missing in the cloud/.test(m)) labels.add('U (uplink stall check)');
    else if (/still (pending|unknown)|(here|shown) (pending|unknown)/.test(m))
      labels.add('case 5 (resolution gives up)');
    else if (/(here|shown) closed|automatic refund/.test(m)) labels.add('case 4 (QR paid after close)');
    else if (v.invariant === 'a' && trace.includes('refund.create error'))
      labels.add('case 3 (refund part fails)');
    else if (/outside any shift/.test(m)) labels.add('G (payment between shifts)');
    else if (restored) labels.add('case 1 (restored database)');
    else labels.add(`unclassified (${v.invariant})`);
  }
  return [...labels];
}
