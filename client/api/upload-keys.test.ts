import { describe, expect, it } from 'vitest';
import { sanitizeFilename } from '../../server/signing/filenames.ts';
import { newUploadKey, parseUploadKey } from '../../server/signing/object-keys.ts';
import { describeUploadKey } from './upload-keys.ts';

describe('describeUploadKey', () => {
  it.each([
    ['holiday film.mov', 'video/quicktime'],
    ['Ünïcødé – 2026 (final).tar.gz', 'application/gzip'],
    ['a/b\\c.txt', 'text/plain'],
    ['...', 'application/octet-stream'],
    ['.env', 'text/plain'],
  ])('reads %j back as the server does', (raw, type) => {
    const key = newUploadKey(sanitizeFilename(raw), type);
    const server = parseUploadKey(key)!;
    expect(describeUploadKey(key)).toEqual({ name: server.name, type: server.contentType });
  });

  it('falls back to the whole key for a key it does not know', () => {
    expect(describeUploadKey('uploads/odd/')).toEqual({ name: 'uploads/odd/', type: undefined });
  });
});
