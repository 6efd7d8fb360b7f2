import { CRC32_HEADER, S3_MIN_PART_BYTES } from '../../contract/api.ts';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import type S3rver from 's3rver';
// s3rver's own error type: thrown from a middleware, it becomes a proper S3 XML error response.
import S3Error from 's3rver/lib/models/error.js';
import { childText, parseXmlOf, readBounded } from './embedded-xml.ts';

/**
 * s3rver 3.7 implements only part of multipart upload: Create, UploadPart and Complete. It has no
 * ListParts, AbortMultipartUpload or ListMultipartUploads (it answers NotImplemented), ignores
 * Content-MD5, completes an upload id under any key, never compares the ETags of a Complete with its
 * parts, and joins the upload id from the query into a file path unchecked. This middleware, in front
 * of s3rver's router, adds what S3 does, on s3rver's own files (`<bucket>/._S3rver_uploads/<id>/`):
 *
 * - every request with an `uploadId` must name an upload of that very key, else 404 NoSuchUpload;
 * - UploadPart: part number 1 … 10000; the part is written beside the old one and renamed into place
 *   whole (`writePartsWhole`); a Content-MD5 or x-amz-checksum-crc32 that does not match the body is
 *   refused (400 BadDigest) and the part already there stays; every answer carries the CRC32 of the
 *   bytes received (S3 answers it only when asked), which the page compares with its own
 *   (`answered-crc32` in contract/api.ts);
 * - ListParts, AbortMultipartUpload, ListMultipartUploads;
 * - Complete: parts in ascending order (InvalidPartOrder), each present with its ETag (InvalidPart),
 *   all but the last at least 5 MiB (EntityTooSmall); then the parts are joined by `joinParts`.
 */

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  req: IncomingMessage | NodeJS.ReadableStream;
  status: number;
  body: unknown;
  etag?: string;
  href: string;
  get(header: string): string;
  set(header: string, value: string): void;
}

const refuse = (code: string, message: string): never => {
  throw new S3Error(code, message);
};
const noSuchUpload = () =>
  refuse(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  );
const MIN_PART_BYTES = S3_MIN_PART_BYTES;
const UPLOAD_ID = /^[0-9a-f]{32}$/;
const queryString = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * A Complete body's limit: S3 takes at most 10,000 parts, and a part as the SDK sends it, with an
 * ETag and a checksum, is under 250 bytes.
 */
export const MAX_COMPLETE_BYTES = 2.5 * 1024 * 1024;

