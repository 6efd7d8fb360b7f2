import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../contract/api.ts';
import { ApiError, describeError, isRetryable } from './errors.ts';

const isSentence = (text: string) => /^[A-Z"].*[.!]$/s.test(text) && text.length > 10;

describe('describeError', () => {
  it.each(errorCodes)('the server code %s reads as a sentence, even with no message', (code) => {
    expect(isSentence(describeError(new ApiError(code, '')))).toBe(true);
    expect(describeError(new ApiError(code, ''))).not.toMatch(/_/);
  });

  it.each([
    'network_error',
    'unexpected_response',
    'storage_unreachable',
    'upload_rejected',
    'upload_failed',
    'etag_hidden',
    'paused',
    'cancelled',
  ] as const)('the browser code %s reads as a sentence', (code) => expect(isSentence(describeError(new ApiError(code, '')))).toBe(true));

  it("shows the server's own message where it says more (the limit, the accepted types)", () => {
    expect(describeError(new ApiError('file_too_large', 'This file is too large: the limit is 5 MiB per file.'))).toBe(
      'This file is too large: the limit is 5 MiB per file.',
    );
  });

  it("prefers storage's own code, and says something for anything else", () => {
    expect(describeError(new ApiError('upload_rejected', 'Storage answered 400 EntityTooLarge', 'EntityTooLarge'))).toMatch(
      /larger than this upload allows/,
    );
    expect(describeError(new ApiError('upload_rejected', 'Storage answered 418 Teapot', 'Teapot'))).toMatch(/^Storage refused the upload/);
    expect(isSentence(describeError(new TypeError('x is undefined')))).toBe(true);
    expect(isSentence(describeError(new ApiError('some_future_code' as never, '')))).toBe(true);
  });
});

describe('isRetryable', () => {
  it('retries what a moment may fix, not refusals', () => {
    expect(isRetryable(new ApiError('storage_unavailable', ''))).toBe(true);
    expect(isRetryable(new ApiError('rate_limited', ''))).toBe(true);
    expect(isRetryable(new ApiError('invalid_request', ''))).toBe(false);
    expect(isRetryable(new Error('x'))).toBe(false);
  });
});
