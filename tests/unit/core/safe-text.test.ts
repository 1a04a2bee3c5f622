import { describe, expect, it } from 'vitest';
import { sanitizeJsonText } from '../../../src/core/safe-text.js';

describe('sanitizeJsonText', () => {
  it('keeps a __proto__ key as a plain own key and never sets the prototype', () => {
    const parsed = JSON.parse('{"name":"tea\\u001b","__proto__":{"polluted":true,"x":"a\\u0007"}}') as Record<
      string,
      unknown
    >;
    const out = sanitizeJsonText(parsed);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.keys(out)).toEqual(['name', '__proto__']);
    expect(JSON.stringify(out)).toBe('{"name":"tea?","__proto__":{"polluted":true,"x":"a?"}}');
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('cleans nested strings and keys', () => {
    expect(sanitizeJsonText({ 'k\u0000': ['a\u202eb', { c: 'x\ny' }] })).toEqual({
      'k?': ['ab', { c: 'x\ny' }],
    });
  });
});
