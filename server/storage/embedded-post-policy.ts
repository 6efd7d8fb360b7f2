import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import Busboy from 'busboy';
import type S3rver from 's3rver';
// s3rver's own error type: thrown from a middleware, it becomes a proper S3 XML error response.
import S3Error from 's3rver/lib/models/error.js';
import { z } from 'zod';
import { checkKey } from './embedded-paths.ts';

/**
 * s3rver 3.7 ignores POST policies: it stores whatever a form sends, even the truncated body of an
 * upload the browser cancelled. This middleware, put in front of s3rver's router, receives each form
 * POST (the file into a temporary file), checks it as S3 does (signature, expiry, every condition,
 * no extra fields, content-length-range) and only then lets s3rver store it, handing it the checked
 * form. Real S3 does this itself; this keeps the embedded store from listing half-uploaded or
 * out-of-policy files.
 */

type Fields = Record<string, string>;
const stringOrNumber = z.union([z.string(), z.number()]);
/** A POST policy document (the AWS SDK's createPresignedPost writes them): `{field: value}` or `[operator, a, b]` conditions. */
const PolicyDocument = z.object({
  expiration: z.string().optional(),
  conditions: z.array(z.union([z.record(z.string(), z.string()), z.tuple([z.string(), stringOrNumber, stringOrNumber])])).optional(),
});
type Condition = NonNullable<z.infer<typeof PolicyDocument>['conditions']>[number];
interface KoaContext {
  method: string;
  path: string;
  req: IncomingMessage | NodeJS.ReadableStream;
  is(type: string): string | false | null;
}

/** A form's fields are small (S3 takes 20 KB before the file); busboy would otherwise hold up to 1 MB per field, unlimited fields. */
const FORM_LIMITS = { fields: 100, fieldSize: 20 * 1024, fieldNameSize: 200, parts: 110, headerPairs: 20 };

// Form fields S3 does not require a policy condition for.
const UNCONDITIONED = new Set(['policy', 'x-amz-signature', 'file']);

