import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { parseUploadKey } from './object-keys.ts';
import { acceptUpload, fileTooLarge } from './upload-rules.ts';

const rules = { maxBytes: 1000, allowedTypes: ['*/*'], deniedTypes: ['application/x-msdownload'] };
const refusal = (body: unknown, with_ = rules) => {
  try {
    acceptUpload(body, with_);
    return undefined;
  } catch (err) {
    return err instanceof ZodError ? 'zod' : (err as { code: string; status: number }).code;
  }
};

describe('acceptUpload', () => {
  it('accepts a file within the rules, and the server makes its key from the sanitized name and normalized type', () => {
    const accepted = acceptUpload({ name: 'a/b\u0000.txt', size: 1000, type: 'Text/Plain; charset=utf-8' }, rules);
    expect(accepted).toMatchObject({ size: 1000, filename: 'a_b.txt', declaredType: 'text/plain', storedType: 'text/plain' });
    expect(parseUploadKey(accepted.key)).toMatchObject({ name: 'a_b.txt', contentType: 'text/plain' });
  });

  it('stores a type a browser would render as application/octet-stream, keeping the declared one in the key', () => {
    const accepted = acceptUpload({ name: 'page.html', size: 1, type: 'text/html' }, rules);
    expect(accepted).toMatchObject({ declaredType: 'text/html', storedType: 'application/octet-stream' });
    expect(parseUploadKey(accepted.key)?.contentType).toBe('text/html');
  });

  it('takes a file the browser gave no type as application/octet-stream', () => {
    expect(acceptUpload({ name: 'x', size: 0, type: '' }, rules).declaredType).toBe('application/octet-stream');
  });

  it('refuses a file one byte over the limit with 413 file_too_large', () => {
    expect(refusal({ name: 'x', size: 1001, type: 'text/plain' })).toBe('file_too_large');
    expect(fileTooLarge(1000)).toMatchObject({ code: 'file_too_large', status: 413 });
  });

  it('refuses a type that is not a content type (400), denied or not allowed (415)', () => {
    expect(refusal({ name: 'x', size: 1, type: 'text/plain\r\nX-Evil: 1' })).toBe('invalid_request');
    expect(refusal({ name: 'x', size: 1, type: 'png' })).toBe('invalid_request');
    expect(refusal({ name: 'x.exe', size: 1, type: 'application/x-msdownload' })).toBe('unsupported_type');
    expect(refusal({ name: 'x', size: 1, type: 'text/plain' }, { ...rules, allowedTypes: ['image/*'] })).toBe('unsupported_type');
    expect(refusal({ name: 'x', size: 1, type: 'image/png' }, { ...rules, allowedTypes: ['image/*'] })).toBeUndefined();
  });

  it('tells the user what is wrong with the type', () => {
    expect(() => acceptUpload({ name: 'x', size: 1, type: 'png' }, rules)).toThrow('type must be a content type such as image/png.');
    expect(() => acceptUpload({ name: 'x.exe', size: 1, type: 'application/x-msdownload' }, rules)).toThrow(
      'Files of type application/x-msdownload are not accepted here.',
    );
  });

  it('refuses a body of the wrong shape (the schema, 400 through the error handler)', () => {
    expect(refusal({ name: 'x', size: 1, type: 'text/plain', key: 'uploads/mine' })).toBe('zod');
    expect(refusal({ name: 'x', size: -1, type: 'text/plain' })).toBe('zod');
  });
});
