/**
 * Codes of coupons the terminal issues: a prefix, 13 Crockford base32 characters made of 65 random
 * bits, and one check character (Luhn mod 32: catches every single mistyped character and every
 * swap of two neighbours but 0/Z, as Luhn's 09/90 in base 10). Random, so holding one code tells nothing of the next, two terminals
 * never share a counter to collide on, and a database restored from a backup repeats nothing.
 */

/** Crockford's base32: no I, L, O, U (read as 1, 1, 0 and never written). */
export const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_BODY_LENGTH = 13;
/** Random bytes a code needs: 65 bits are taken from 9 bytes. */
export const CODE_RANDOM_BYTES = 9;

function symbolValue(ch: string): number {
  return CROCKFORD.indexOf(ch);
}

/** Luhn mod 32 over Crockford characters: the character that makes the whole body check. */
export function checkCharacter(body: string): string {
  let sum = 0;
  let factor = 2;
  for (let i = body.length - 1; i >= 0; i--) {
    const v = symbolValue(body[i]!);
    if (v < 0) throw new Error(`not a Crockford base32 character: ${body[i]}`);
    const addend = factor * v;
    sum += Math.floor(addend / 32) + (addend % 32);
    factor = factor === 2 ? 1 : 2;
  }
  return CROCKFORD[(32 - (sum % 32)) % 32]!;
}

/** The 13 body characters from random bytes (the first 65 bits of them). */
export function codeBody(random: Uint8Array): string {
  if (random.length < CODE_RANDOM_BYTES)
    throw new Error(`a coupon code needs ${CODE_RANDOM_BYTES} random bytes`);
  let bits = 0n;
  for (let i = 0; i < CODE_RANDOM_BYTES; i++) bits = (bits << 8n) | BigInt(random[i]!);
  bits >>= 7n; // 72 bits read, 65 kept
  let out = '';
  for (let i = 0; i < CODE_BODY_LENGTH; i++) {
    out = CROCKFORD[Number(bits & 31n)]! + out;
    bits >>= 5n;
  }
  return out;
}

/** A full code: prefix, body, check character. */
export function makeCouponCode(prefix: string, random: Uint8Array): string {
  const body = codeBody(random);
  return `${prefix}${body}${checkCharacter(body)}`;
}

/**
 * What a cashier typed, read as an issued code when it has that shape once spaces and hyphens are
 * dropped and Crockford's look-alikes mapped (I/L as 1, O as 0, any case); else the text as typed.
 */
export function normaliseTyped(prefix: string, text: string): string {
  const upper = text.toUpperCase().replace(/[\s-]/g, '');
  if (!upper.startsWith(prefix.toUpperCase())) return text;
  const rest = upper.slice(prefix.length).replace(/[IL]/g, '1').replace(/O/g, '0');
  const candidate = `${prefix}${rest}`;
  return checkIssuedCode(prefix, candidate) === 'not-issued-shape' ? text : candidate;
}

/**
 * Whether `code` has the shape of an issued code under `prefix` (prefix + 14 Crockford
 * characters), and if so whether its check character holds.
 */
export function checkIssuedCode(prefix: string, code: string): 'not-issued-shape' | 'ok' | 'bad-check' {
  if (!code.startsWith(prefix)) return 'not-issued-shape';
  const rest = code.slice(prefix.length);
  if (rest.length !== CODE_BODY_LENGTH + 1) return 'not-issued-shape';
  for (const ch of rest) if (symbolValue(ch) < 0) return 'not-issued-shape';
  const body = rest.slice(0, CODE_BODY_LENGTH);
  return checkCharacter(body) === rest[CODE_BODY_LENGTH] ? 'ok' : 'bad-check';
}
