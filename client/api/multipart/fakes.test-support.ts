import { crc32, md5 } from 'hash-wasm';
import type { PartCheck, UploadedPart } from '../../../contract/api.ts';
import { ApiError } from '../errors.ts';
import type { StorageAnswer } from '../xhr.ts';
import type { CompletedPart, MultipartApi, OpenUpload } from './multipart-api.ts';
import { base64OfHex } from './part-plan.ts';
import { fileFingerprint, webStorageRecords } from './resume-record.ts';
import type { MultipartDeps, PartTransport } from './orchestrator.ts';

/** Fakes for the orchestrator's unit tests: a server and storage that keep what they were asked, in memory. */

export const PART = 1024;

export function fileOf(size: number, name = 'big.bin'): File {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return new File([bytes], name, { type: 'application/octet-stream', lastModified: 1_700_000_000_000 });
}

export const md5Of = async (blob: Blob) => md5(new Uint8Array(await blob.arrayBuffer()));
export const crc32Of = async (blob: Blob) => crc32(new Uint8Array(await blob.arrayBuffer()));

/** A Storage over a Map, for the resume records. */
export function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    key: (i) => [...items.keys()][i] ?? null,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, String(v)),
    removeItem: (k) => void items.delete(k),
    clear: () => items.clear(),
  };
}

/** The Postbox API as the orchestrator sees it, answering from memory; `clock` decides URL expiry. */
export class FakeServer implements MultipartApi {
  readonly signed: number[][] = [];
  readonly completes: CompletedPart[][] = [];
  readonly aborted: OpenUpload['key'][] = [];
  /** What storage holds for the current upload, by part number. */
  readonly parts = new Map<number, UploadedPart>();
  created = 0;
  uploadId = 'upload-1';
  gone = false;
  urlLifetimeMs = 15 * 60_000;
  /** How the uploads it creates are checked: Content-MD5, an answered ETag (external stores) or CRC32 (the embedded store). */
  partCheck: PartCheck = 'content-md5';
  completeFailures: ApiError[] = [];
  clock = { now: 1_000_000 };
  private version = 0;

  async create() {
    this.created++;
    this.uploadId = `upload-${this.created}`;
    this.parts.clear();
    return {
      key: 'files/big.bin',
      uploadId: this.uploadId,
      partSize: PART,
      partCheck: this.partCheck,
      uploadToken: `token-${this.uploadId}`,
    };
  }
  async listParts(upload: OpenUpload) {
    if (this.gone || upload.uploadId !== this.uploadId) throw new ApiError('not_found', 'No such upload.');
    return [...this.parts.values()];
  }
  async signParts(_upload: OpenUpload, partNumbers: number[]) {
    this.signed.push(partNumbers);
    this.version++;
    const urls = new Map(partNumbers.map((n) => [n, `https://storage.test/part?n=${n}&v=${this.version}`]));
    return { urls, expiresAt: this.clock.now + this.urlLifetimeMs };
  }
  /** Called as each Complete arrives; Complete then waits for `completeHeld` when set. */
  onComplete?: () => void;
  completeHeld?: Promise<void>;
  async complete(_upload: OpenUpload, parts: CompletedPart[], signal: AbortSignal) {
    this.completes.push(parts);
    this.onComplete?.();
    if (this.completeHeld) await this.completeHeld;
    // As fetch does: an aborted request rejects, whatever the server did with it.
    if (signal.aborted) throw new ApiError('cancelled', 'Upload cancelled.');
    const failure = this.completeFailures.shift();
    if (failure) throw failure;
  }
  async abort(upload: Pick<OpenUpload, 'key'>) {
    this.aborted.push(upload.key);
  }
  /** The version of the latest signing, which a fresh URL carries. */
  get latestVersion() {
    return this.version;
  }
}

export interface Put {
  partNumber: number;
  version: number;
  /** Its Content-MD5 header, if it had one. */
  contentMd5?: string;
  /** Whether the PUT was started although its signal had already aborted (it must never be). */
  afterAbort: boolean;
}

/**
 * Storage's UploadPart, in memory: stores the part and answers its MD5 as ETag (and its CRC32, as the
 * embedded store does), unless `script` answers something else for this attempt. `hold` keeps a PUT
 * open until its signal aborts; `arrives` changes the bytes storage receives (damage on the way);
 * `etagOf` makes ETags that are not the part's MD5 (a bucket with SSE-KMS).
 */
export function fakeTransport(
  server: FakeServer,
  options: {
    script?: (put: Put, attempt: number) => StorageAnswer | 'hold' | undefined;
    arrives?: (put: Put, attempt: number, body: Blob) => Blob;
    etagOf?: (md5Hex: string) => string;
    /** Storage takes a part whatever its Content-MD5 says (as behind a proxy that drops the header). */
    ignoresContentMd5?: boolean;
  } = {},
) {
  const puts: Put[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const transport: PartTransport = async (url, sent, headers, signal, onProgress) => {
    const params = new URL(url).searchParams;
    const put: Put = { partNumber: Number(params.get('n')), version: Number(params.get('v')), afterAbort: signal.aborted };
    if (headers['Content-MD5']) put.contentMd5 = headers['Content-MD5'];
    puts.push(put);
    const attempt = puts.filter((p) => p.partNumber === put.partNumber).length;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const scripted = options.script?.(put, attempt);
      const body = options.arrives?.(put, attempt, sent) ?? sent;
      if (scripted === 'hold') {
        onProgress(Math.floor(body.size / 2));
        await new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new ApiError('cancelled', 'Upload cancelled.')), { once: true }),
        );
      }
      await Promise.resolve(); // answered later, as storage would be: lets other parts start meanwhile
      if (scripted && scripted !== 'hold') return scripted;
      onProgress(body.size);
      const md5 = await md5Of(body);
      if (put.contentMd5 && put.contentMd5 !== base64OfHex(md5) && !options.ignoresContentMd5)
        return { status: 400, etag: null, storageCode: 'BadDigest', sentAnything: true };
      const etag = `"${options.etagOf?.(md5) ?? md5}"`;
      server.parts.set(put.partNumber, { partNumber: put.partNumber, etag, size: body.size });
      return { status: 200, etag, crc32: base64OfHex(await crc32Of(body)), sentAnything: true };
    } finally {
      inFlight--;
    }
  };
  return { transport, puts, maxInFlight: () => maxInFlight };
}

export function depsFor(server: FakeServer, transport: PartTransport, storage = memoryStorage()) {
  const waits: number[] = [];
  const deps: MultipartDeps = {
    api: server,
    transport,
    records: webStorageRecords(
      () => storage,
      () => server.clock.now,
    ),
    fingerprint: fileFingerprint,
    hash: (parts, kind) => Promise.all(parts.map((blob) => (kind === 'md5' ? md5Of(blob) : crc32Of(blob)))),
    // Backoff is recorded, not slept: the tests do not depend on time passing.
    wait: async (ms, signal) => {
      waits.push(ms);
      if (signal.aborted) throw new ApiError('cancelled', 'Upload cancelled.');
    },
    now: () => server.clock.now,
  };
  return { deps, waits, storage };
}