const refuse = (code: string, message: string): never => {
  throw new S3Error(code, message);
};
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** Parses the form: its fields (those before the file; names lower-cased, as S3 reads them) and the file, saved in `file`. */
async function receiveForm(req: IncomingMessage, file: string): Promise<{ fields: Fields; fileSize: number }> {
  const fields: Fields = {};
  let saved: Promise<number> | undefined;
  let tooLarge = false;
  const parser = Busboy({ headers: req.headers, limits: FORM_LIMITS });
  parser.on('field', (name, value, info) => {
    if (saved) return; // S3 ignores fields after the file
    // busboy cuts a long value short; S3 refuses it. (A `file` field is not kept: the file is the part with a filename.)
    if ((info.nameTruncated || info.valueTruncated) && name.toLowerCase() !== 'file') tooLarge = true;
    fields[name.toLowerCase()] = value;
  });
  parser.on('fieldsLimit', () => (tooLarge = true));
  parser.on('partsLimit', () => (tooLarge = true));
  parser.on('file', (name, stream) => {
    if (name !== 'file' || saved) {
      stream.resume();
      return;
    }
    const out = createWriteStream(file);
    saved = pipeline(stream, out).then(() => out.bytesWritten);
  });
  req.pipe(parser);
  // A request cut off half-way (a cancelled upload) never ends the parser: stop at its early close.
  const cutOff = finished(req).then(
    () => new Promise<never>(() => {}),
    () => 'cut off' as const,
  );
  const outcome = await Promise.race([
    finished(parser).then(
      () => 'parsed' as const,
      () => 'malformed' as const,
    ),
    cutOff,
  ]);
  if (outcome !== 'parsed') parser.destroy();
  const fileSize = await saved?.catch(() => undefined);
  if (outcome === 'cut off' || !req.complete)
    refuse('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
  if (outcome === 'malformed') refuse('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
  if (tooLarge) refuse('MaxPostPreDataLengthExceededError', 'Your POST request fields preceding the upload file were too large.');
  if (fileSize === undefined) refuse('InvalidArgument', 'POST requires exactly one file upload per request.');
  return { fields, fileSize: fileSize! };
}

/**
 * The form s3rver gets: the checked fields and the checked file, and nothing else. s3rver parses
 * forms its own way (another busboy: field names case-sensitive, a `file` part without a filename
 * taken as the file), so handing it the original body would let a form read one way here and
 * another there (e.g. `KEY` checked, `key` stored). The boundary is new and random, drawn after the
 * form was read: nothing in the form can contain it (fields are decoded by their part's charset, so
 * the original one could reappear in a decoded value).
 */
function checkedForm(fields: Fields, file: string): { body: Readable; contentType: string } {
  const boundary = `postbox-${randomUUID()}`;
  const head = (name: string, extra = '') => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${extra}\r\n\r\n`;
  const forwarded = Object.entries(fields).filter(([name]) => name !== 'file' && name !== 'bucket' && !name.startsWith('x-ignore-'));
  const body = Readable.from(
    (async function* () {
      for (const [name, value] of forwarded) yield Buffer.from(`${head(name)}${value}\r\n`);
      yield Buffer.from(head('file', '; filename="file"\r\nContent-Type: application/octet-stream'));
      yield* createReadStream(file);
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    })(),
  );
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

function checkSignature(fields: Fields, secretAccessKey: string) {
  const { policy, 'x-amz-signature': signature = '', 'x-amz-credential': credential = '' } = fields;
  const [, date, region, service, terminator] = credential.split('/');
  if (!policy || !date || !region || !service || terminator !== 'aws4_request') {
    refuse('AccessDenied', 'Invalid according to Policy: missing or malformed credential.');
  }
  const signingKey = [date!, region!, service!, terminator!].reduce<Buffer | string>(
    (key, part) => hmac(key, part),
    `AWS4${secretAccessKey}`,
  );
  const expected = hmac(signingKey, policy!);
  // Buffer.from(…, 'hex') stops at the first non-hex character: a signature with a tail would pass.
  const given = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    refuse('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
}

/** Checks expiry and every condition; returns the content-length-range, checked against the file. */
function checkPolicy(fields: Fields, bucket: string): { min: number; max: number } | undefined {
  let document: z.infer<typeof PolicyDocument> = {};
  try {
    document = PolicyDocument.parse(JSON.parse(Buffer.from(fields.policy!, 'base64').toString('utf8')));
  } catch {
    refuse('InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  }
  if (!document.expiration || !(Date.parse(document.expiration) > Date.now())) {
    refuse('AccessDenied', 'Invalid according to Policy: Policy expired.');
  }
  const valueOf = (name: string) => {
    const field = name.replace(/^\$/, '').toLowerCase();
    return field === 'bucket' ? bucket : fields[field];
  };
  const failed = (condition: Condition) =>
    refuse('AccessDenied', `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`);

  const covered = new Set<string>(['bucket']);
  let lengthRange: { min: number; max: number } | undefined;
  for (const condition of document.conditions ?? []) {
    if (!Array.isArray(condition)) {
      for (const [name, value] of Object.entries(condition)) {
        covered.add(name.toLowerCase());
        if (valueOf(name) !== value) failed(condition);
      }
      continue;
    }
    const [operator, name, value] = condition;
    if (operator === 'content-length-range') {
      lengthRange = { min: Number(name), max: Number(value) };
      continue;
    }
    covered.add(String(name).replace(/^\$/, '').toLowerCase());
    const actual = valueOf(String(name)) ?? '';
    if (!(operator === 'eq' ? actual === value : operator === 'starts-with' && actual.startsWith(String(value)))) failed(condition);
  }
  if (fields.bucket !== undefined && fields.bucket !== bucket) failed({ bucket });
  const broken = Object.entries(fields).find(([name, value]) => /[\r\n]/.test(name + value));
  if (broken) refuse('InvalidArgument', `Form field ${JSON.stringify(broken[0])} contains a line break.`);
  const extra = Object.keys(fields).filter((name) => !covered.has(name) && !UNCONDITIONED.has(name) && !name.startsWith('x-ignore-'));
  if (extra.length) refuse('AccessDenied', `Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);
  return lengthRange;
}

export function enforcePostPolicies(server: S3rver, options: { secretAccessKey: string; incomingDir: string }): void {
  const guard = async (ctx: KoaContext, next: () => Promise<void>) => {
    if (ctx.method !== 'POST' || !ctx.is('multipart/form-data')) return next();
    const req = ctx.req as IncomingMessage;
    const file = path.join(options.incomingDir, randomUUID());
    try {
      const { fields, fileSize } = await receiveForm(req, file);
      checkSignature(fields, options.secretAccessKey);
      const range = checkPolicy(fields, decodeURIComponent(ctx.path.split('/')[1] ?? ''));
      // A policy may leave the key open (`starts-with`); the file store must still keep it inside the bucket.
      checkKey(fields.key ?? '');
      if (range && fileSize > range.max) refuse('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
      if (range && fileSize < range.min) refuse('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size');
      const form = checkedForm(fields, file);
      // s3rver reads the boundary from the request's headers.
      req.headers = { ...req.headers, 'content-type': form.contentType };
      ctx.req = form.body;
      await next();
    } finally {
      await unlink(file).catch(() => {});
    }
  };
  // s3rver is a Koa app: its router is the last middleware; check before it routes.
  const middleware = (server as unknown as { middleware: unknown[] }).middleware;
  middleware.splice(middleware.length - 1, 0, guard);
}
