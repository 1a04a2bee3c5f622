/** Columns of a 2x20 VFD line. */
export const DISPLAY_COLUMNS = 20;

const REPLACEMENTS: Record<string, string> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u2013': '-',
  '\u2014': '-',
  '\u2026': '...',
  '\u00a5': 'Y',
  '\uffe5': 'Y',
  '\u20ac': 'EUR',
  '\u00a3': 'GBP',
  '\u00d7': 'x',
  '\u00b7': '.',
  '\u00df': 'ss',
  '\u00e6': 'ae',
  '\u00c6': 'AE',
  '\u00f8': 'o',
  '\u00d8': 'O',
  '\u3000': ' ',
};

/**
 * Text a VFD without a CJK font can show: full-width forms folded to ASCII (NFKC), accents
 * dropped (é → e), a few symbols spelled out, control characters as spaces, and every run of
 * other characters (CJK names) as a single '?', so nothing the display would misread is sent.
 */
export function toDisplayAscii(text: string): string {
  let out = '';
  let inUnknown = false;
  for (const ch of text.normalize('NFKC')) {
    let mapped = REPLACEMENTS[ch];
    if (mapped === undefined) {
      const base = ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
      const code = base.codePointAt(0) ?? 0;
      if (base.length === 1 && code >= 0x20 && code < 0x7f) mapped = base;
      else if (code < 0x20 || code === 0x7f) mapped = ' ';
    }
    if (mapped === undefined) {
      if (!inUnknown) out += '?';
      inUnknown = true;
      continue;
    }
    inUnknown = false;
    out += mapped;
  }
  return out;
}

/** Exactly `width` columns: truncated, or padded with spaces. */
export function fitColumns(text: string, width = DISPLAY_COLUMNS): string {
  return text.length >= width ? text.slice(0, width) : text.padEnd(width, ' ');
}

/** `left` and `right` on one line, `right` flush right; `left` gives way when both do not fit. */
export function spread(left: string, right: string, width = DISPLAY_COLUMNS): string {
  const r = right.slice(0, width);
  const room = width - r.length;
  if (room <= 0) return r;
  const l = left.slice(0, Math.max(0, room - 1));
  return l + ' '.repeat(width - l.length - r.length) + r;
}

export function center(text: string, width = DISPLAY_COLUMNS): string {
  const t = text.slice(0, width);
  const left = Math.floor((width - t.length) / 2);
  return fitColumns(' '.repeat(left) + t, width);
}
