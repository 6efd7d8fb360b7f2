// s3rver's own error type: thrown from a middleware, it becomes a proper S3 XML error response.
import S3Error from 's3rver/lib/models/error.js';

/**
 * Bucket names and object keys the embedded store's files can hold. s3rver joins the decoded bucket
 * and key into a file path unchecked: `..` segments (also sent as `%2e%2e` or inside one segment as
 * `..%2F`) reach files outside the bucket and outside the data folder. These rules refuse, with 400,
 * what S3 stores but a folder of files cannot keep apart or inside: `.`/`..`/empty segments,
 * backslashes, NUL, and the store's own `._S3rver_` file names.
 */

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** S3's limit on a key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

const refuse = (code: string, message: string): never => {
  throw new S3Error(code, message);
};

export function checkBucketName(bucket: string): void {
  if (!BUCKET.test(bucket) || bucket.includes('..')) refuse('InvalidBucketName', 'The specified bucket is not valid.');
}

/** Throws 400 unless `key` (decoded) is one the file store keeps inside its bucket's folder, apart from every other key. */
export function checkKey(key: string): void {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) refuse('KeyTooLongError', 'Your key is too long.');
  const bad = key.split('/').find((segment) => segment === '' || segment === '.' || segment === '..' || /[\\\0]|\._S3rver_/.test(segment));
  if (bad !== undefined) {
    refuse(
      'InvalidArgument',
      `Object keys must not contain empty, "." or ".." segments, backslashes, NUL or "._S3rver_" (got ${JSON.stringify(bad)}).`,
    );
  }
}

/** The bucket and key of a path-style request path as s3rver routes it (`/bucket/key…`), each checked; undefined where absent. */
export function checkPath(rawPath: string): { bucket?: string; key?: string } {
  const [, rawBucket = '', ...rest] = rawPath.split('/');
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return refuse('InvalidURI', "Couldn't parse the specified URI.");
    }
  };
  const bucket = decode(rawBucket);
  const key = decode(rest.join('/'));
  if (!bucket) {
    if (rest.length) refuse('InvalidURI', "Couldn't parse the specified URI.");
    return {};
  }
  checkBucketName(bucket);
  // `/bucket` and `/bucket/` are the bucket; anything after is a key.
  if (key === '') return { bucket };
  checkKey(key);
  return { bucket, key };
}
