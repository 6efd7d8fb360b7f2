import { describe, expect, it } from 'vitest';
import { checkBucketName, checkKey, checkPath } from './embedded-paths.ts';

/** The S3 error code and HTTP status a check throws, or undefined when it lets the value through. */
function refusal(check: () => unknown): { code: string; status: number } | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    const { code, status, message } = err as { code: string; status: number; message: string };
    expect(message, 'S3 clients show the message: it must say something').toMatch(/\w/);
    return { code, status };
  }
}

describe('checkKey: keys the file store keeps inside the bucket, apart', () => {
  it.each([
    'a.txt',
    'uploads/0000000000a-0123456789abcdef/text/plain/Grüße.pdf',
    '..a',
    'a..',
    '...x/y',
    '.htaccess',
    'a._S3rver',
    'k'.repeat(1024),
  ])('accepts %j', (key) => {
    expect(refusal(() => checkKey(key))).toBeUndefined();
  });

  it.each([
    '..',
    '.',
    '../secret',
    'a/../../etc/passwd',
    'a/./b',
    'a/..',
    'a//b',
    '/a',
    'a/',
    '',
    'a\\..\\b',
    'a\u0000b',
    'x/a._S3rver_metadata.json',
    '._S3rver_object',
  ])('refuses %j with 400 InvalidArgument', (key) => {
    expect(refusal(() => checkKey(key))).toEqual({ code: 'InvalidArgument', status: 400 });
  });

  it('names the offending segment in the message', () => {
    expect(() => checkKey('a/../b')).toThrow('(got "..")');
  });

  it('refuses a key over 1024 bytes of UTF-8 with 400 KeyTooLongError, counting bytes, not characters', () => {
    expect(refusal(() => checkKey('k'.repeat(1025)))).toEqual({ code: 'KeyTooLongError', status: 400 });
    expect(refusal(() => checkKey('é'.repeat(512)))).toBeUndefined();
    expect(refusal(() => checkKey(`${'é'.repeat(512)}x`))).toEqual({ code: 'KeyTooLongError', status: 400 });
  });
});

describe('checkBucketName', () => {
  it.each(['abc', 'postbox', 'my.bucket-1', `a${'b'.repeat(61)}c`])('accepts %j', (bucket) => {
    expect(refusal(() => checkBucketName(bucket))).toBeUndefined();
  });

  it.each(['ab', 'a..b', '..', '.bucket', 'bucket.', '-bucket', 'bucket-', 'Bucket', 'a/b', 'a_b', `a${'b'.repeat(62)}c`, 'xabc/..'])(
    'refuses %j with 400 InvalidBucketName',
    (bucket) => {
      expect(refusal(() => checkBucketName(bucket))).toEqual({ code: 'InvalidBucketName', status: 400 });
    },
  );
});

describe('checkPath: a path-style request path as s3rver routes it', () => {
  it.each([
    ['/', {}],
    ['', {}],
    ['/postbox', { bucket: 'postbox' }],
    ['/postbox/', { bucket: 'postbox' }],
    ['/postbox/a.txt', { bucket: 'postbox', key: 'a.txt' }],
    ['/postbox/dir/Gr%C3%BC%C3%9Fe%20x.txt', { bucket: 'postbox', key: 'dir/Grüße x.txt' }],
    ['/postbox/a%2Fb', { bucket: 'postbox', key: 'a/b' }],
  ])('reads %j as %j', (path, expected) => {
    expect(checkPath(path)).toEqual(expected);
  });

  it.each([
    ['/postbox/..', 'InvalidArgument'],
    ['/postbox/%2e%2e/other/x', 'InvalidArgument'],
    ['/postbox/a/..%2F..%2Fx', 'InvalidArgument'],
    ['/postbox/a%5C..', 'InvalidArgument'],
    ['/postbox/a%00', 'InvalidArgument'],
    ['/postbox//x', 'InvalidArgument'],
    ['/%2e%2e/x', 'InvalidBucketName'],
    ['/Postbox/x', 'InvalidBucketName'],
    ['/postbox/%E0%A4%A', 'InvalidURI'],
    ['/%E0%A4%A/x', 'InvalidURI'],
    // No bucket but a key: `//key` would reach s3rver's bucket list with a path after it.
    ['//x', 'InvalidURI'],
  ])('refuses %j with 400 %s', (path, code) => {
    expect(refusal(() => checkPath(path))).toEqual({ code, status: 400 });
  });
});
