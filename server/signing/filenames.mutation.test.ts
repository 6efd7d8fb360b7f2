import { describe, expect, it } from 'vitest';
import { MAX_FILENAME_BYTES, sanitizeFilename } from './filenames.ts';

/*
 * The boundaries of sanitizeFilename that mutation testing (npm run test:mutation) found unchecked:
 * names of exactly the byte limit, extensions of exactly the kept length, a cut that lands on a space.
 * Equivalent survivors: Buffer.byteLength's 'utf8' (its default); `dot >= 0` and `true` for `dot > 0`
 * (a dot at 0 or none leaves more than 16 characters after it in a name over the limit); cutting from
 * the whole name instead of the stem (the stem alone is over its share, so the cut is the same);
 * content-disposition's type (attachment is its default); `\s` for `\s+` (the later `/ {2,}/` joins the spaces).
 */

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('sanitizeFilename at its limits', () => {
  it('keeps a name of exactly MAX_FILENAME_BYTES as it is, trailing space before the extension included', () => {
    const name = `${'a'.repeat(MAX_FILENAME_BYTES - 5)} .txt`;
    expect(bytes(name)).toBe(MAX_FILENAME_BYTES);
    expect(sanitizeFilename(name)).toBe(name);
  });

  it('cuts a longer name to exactly MAX_FILENAME_BYTES when the characters allow it', () => {
    const safe = sanitizeFilename(`${'a'.repeat(300)}.txt`);
    expect(safe).toBe(`${'a'.repeat(MAX_FILENAME_BYTES - 4)}.txt`);
    expect(bytes(safe)).toBe(MAX_FILENAME_BYTES);
  });

  it('keeps whole multi-byte characters at the cut, as many as fit', () => {
    // 196 bytes for the stem: 98 two-byte characters exactly; 65 three-byte ones (195 bytes), not a split 66th.
    expect(sanitizeFilename(`${'é'.repeat(150)}.txt`)).toBe(`${'é'.repeat(98)}.txt`);
    expect(sanitizeFilename(`${'日'.repeat(100)}.txt`)).toBe(`${'日'.repeat(65)}.txt`);
  });

  it('keeps an extension of up to 16 characters, dot included, and drops a longer one', () => {
    const kept = `.${'b'.repeat(15)}`;
    expect(sanitizeFilename(`${'a'.repeat(300)}${kept}`)).toBe(`${'a'.repeat(MAX_FILENAME_BYTES - 16)}${kept}`);
    const dropped = `.${'b'.repeat(16)}`;
    expect(sanitizeFilename(`${'a'.repeat(300)}${dropped}`)).toBe('a'.repeat(MAX_FILENAME_BYTES));
  });

  it('trims the space a cut leaves before the extension', () => {
    const name = `${'a'.repeat(MAX_FILENAME_BYTES - 5)} ${'b'.repeat(50)}.txt`;
    expect(sanitizeFilename(name)).toBe(`${'a'.repeat(MAX_FILENAME_BYTES - 5)}.txt`);
  });

  it('keeps names that only start or end with dots', () => {
    expect(sanitizeFilename('.bashrc')).toBe('.bashrc');
    expect(sanitizeFilename('notes.')).toBe('notes.');
    expect(sanitizeFilename('a..')).toBe('a..');
  });

  it('turns every kind of whitespace into one space, and removes format characters but keeps letters', () => {
    // U+FEFF is whitespace to JavaScript's \s: it becomes a space before format characters go.
    expect(sanitizeFilename('a\u00a0\u2003b\u3000c\ufeffd.txt')).toBe('a b c d.txt');
    expect(sanitizeFilename('a\u200bb\u2066c\u00ad.txt')).toBe('abc.txt');
    expect(sanitizeFilename('x/y\\z')).toBe('x_y_z');
  });
});
