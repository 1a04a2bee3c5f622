/**
 * Columns a string takes on the printer in Chinese mode. Every non-ASCII character is a double-byte
 * (or four-byte) GB18030 code and prints as a full-width 24-dot glyph, so it takes 2 columns;
 * ASCII takes 1. This is the printer's rule, not Unicode's East Asian Width (e.g. "·" and "é" are
 * 2 columns here).
 */
export function displayWidth(text: string): number {
  let w = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) w += 1;
    else {
      w += 2;
      if (c >= 0xd800 && c <= 0xdbff) i += 1; // a surrogate pair is one character
    }
  }
  return w;
}

export function hasNonAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return true;
  return false;
}

/** Splits text into lines of at most `width` columns, never inside a character. */
export function wrapToWidth(text: string, width: number): string[] {
  const lines: string[] = [];
  let start = 0;
  let w = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff;
    const cw = c < 0x80 ? 1 : 2;
    if (w + cw > width && i > start) {
      lines.push(text.slice(start, i));
      start = i;
      w = 0;
    }
    w += cw;
    if (pair) i += 1;
  }
  lines.push(text.slice(start));
  return lines;
}

/** The longest prefix of `text` that fits in `width` columns. */
export function truncateToWidth(text: string, width: number): string {
  return wrapToWidth(text, width)[0] ?? '';
}
