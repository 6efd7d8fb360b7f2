import { createHmac, timingSafeEqual } from 'node:crypto';
import type S3rver from 's3rver';
// s3rver's own error type: thrown from its store, it becomes a proper S3 XML error response.
import S3Error from 's3rver/lib/models/error.js';

/**
 * s3rver 3.7 ignores POST policies: it stores whatever a form sends, including a truncated file
 * when the browser cancels mid-upload. This makes the embedded store check them as S3 does
 * (signature, expiry, every condition, no extra fields, content-length-range) so a cancelled
 * or out-of-policy upload is refused instead of stored. Real S3 does all of this itself.
 */

type Condition = Record<string, string> | [string, string | number, string | number];
interface StoredObject {
  bucket: string;
  key: string;
  metadata: Record<string, string>;
  content: NodeJS.ReadableStream | Buffer;
}
interface FilesystemStore {
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
  deleteObject(bucket: string, key: string): Promise<void>;
}

// Form fields that S3 does not require a policy condition for.
const UNCONDITIONED_FIELDS = new Set(['policy', 'x-amz-signature', 'file']);

function refuse(object: StoredObject, code: string, message: string): never {
  if (!Buffer.isBuffer(object.content)) object.content.resume();
  throw new S3Error(code, message);
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function checkSignature(object: StoredObject, secretAccessKey: string) {
  const { policy, 'x-amz-signature': signature = '', 'x-amz-credential': credential = '' } = object.metadata;
  const [, date, region, service, terminator] = credential.split('/');
  if (!policy || !date || !region || !service || terminator !== 'aws4_request') {
    refuse(object, 'AccessDenied', 'Invalid according to Policy: missing or malformed credential.');
  }
  const signingKey = [date, region, service, terminator].reduce<Buffer | string>((key, part) => hmac(key, part), `AWS4${secretAccessKey}`);
  const expected = hmac(signingKey, policy);
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    refuse(object, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
}

function fieldValue(object: StoredObject, name: string): string | undefined {
  const field = name.replace(/^\$/, '').toLowerCase();
  if (field === 'key') return object.key;
  if (field === 'bucket') return object.bucket;
  return object.metadata[field];
}

/** Checks everything but the length, which is known only once the file is stored. */
function checkPolicy(object: StoredObject): { min: number; max: number } | undefined {
  let document: { expiration?: string; conditions?: Condition[] };
  try {
    document = JSON.parse(Buffer.from(object.metadata.policy!, 'base64').toString('utf8'));
  } catch {
    refuse(object, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  }
  if (!document.expiration || !(Date.parse(document.expiration) > Date.now())) {
    refuse(object, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
  }

  const covered = new Set<string>(['key', 'bucket']);
  let lengthRange: { min: number; max: number } | undefined;
  for (const condition of document.conditions ?? []) {
    if (Array.isArray(condition)) {
      const [operator, name, value] = condition;
      if (operator === 'content-length-range') {
        lengthRange = { min: Number(name), max: Number(value) };
        continue;
      }
      const actual = fieldValue(object, String(name)) ?? '';
      covered.add(String(name).replace(/^\$/, '').toLowerCase());
      const ok = operator === 'eq' ? actual === value : operator === 'starts-with' ? actual.startsWith(String(value)) : false;
      if (!ok) refuse(object, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`);
    } else {
      for (const [name, value] of Object.entries(condition)) {
        covered.add(name.toLowerCase());
        if (fieldValue(object, name) !== value) {
          refuse(object, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`);
        }
      }
    }
  }
  const extra = Object.keys(object.metadata).filter((name) => !covered.has(name) && !UNCONDITIONED_FIELDS.has(name) && !name.startsWith('x-ignore-'));
  if (extra.length) refuse(object, 'AccessDenied', `Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);
  return lengthRange;
}

export function enforcePostPolicies(server: S3rver, secretAccessKey: string): void {
  const store = (server as unknown as { store: FilesystemStore }).store;
  const putObject = store.putObject.bind(store);

  store.putObject = async (object) => {
    // Only browser form uploads (POST) carry a policy field; PUTs are signed and checked per request.
    if (object.metadata?.policy === undefined) return putObject(object);
    checkSignature(object, secretAccessKey);
    const lengthRange = checkPolicy(object);
    const stored = await putObject(object);
    if (lengthRange && (stored.size < lengthRange.min || stored.size > lengthRange.max)) {
      await store.deleteObject(object.bucket, object.key);
      const tooLarge = stored.size > lengthRange.max;
      throw new S3Error(
        tooLarge ? 'EntityTooLarge' : 'EntityTooSmall',
        `Your proposed upload is ${tooLarge ? 'larger than the maximum' : 'smaller than the minimum'} allowed size`,
      );
    }
    return stored;
  };
}
