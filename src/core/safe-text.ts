/**
 * Text that reaches paper or a screen comes from people and from the cloud; a control character in
 * it is a printer command (ESC p opens the drawer, GS V cuts). One definition of what is unsafe,
 * shared by the request validation (refuse), the downlink (sanitize) and the printer encoder (last
 * line: never emit it).
 */

/** C0 controls, DEL, C1 controls. */
function isControl(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/** Characters that reorder or hide text: bidi marks, embeddings, overrides and isolates. */
function isBidiControl(c: number): boolean {
  return (
    c === 0x061c ||
    c === 0x200e ||
    c === 0x200f ||
    (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2066 && c <= 0x2069)
  );
}

/** Invisible format characters a receipt has no use for (zero-width space/joiners, BOM, word joiner…). */
function isInvisibleFormat(c: number): boolean {
  return (
    c === 0x00ad ||
    c === 0x180e ||
    (c >= 0x200b && c <= 0x200d) ||
    (c >= 0x2060 && c <= 0x2064) ||
    (c >= 0x206a && c <= 0x206f) ||
    c === 0xfeff ||
    (c >= 0xfff9 && c <= 0xfffb)
  );
}

/** U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR. */
function isSeparator(c: number): boolean {
  return c === 0x2028 || c === 0x2029;
}

/**
 * The first character a person may not type into a text field, or undefined. Refused: every C0/C1
 * control (newline and tab too: the local API's text fields are single lines), DEL, the line and
 * paragraph separators, bidi controls, and unpaired surrogates.
 */
export function forbiddenCharacter(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i += 1;
        continue;
      }
      return text[i];
    }
    if (c >= 0xdc00 && c <= 0xdfff) return text[i];
    if (isControl(c) || isSeparator(c) || isBidiControl(c)) return text[i];
  }
  return undefined;
}

/** `U+001B` for messages (the character itself would be the problem). */
export function codePointName(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Shown where an unsafe character was: visible on paper, so a tampered name does not look clean. */
export const SUBSTITUTE = '?';

/**
 * Printable text: controls (and unpaired surrogates) become `?`, tab and the line/paragraph
 * separators a space, bidi and invisible format characters nothing. With `keepNewlines`, `\n` (and
 * `\r\n`) stays: where the document model says a newline is a line break.
 */
export function sanitizeText(text: string, keepNewlines = false): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let rep: string | undefined;
    if (c >= 0x20 && c < 0x7f) continue;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i += 1;
        continue;
      }
      rep = SUBSTITUTE;
    } else if (c >= 0xdc00 && c <= 0xdfff) rep = SUBSTITUTE;
    else if (c === 0x0a && keepNewlines) continue;
    else if (c === 0x0d && keepNewlines && text.charCodeAt(i + 1) === 0x0a) rep = '';
    else if (c === 0x09 || isSeparator(c)) rep = ' ';
    else if (isControl(c)) rep = SUBSTITUTE;
    else if (isBidiControl(c) || isInvisibleFormat(c)) rep = '';
    if (rep === undefined) continue;
    out += text.slice(start, i) + rep;
    start = i + 1;
  }
  return start === 0 ? text : out + text.slice(start);
}

/**
 * Every string (and key) in a JSON value made printable; newlines kept (the templates decide).
 * Keys are defined, not assigned: a `__proto__` key (JSON.parse makes it an own key) stays a plain
 * data key instead of replacing the copy's prototype and vanishing.
 */
export function sanitizeJsonText<T>(value: T): T {
  if (typeof value === 'string') return sanitizeText(value, true) as T;
  if (Array.isArray(value)) return value.map((v) => sanitizeJsonText(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, sanitizeText(k), {
        value: sanitizeJsonText(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out as T;
  }
  return value;
}

/**
 * The path and character of the first unsafe string in a JSON value (keys too), or undefined.
 * Iterative: a body nested thousands deep must not overflow the stack.
 */
export function findForbiddenText(
  value: unknown,
  path = '',
  allowNewline: (path: string) => boolean = () => false,
): { path: string; char: string } | undefined {
  const stack: Array<[unknown, string]> = [[value, path]];
  while (stack.length > 0) {
    const [v, here] = stack.pop()!;
    if (typeof v === 'string') {
      const text = allowNewline(here) ? v.replace(/\r?\n/g, ' ') : v;
      const ch = forbiddenCharacter(text);
      if (ch !== undefined) return { path: here || '(body)', char: ch };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    const entries: Array<[string, unknown]> = Array.isArray(v)
      ? v.map((x, i) => [String(i), x])
      : Object.entries(v);
    // Reversed onto the stack, so the first problem in document order is found first.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, x] = entries[i]!;
      const at = here ? `${here}.${k}` : k;
      const badKey = forbiddenCharacter(k);
      if (badKey !== undefined) return { path: at, char: badKey };
      stack.push([x, at]);
    }
  }
  return undefined;
}
