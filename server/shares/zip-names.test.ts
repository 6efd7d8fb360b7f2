import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeZipName, safeZipNames } from './zip-names.ts';

describe('safeZipName', () => {
  it.each([
    ['../../evil.txt', 'evil.txt'],
    ['/etc/passwd', 'etc_passwd'],
    ['C:\\Windows\\win.ini', 'C__Windows_win.ini'],
    ['CON.txt', '_CON.txt'],
    ['con', '_con'],
    ['lpt1.tar.gz', '_lpt1.tar.gz'],
    ['<b>x</b>.txt', '_b_x__b_.txt'],
    ['report. ', 'report'],
    ['..', 'file'],
    ['.bashrc', 'bashrc'],
    ['a\u0000b\u202ec.txt', 'abc.txt'],
    ['Photo 1.jpg', 'Photo 1.jpg'],
  ])('%j → %j', (raw, safe) => {
    expect(safeZipName(raw)).toBe(safe);
  });

  it('never yields a path, a reserved stem, markup or an empty name', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (raw) => {
        const name = safeZipName(raw);
        expect(name).not.toBe('');
        // eslint-disable-next-line no-control-regex -- control characters must never reach a name
        expect(name).not.toMatch(/[/\\<>:"|?*\u0000-\u001f]/);
        expect(name).not.toMatch(/^[. ]|[. ]$/);
        expect(name.split('.')[0]).not.toMatch(/^(con|prn|aux|nul|com\d|lpt\d)$/i);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
      }),
    );
  });
});

describe('safeZipNames', () => {
  it('renames duplicates, ignoring case, keeping the extension', () => {
    expect(safeZipNames(['a.txt', 'A.txt', 'a.txt', 'x/a.txt', 'b'])).toEqual(['a.txt', 'A (2).txt', 'a (3).txt', 'x_a.txt', 'b']);
  });

  it('gives every entry a distinct name', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a.txt', 'A.TXT', '../a.txt', 'CON', 'con', 'a (2).txt', ''), { maxLength: 30 }), (names) => {
        const safe = safeZipNames(names).map((name) => name.toLowerCase());
        expect(new Set(safe).size).toBe(safe.length);
      }),
    );
  });
});
