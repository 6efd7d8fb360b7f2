import { parse } from 'content-disposition';
import { describe, expect, it } from 'vitest';
import { attachmentDisposition, MAX_FILENAME_BYTES, sanitizeFilename } from './filenames.ts';

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
