import { parse } from 'content-disposition';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attachmentDisposition, MAX_FILENAME_BYTES, sanitizeFilename } from './filenames.ts';
import { newUploadKey, parseUploadKey } from './object-keys.ts';

describe('sanitizeFilename', () => {
  it('keeps ordinary and non-ASCII names as they are', () => {
    expect(sanitizeFilename('report 2026.pdf')).toBe('report 2026.pdf');
    expect(sanitizeFilename('Grüße – 日本語 🎉.txt')).toBe('Grüße – 日本語 🎉.txt');
  });

  it('normalises to NFC so the same name always gives the same key', () => {
    const decomposed = 'Cafe\u0301.txt';
    expect(sanitizeFilename(decomposed)).toBe('Café.txt');
    expect(sanitizeFilename(decomposed)).toHaveLength(8);
  });

  it('removes path separators so a name cannot climb out of its folder', () => {
    expect(sanitizeFilename('../../etc/passwd')).toBe('.._.._etc_passwd');
    expect(sanitizeFilename('C:\\Windows\\win.ini')).toBe('C:_Windows_win.ini');
  });

  it('removes control and bidirectional-override characters', () => {
    expect(sanitizeFilename('a\u0000b\u0007c.txt')).toBe('abc.txt');
    expect(sanitizeFilename('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(sanitizeFilename('a\uFFFEb\uFFFFc\uFDD0\u{10FFFF}.txt')).toBe('abc.txt');
  });

  it('replaces lone surrogates, which JSON can carry but UTF-8 cannot', () => {
    expect(sanitizeFilename('a\ud800b.txt')).toBe('a\ufffdb.txt');
    expect(() => encodeURIComponent(sanitizeFilename('\udfff'))).not.toThrow();
  });

  it('collapses and trims whitespace', () => {
    expect(sanitizeFilename('  two\t\tspaces  .md ')).toBe('two spaces .md');
    expect(sanitizeFilename('line\r\nbreak.txt')).toBe('line break.txt');
  });

  it.each(['', '   ', '.', '..', '...', '\u0000'])('gives a fallback name for %j', (raw) => {
    expect(sanitizeFilename(raw)).toBe('file');
  });

  it('is idempotent: a character removed between two spaces leaves one space (the fuzz test found "/\\n\\u0000 /")', () => {
    expect(sanitizeFilename('/\n\u0000 /')).toBe('_ _');
    expect(sanitizeFilename('a \u200e b')).toBe('a b');
    for (const name of ['/\n\u0000 /', 'a \u200e b', ' x \u0000\u0000 y '])
      expect(sanitizeFilename(sanitizeFilename(name))).toBe(sanitizeFilename(name));
  });

  it('caps long names in UTF-8 bytes, keeping the extension and whole characters', () => {
    const long = `${'é'.repeat(300)}.tar.gz`;
    const safe = sanitizeFilename(long);
    expect(Buffer.byteLength(safe)).toBeLessThanOrEqual(MAX_FILENAME_BYTES);
    expect(safe.endsWith('é.gz')).toBe(true);
    expect(safe).not.toContain('\uFFFD');

    const emoji = sanitizeFilename('😀'.repeat(100));
    expect(Buffer.byteLength(emoji)).toBeLessThanOrEqual(MAX_FILENAME_BYTES);
    expect([...emoji].every((ch) => ch === '😀')).toBe(true);
  });
});

describe('sanitizeFilename: what S3 and its POST forms treat specially', () => {
  it.each([
    ['${filename}', '_{filename}'],
    ['a${filename}.txt', 'a_{filename}.txt'],
    ['$${filename}', '$_{filename}'],
    ['$\u0000{filename}', '_{filename}'], // a removed character cannot join `$` and `{`
    ['$\u202e{x}', '_{x}'],
    ['$\n{x}', '$ {x}'],
    ['price $5 {net}.txt', 'price $5 {net}.txt'],
    ['$key', '$key'],
  ])('leaves no "${" in %j (%j)', (raw, expected) => {
    expect(sanitizeFilename(raw)).toBe(expected);
  });

  it('leaves any name clean, and makes a key the server reads back with that very name', () => {
    const name = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({
        unit: fc.constantFrom('$', '{', '}', '/', '\\', '.', '\u0000', '\u202e', '\u200b', '\ud800', ' ', '%', 'a'),
        maxLength: 30,
      }),
    );
    fc.assert(
      fc.property(name, (raw) => {
        const clean = sanitizeFilename(raw);
        expect(clean).not.toMatch(/[/\\\p{Cc}\p{Cf}]|\$\{/u);
        expect(clean).not.toMatch(/^\.+$/);
        expect(Buffer.byteLength(clean)).toBeLessThanOrEqual(MAX_FILENAME_BYTES);
        expect(clean.length).toBeGreaterThan(0);
        expect(parseUploadKey(newUploadKey(clean, 'text/plain'))?.name).toBe(clean);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('attachmentDisposition', () => {
  it('is an attachment with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 5987)', () => {
    const header = attachmentDisposition('Grüße "final".pdf');
    expect(header).toBe(`attachment; filename="Gr??e \\"final\\".pdf"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22final%22.pdf`);
    const parsed = parse(header);
    expect(parsed.type).toBe('attachment');
    expect(parsed.parameters.filename).toBe('Grüße "final".pdf');
  });

  it('needs no extended parameter for plain ASCII names', () => {
    expect(attachmentDisposition('notes.txt')).toBe('attachment; filename=notes.txt');
  });
});
