/**
 * The seeds `npm test` runs: FIRST_SEED..LAST_SEED, except those that find a bug whose fix has not
 * landed yet (docs/money-safety.md "The simulation" says what each letter is). Once its fix lands,
 * a seed leaves this list and runs with the others.
 *
 * G  money taken on a sale left open across a shift close lands in no Z report (invariant g)
 * U  the uplink's stall check forgets a PUBACKed batch once an ack advances part way (invariant c)
 * case 1 (hole)  a restored copy that wrote as many records as the cloud held beyond it, its batch
 *    PUBACKed but lost, takes the old retained ack as its own: its records are marked synced
 * case 4 (hint)  a QR paid after its close is never learnt when the hint's query goes unanswered
 */
export const FIRST_SEED = 1;
export const LAST_SEED = 238;

export const AWAITING_FIX: Record<number, string> = {
  1: 'G [g]',
  8: 'U [c]',
  17: 'G [g]',
  19: 'G [g]',
  46: 'G [g]',
  55: 'G [g]',
  62: 'G [g]',
  65: 'G [g]',
  66: 'G [g]',
  71: 'case 4 (hint) [ab]',
  73: 'G [g]',
  81: 'G [g]',
  104: 'G [g]',
  106: 'U [c]',
  110: 'case 1 (hole) [c]',
  111: 'case 1 (hole), G [cg]',
  114: 'case 4 (hint) [ab]',
  129: 'G [g]',
  146: 'G [g]',
  148: 'case 4 (hint) [ab]',
  150: 'G [g]',
  151: 'G [g]',
  156: 'G [g]',
  160: 'G [g]',
  173: 'G [g]',
  176: 'G [g]',
  178: 'G [g]',
  179: 'G [g]',
  180: 'G [g]',
  181: 'G [g]',
  193: 'G [g]',
  194: 'G [g]',
  196: 'G [g]',
  220: 'G [g]',
  222: 'G [g]',
  230: 'G [g]',
  233: 'case 4 (hint) [ab]',
  234: 'G [g]',
};

export function fixedSeeds(): number[] {
  const seeds: number[] = [];
  for (let s = FIRST_SEED; s <= LAST_SEED; s++) if (!(s in AWAITING_FIX)) seeds.push(s);
  return seeds;
}
