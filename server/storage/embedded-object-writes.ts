import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type S3rver from 's3rver';

/** s3rver's object model (lib/models/object.js), and the headers it keeps besides x-amz-meta-*. */
const S3Object = createRequire(import.meta.url)('s3rver/lib/models/object.js') as {
  new (
    bucket: string,
    key: string,
    content: Readable | null,
    metadata: Record<string, string | number>,
  ): { range?: { start: number; end: number } };
  ALLOWED_METADATA: string[];
};

/** What `writeObjectsWhole` uses of s3rver's FilesystemStore (lib/stores/filesystem.js). */
interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: 'object' | 'object.md5' | 'metadata.json'): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
  getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<object | null>;
  putObject(object: {
    bucket: string;
    key: string;
    metadata: Record<string, string>;
    content: Buffer | Readable;
  }): Promise<{ size: number; md5: string }>;
}

/**
 * Replaces s3rver's writes of objects and their metadata. s3rver truncates each file and writes it
 * in place, and for a body it holds in memory answers before the write has finished: a read
 * meanwhile got an empty or half object, or metadata that was not JSON (share link records read
 * while their count was written: 500s under load). Here each file is written in `incomingDir`
 * (same disk, emptied at start) and renamed into place once whole; and a read opens the object's
 * file once and takes its length from that file (s3rver took the length from the path, then opened
 * it again: a rename in between gave the new object cut to the old one's length). So a read gets
 * the old object or the new one, whole; its ETag and Content-Type, read beside it, can be the other
 * version's while a write is under way (s3rver ignores If-Match anyway).
 *
 * s3rver also opens an object before deciding the answer, and answers 304 (If-None-Match,
 * If-Modified-Since) without reading or closing it: the file stayed open until garbage collection
 * (with Node's DEP0137 warning; a later Node throws there). Each request's object streams that its
 * answer does not send are closed when s3rver is done with it.
 */
export function writeObjectsWhole(server: S3rver, options: { incomingDir: string }): void {
  const store = (server as unknown as { store: FilesystemStore }).store;
  const openedByRequest = new AsyncLocalStorage<Readable[]>();
  // s3rver is a Koa app: its router is the last middleware.
  const middleware = (server as unknown as { middleware: unknown[] }).middleware;
  middleware.splice(middleware.length - 1, 0, async (ctx: { body: unknown }, next: () => Promise<void>) => {
    const opened: Readable[] = [];
    try {
      await openedByRequest.run(opened, next);
    } finally {
      for (const stream of opened) if (ctx.body !== stream) stream.destroy();
    }
  });
  const tempFile = () => path.join(options.incomingDir, `object-${randomUUID()}`);
  const writeWhole = async (file: string, data: string) => {
    const temp = tempFile();
    await writeFile(temp, data);
    await rename(temp, file).catch(async (err: unknown) => {
      await rm(temp, { force: true });
      throw err;
    });
  };

  store.putMetadata = async (bucket, key, metadata, md5) => {
    const kept: Record<string, string> = {};
    for (const name of Object.keys(metadata)) {
      if (S3Object.ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-')) kept[name] = metadata[name]!;
    }
    if (md5) await writeWhole(store.getResourcePath(bucket, key, 'object.md5'), md5);
    await writeWhole(store.getResourcePath(bucket, key, 'metadata.json'), JSON.stringify(kept, null, 2));
  };

  store.putObject = async ({ bucket, key, metadata, content }) => {
    const objectPath = store.getResourcePath(bucket, key, 'object');
    const temp = tempFile();
    const md5 = createHash('md5');
    let size = 0;
    try {
      await pipeline(
        Buffer.isBuffer(content) ? Readable.from([content]) : content,
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            md5.update(chunk);
            size += chunk.length;
            done(null, chunk);
          },
        }),
        createWriteStream(temp),
      );
      const etag = md5.digest('hex');
      await mkdir(path.dirname(objectPath), { recursive: true });
      // Metadata first: until the object file exists, s3rver answers NoSuchKey whatever metadata it finds.
      await store.putMetadata(bucket, key, metadata, etag);
      await rename(temp, objectPath);
      return { size, md5: etag };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  };

  store.getObject = async (bucket, key, options) => {
    let handle: FileHandle;
    try {
      handle = await open(store.getResourcePath(bucket, key, 'object'), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const stat = await handle.stat();
      const metadata = {
        ...(await store.getMetadata(bucket, key)),
        'content-length': stat.size,
        'last-modified': stat.mtime.toUTCString(),
      };
      const lastByte = Math.max(0, stat.size - 1);
      const range = { start: options?.start || 0, end: Math.min(options?.end || Infinity, lastByte) };
      const ranged = options !== undefined && (options.start !== undefined || Boolean(options.end));
      const satisfiable = range.start >= 0 && range.start <= range.end;
      // As s3rver: an unsatisfiable range gets an object without content (its 416).
      const content = satisfiable ? handle.createReadStream(range) : null;
      if (content) openedByRequest.getStore()?.push(content);
      else await handle.close();
      const object = new S3Object(bucket, key, content, metadata);
      if (ranged) object.range = range;
      return object;
    } catch (err) {
      await handle.close();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  };
}
