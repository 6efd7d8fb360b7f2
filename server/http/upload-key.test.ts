import { describe, expect, it } from 'vitest';
import { newUploadKey } from '../signing/object-keys.ts';
import { requireUploadKey } from './upload-key.ts';

describe('requireUploadKey', () => {
  it('reads a key the server made', () => {
    expect(requireUploadKey(newUploadKey('a.txt', 'text/plain'))).toMatchObject({ name: 'a.txt', contentType: 'text/plain' });
  });

  it.each(['shares/abc.json', 'postbox/install-secret', 'uploads/../shares/x', ''])('refuses %j with 400 invalid_request', (key) => {
    expect(() => requireUploadKey(key)).toThrow(
      expect.objectContaining({ code: 'invalid_request', status: 400, message: 'That is not the key of an uploaded file.' }),
    );
  });
});
