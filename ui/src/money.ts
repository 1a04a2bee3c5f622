/** Minor units (fen) to "¥12.34"; integers only, never floats for money. */
export function formatMoney(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(fen));
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Keypad digits typed as yuan with up to two decimals ("12.5") to fen; undefined when malformed. */
export function parseYuan(text: string): number | undefined {
  const m = /^(\d{1,7})(?:\.(\d{0,2}))?$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** Fen as the keypad's text: 12060 → "120.6", 5000 → "50". */
export function toYuanText(fen: number): string {
  const yuan = Math.floor(fen / 100);
  const cents = fen % 100;
  if (cents === 0) return String(yuan);
  return `${yuan}.${String(cents).padStart(2, '0').replace(/0$/, '')}`;
}

/**
 * Quick cash amounts for what is due: exactly, then the next round sums a customer hands over
 * (multiples of ¥10, ¥50, ¥100 above it): ¥120.60 → exact, ¥130, ¥150, ¥200.
 */
export function quickAmounts(due: number): number[] {
  const out: number[] = [];
  for (const step of [1000, 5000, 10_000]) {
    const up = Math.ceil(due / step) * step;
    const next = up === due ? up + step : up;
    if (!out.includes(next) && next !== due) out.push(next);
  }
  return out;
}
