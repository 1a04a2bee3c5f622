/** AIM symbology identifiers (ISO/IEC 15424: "]" + code character + modifier) to names. */
const BY_CODE: Record<string, string> = {
  A: 'code-39',
  C: 'code-128',
  E: 'ean-upc',
  F: 'codabar',
  G: 'code-93',
  I: 'itf',
  L: 'pdf417',
  Q: 'qr',
  R: 'msi',
  X: 'other',
  d: 'data-matrix',
  e: 'gs1-databar',
  z: 'aztec',
};

/** The symbology named by a 3-byte AIM identifier, undefined for none (three zero bytes). */
export function symbologyName(aim: Uint8Array): string | undefined {
  if (aim[0] !== 0x5d) return undefined;
  const code = String.fromCharCode(aim[1] ?? 0);
  const modifier = String.fromCharCode(aim[2] ?? 0);
  if (code === 'E') {
    // ]E0 is EAN-13 (and UPC-A, sent as 13 digits), ]E4 EAN-8, others add-ons.
    if (modifier === '0') return 'ean-13';
    if (modifier === '4') return 'ean-8';
  }
  return BY_CODE[code] ?? `]${code}${modifier}`;
}
