import { describe, expect, it } from 'vitest';
import { newUploadKey, normalizeContentType, parseUploadKey, UPLOAD_PREFIX } from './object-keys.ts';

describe('newUploadKey', () => {
  it('puts every upload under the upload prefix with its type and name', () => {
    const key = newUploadKey('photo.png', 'image/png', Date.UTC(2026, 10, 23));
    expect(key).toMatch(/^uploads\/[0-9a-z]{11}-[0-9a-f]{16}\/image\/png\/photo\.png$/);
  });

  it('is unique even for the same name at the same millisecond', () => {
    const now = Date.now();
    const keys = new Set(Array.from({ length: 1000 }, () => newUploadKey('a.txt', 'text/plain', now)));
    expect(keys.size).toBe(1000);
  });

  it('sorts newer uploads first in S3 order (byte order)', () => {
    const older = newUploadKey('b.txt', 'text/plain', Date.UTC(2020, 0, 1));
    const newer = newUploadKey('a.txt', 'text/plain', Date.UTC(2026, 0, 1));
    const muchNewer = newUploadKey('a.txt', 'text/plain', Date.UTC(2100, 0, 1));
    expect([older, newer, muchNewer].sort()).toEqual([muchNewer, newer, older]);
  });

  it('makes keys that read back at any date a Date can hold, the last ones too (a short sort token is padded)', () => {
    for (const at of [0, Date.UTC(2026, 10, 23), 8.64e15 - 36 ** 5, 8.64e15 - 1]) {
      expect(parseUploadKey(newUploadKey('a.txt', 'text/plain', at))?.signedAt.getTime()).toBe(at);
    }
  });
});

describe('parseUploadKey', () => {
  it('reads back what newUploadKey wrote', () => {
    const signedAt = Date.UTC(2026, 10, 23, 9, 30);
    const key = newUploadKey('Grüße 2026.pdf', 'application/pdf', signedAt);
    expect(parseUploadKey(key)).toEqual({
      space: '',
      name: 'Grüße 2026.pdf',
      contentType: 'application/pdf',
      signedAt: new Date(signedAt),
    });
  });

  it("reads a person's space back, and only a well-formed one", () => {
    const space = 'people/0123456789abcdef0123456789abcdef/';
    const key = newUploadKey('a.txt', 'text/plain', Date.UTC(2026, 0, 1), space);
    expect(key.startsWith(`${space}${UPLOAD_PREFIX}`)).toBe(true);
    expect(parseUploadKey(key)?.space).toBe(space);
    expect(parseUploadKey(key.replace('people/0123', 'people/X123'))).toBeUndefined();
    expect(parseUploadKey(`people/${key}`)).toBeUndefined();
    expect(parseUploadKey(key.replace(space, 'people/../'))).toBeUndefined();
  });

  it.each([
    'other/0000000000a-0123456789abcdef/text/plain/a.txt',
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/dir/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/..`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789ABCDEF/text/plain/a.txt`,
    `${UPLOAD_PREFIX}../0123456789abcdef/text/plain/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/a\u0000b.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/a\u202eb.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/a\\b.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/\${filename}`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/a\${x}.txt`,
    '',
    // Anchors: only a whole key from the start (a prefix before uploads/, or a tail after the name).
    `private/${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/a.txt`,
    `x${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/a.txt`,
    `/${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/a.txt/`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/a.txt/..`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/a.txt\n`,
    // The token: 11 base-36 digits, a dash, 16 hex digits.
    `${UPLOAD_PREFIX}000000000a-0123456789abcdef/text/plain/a.txt`,
    `${UPLOAD_PREFIX}00000000000a-0123456789abcdef/text/plain/a.txt`,
    `${UPLOAD_PREFIX}0000000000A-0123456789abcdef/text/plain/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcde/text/plain/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef0/text/plain/a.txt`,
    `${UPLOAD_PREFIX}0000000000a_0123456789abcdef/text/plain/a.txt`,
    // The type: lower-case type/subtype as normalizeContentType leaves it.
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/Text/plain/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/Plain/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/-text/plain/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/.plain/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain;x/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/${'a'.repeat(128)}/plain/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/${'a'.repeat(128)}/a.txt`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef//plain/a.txt`,
    // Names sanitizeFilename never makes.
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/.`,
    `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/text/plain/...`,
  ])('refuses %j, which the server did not make', (key) => {
    expect(parseUploadKey(key)).toBeUndefined();
  });
});

describe('parseUploadKey: the edges it accepts', () => {
  it.each([
    ['a type of 127 characters', `${'a'.repeat(127)}/plain`, 'a.txt'],
    ['a name with dots inside', 'text/plain', '..a..'],
    ['a leading dot', 'text/plain', '.htaccess'],
    ['a Windows device name', 'application/vnd.ms-excel', 'CON'],
  ])('reads %s', (_case, type, name) => {
    const key = `${UPLOAD_PREFIX}0000000000a-0123456789abcdef/${type}/${name}`;
    expect(parseUploadKey(key)).toMatchObject({ name, contentType: type });
  });
});

describe('normalizeContentType', () => {
  it.each([
    ['image/png', 'image/png'],
    ['Text/HTML; charset=UTF-8', 'text/html'],
    [
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    ],
    ['image/svg+xml', 'image/svg+xml'],
    ['text/plain ; charset=UTF-8', 'text/plain'],
    [' image/png ', 'image/png'],
  ])('keeps %j as %j', (raw, expected) => {
    expect(normalizeContentType(raw)).toBe(expected);
  });

  it.each(['', 'png', 'image/', '/png', 'image/png/x', 'image/../x', 'text/plain\r\nX-Evil: 1', 'ima ge/png'])('refuses %j', (raw) => {
    expect(normalizeContentType(raw)).toBeUndefined();
  });
});