/** The parts a CompleteMultipartUpload body lists (1 … 10,000 of them), parsed in linear time. */
function completionParts(body: Buffer): { number: number; etag: string }[] {
  const root = parseXmlOf(body, 'CompleteMultipartUpload');
  const parts = root.children.filter((child) => child.name === 'Part');
  if (parts.length === 0 || parts.length > 10_000) {
    refuse('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  }
  return parts.map((part) => {
    const number = (childText(part, 'PartNumber') ?? '').trim();
    return {
      number: /^\d{1,5}$/.test(number) ? Number(number) : NaN,
      // S3 removes all double quotes when comparing ETags.
      etag: (childText(part, 'ETag') ?? '').replace(/"/g, '').trim(),
    };
  });
}

/** S3's form of a CRC32: base64 of its 4 bytes, big-endian. */
function crc32Base64(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

/** What an UploadPart request claims (Content-MD5, a signed x-amz-checksum-crc32), by its body stream. */
const claims = new WeakMap<object, { md5?: Buffer; crc32?: string }>();
/** The CRC32 of what each UploadPart request brought, by its body stream. */
const received = new WeakMap<object, string>();

/**
 * Replaces s3rver's putPart, which truncated the part's file and wrote over it: a PUT that broke off
 * left a short part listed under the earlier part's ETag, and its MD5 file was written before the
 * last bytes were. This writes a file beside the part, hashing MD5 and CRC32 as the bytes pass, and
 * renames it into place only once it is whole and matches what the request claimed (else 400
 * BadDigest, and the part already there stays, as on S3).
 */
function writePartsWhole(uploadsDir: (bucket: string) => string): FilesystemStore['putPart'] {
  return async (bucket, uploadId, partNumber, content) => {
    const part = path.join(uploadsDir(bucket), uploadId, partNumber);
    const temp = `${part}.${randomUUID()}.tmp`;
    const md5 = createHash('md5');
    let crc = 0;
    let size = 0;
    const hash = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk);
        crc = crc32(chunk, crc);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(content, hash, createWriteStream(temp));
    } catch (err) {
      await rm(temp, { force: true });
      // The upload's folder went (aborted or completed meanwhile): as S3 answers then.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') noSuchUpload();
      throw err;
    }
    const md5Hex = md5.digest('hex');
    const crc32Received = crc32Base64(crc);
    const claim = claims.get(content);
    const badDigest = async (message: string) => {
      await rm(temp, { force: true });
      refuse('BadDigest', message);
    };
    if (claim?.md5 && !claim.md5.equals(Buffer.from(md5Hex, 'hex')))
      await badDigest('The Content-MD5 you specified did not match what we received.');
    if (claim?.crc32 && claim.crc32 !== crc32Received) await badDigest('The CRC32 you specified did not match the calculated checksum.');
    await rename(temp, part);
    await writeFile(`${part}.md5`, md5Hex);
    received.set(content, crc32Received);
    return { size, md5: md5Hex };
  };
}

/** What `joinParts` uses of s3rver's FilesystemStore (lib/stores/filesystem.js). */
interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: 'object'): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObjectMultipart(bucket: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<{ size: number; md5: string }>;
  putPart(bucket: string, uploadId: string, partNumber: string, content: NodeJS.ReadableStream): Promise<{ size: number; md5: string }>;
}

/**
 * Replaces s3rver's join of a completed upload. s3rver pipes every part through an MD5 of the whole
 * object in 64 KiB chunks, straight into the object's file, so a download during the join got half
 * a file (and a listing showed it at half its size), and its ETag was that MD5. This copies the parts
 * into a file beside them and renames it into place, and the ETag is S3's (and RGW's) for a multipart
 * object: the MD5 of the parts' MD5s, a dash and their count. Not faster: either way a GiB takes about
 * 5 s here, the time the disk takes to write it. The guard below has checked the Complete request by then.
 */
function joinParts(store: FilesystemStore, uploadsDir: (bucket: string) => string): FilesystemStore['putObjectMultipart'] {
  return async (bucket, uploadId, parts) => {
    const dir = path.join(uploadsDir(bucket), uploadId);
    const [key, metadata] = await Promise.all([
      readFile(path.join(dir, 'key'), 'utf8'),
      readFile(path.join(dir, 'metadata'), 'utf8').then((text) => JSON.parse(text) as Record<string, string>),
    ]);
    const ordered = parts.toSorted((a, b) => a.number - b.number);
    const joined = path.join(dir, 'joined'); // one join per upload at a time (see `joining` below)
    let size = 0;
    await pipeline(async function* () {
      for (const part of ordered) {
        for await (const chunk of createReadStream(path.join(dir, String(part.number)), { highWaterMark: 8 * 1024 * 1024 })) {
          size += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      }
    }, createWriteStream(joined));
    const md5s = Buffer.concat(ordered.map((part) => Buffer.from(part.etag, 'hex')));
    const etag = `${createHash('md5').update(md5s).digest('hex')}-${ordered.length}`;
    const objectPath = store.getResourcePath(bucket, key, 'object');
    await mkdir(path.dirname(objectPath), { recursive: true });
    // Metadata first: until the object file exists, s3rver answers NoSuchKey whatever metadata it finds.
    await store.putMetadata(bucket, key, metadata, etag);
    await rename(joined, objectPath);
    await rm(dir, { recursive: true, force: true });
    return { size, md5: etag };
  };
}

export function emulateMultipartApi(server: S3rver, options: { directory: string }): void {
  const uploadsDir = (bucket: string) => path.join(options.directory, bucket, '._S3rver_uploads');

  /** The upload's folder, after checking the id is one of this key's uploads. */
  const uploadDirOf = async (bucket: string, key: string, uploadId: string): Promise<string> => {
    if (!UPLOAD_ID.test(uploadId)) noSuchUpload();
    const dir = path.join(uploadsDir(bucket), uploadId);
    const storedKey = await readFile(path.join(dir, 'key'), 'utf8').catch(() => undefined);
    if (storedKey !== key) noSuchUpload();
    return dir;
  };

  const listParts = async (dir: string) => {
    const names = (await readdir(dir)).filter((name) => /^\d+$/.test(name));
    const parts = await Promise.all(
      names.map(async (name) => {
        const file = path.join(dir, name);
        const [info, md5] = await Promise.all([stat(file), readFile(`${file}.md5`, 'utf8').catch(() => undefined)]);
        return { number: Number(name), size: info.size, md5, modified: info.mtime };
      }),
    );
    return parts.filter((p) => p.md5 !== undefined).sort((a, b) => a.number - b.number);
  };

  // While an upload's parts are joined (seconds per GiB), its parts must not change: UploadPart and
  // Abort are refused (409 OperationAborted, S3's "try again"), and a Complete retried meanwhile
  // (an SDK retry after a timeout) gets the answer of the join under way instead of starting another.
  const joining = new Map<string, ReturnType<FilesystemStore['putObjectMultipart']>>();
  const store = (server as unknown as { store: FilesystemStore }).store;
  const join = joinParts(store, uploadsDir);
  store.putPart = writePartsWhole(uploadsDir);
  store.putObjectMultipart = (bucket, uploadId, parts) => {
    let running = joining.get(uploadId);
    if (!running) {
      running = join(bucket, uploadId, parts).finally(() => joining.delete(uploadId));
      joining.set(uploadId, running);
    }
    return running;
  };
  const refuseWhileJoining = (uploadId: string) => {
    if (joining.has(uploadId))
      refuse('OperationAborted', 'A conflicting conditional operation is currently in progress against this resource. Try again.');
  };

  const guard = async (ctx: KoaContext, next: () => Promise<void>) => {
    const [, rawBucket = '', ...rest] = ctx.path.split('/');
    const bucket = decodeURIComponent(rawBucket);
    const key = decodeURIComponent(rest.join('/'));
    const uploadId = queryString(ctx.query.uploadId);

    if (!key) {
      if (ctx.method === 'GET' && ctx.query.uploads !== undefined && bucket) {
        const prefix = queryString(ctx.query.prefix) ?? '';
        const ids = await readdir(uploadsDir(bucket)).catch(() => [] as string[]);
        const uploads = [];
        for (const id of ids.sort()) {
          const dir = path.join(uploadsDir(bucket), id);
          const storedKey = await readFile(path.join(dir, 'key'), 'utf8').catch(() => undefined);
          if (storedKey === undefined || !storedKey.startsWith(prefix)) continue;
          const info = await stat(dir);
          uploads.push({
            Key: storedKey,
            UploadId: id,
            Initiated: info.birthtime.getTime() ? info.birthtime.toISOString() : info.mtime.toISOString(),
          });
        }
        uploads.sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0));
        ctx.body = {
          ListMultipartUploadsResult: {
            Bucket: bucket,
            Prefix: prefix,
            MaxUploads: 1000,
            IsTruncated: false,
            ...(uploads.length ? { Upload: uploads } : {}),
          },
        };
        return;
      }
      return next();
    }
    if (uploadId === undefined) return next();

    if (ctx.method === 'POST' && ctx.query.uploads !== undefined) return next();
    const dir = await uploadDirOf(bucket, key, uploadId);

    switch (ctx.method) {
      case 'PUT': {
        refuseWhileJoining(uploadId);
        // The raw string, as s3rver names the part's file by it: "01" or "1e3" would name another file.
        const partNumber = queryString(ctx.query.partNumber) ?? '';
        if (!/^[1-9]\d{0,4}$/.test(partNumber) || Number(partNumber) > 10_000) {
          refuse('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
        }
        const contentMd5 = ctx.get('Content-MD5');
        const md5 = contentMd5 ? Buffer.from(contentMd5, 'base64') : undefined;
        if (md5 && md5.length !== 16) refuse('InvalidDigest', 'The Content-MD5 you specified was invalid.');
        claims.set(ctx.req, { md5, crc32: ctx.get(CRC32_HEADER) || undefined });
        await next(); // s3rver's UploadPart, through writePartsWhole
        const crc = received.get(ctx.req);
        if (crc) ctx.set(CRC32_HEADER, crc);
        return;
      }
      case 'GET': {
        const parts = await listParts(dir);
        const marker = Number(queryString(ctx.query['part-number-marker']) ?? 0);
        const max = Math.min(1000, Number(queryString(ctx.query['max-parts']) ?? 1000));
        const after = parts.filter((p) => p.number > marker);
        const page = after.slice(0, max);
        ctx.body = {
          ListPartsResult: {
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumberMarker: marker,
            NextPartNumberMarker: page.at(-1)?.number ?? marker,
            MaxParts: max,
            IsTruncated: after.length > page.length,
            ...(page.length
              ? {
                  Part: page.map((p) => ({
                    PartNumber: p.number,
                    LastModified: p.modified.toISOString(),
                    ETag: `"${p.md5}"`,
                    Size: p.size,
                  })),
                }
              : {}),
          },
        };
        return;
      }
      case 'DELETE':
        refuseWhileJoining(uploadId);
        await rm(dir, { recursive: true, force: true });
        ctx.status = 204;
        return;
      case 'POST': {
        const parts = completionParts(await readBounded(ctx.req, MAX_COMPLETE_BYTES));
        const stored = new Map((await listParts(dir)).map((p) => [p.number, p]));
        parts.forEach((part, index) => {
          if (index > 0 && part.number <= parts[index - 1]!.number) {
            refuse(
              'InvalidPartOrder',
              'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
            );
          }
          const have = stored.get(part.number);
          if (!have || have.md5 !== part.etag) {
            refuse(
              'InvalidPart',
              "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
            );
          }
          if (index < parts.length - 1 && have!.size < MIN_PART_BYTES) {
            refuse('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
          }
        });
        // Answered here: s3rver would parse the XML again, with a parser that is slow on large bodies.
        const { md5 } = await store.putObjectMultipart(bucket, uploadId, parts);
        ctx.body = {
          CompleteMultipartUploadResult: { Location: ctx.href.split('?')[0], Bucket: bucket, Key: key, ETag: JSON.stringify(md5) },
        };
        return;
      }
      default:
        return next();
    }
  };
  // s3rver is a Koa app: its router is the last middleware; check before it routes.
  const middleware = (server as unknown as { middleware: unknown[] }).middleware;
  middleware.splice(middleware.length - 1, 0, guard);
}
