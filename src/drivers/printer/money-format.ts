/** Integer fen to "32.00" (no float arithmetic: 3200 → "32.00", -5 → "-0.05"). */
export function formatFen(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(fen));
  const yuan = Math.floor(abs / 100);
  const cents = abs % 100;
  return `${sign}${yuan}.${cents < 10 ? '0' : ''}${cents}`;
}

/** With the full-width yuan sign U+FFE5 (GB18030 A3A4); U+00A5 "¥" has no double-byte GB code. */
export function formatYuan(fen: number): string {
  return `\uFFE5${formatFen(fen)}`;
}
