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
