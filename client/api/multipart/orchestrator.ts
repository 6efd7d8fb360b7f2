import { ApiError, isRetryable } from '../errors.ts';
import { cancelled, type StorageAnswer } from '../xhr.ts';
import type { PartCheck } from '../../../contract/api.ts';
import type { CompletedPart, MultipartApi, OpenUpload } from './multipart-api.ts';
import type { PartHash } from './blob-hash.ts';
import { PartMd5s } from './part-md5s.ts';
import { base64OfHex, candidatesToKeep, etagMatches, lengthOf, planParts, type PlannedPart } from './part-plan.ts';
import { PartUrls } from './part-urls.ts';
import { couldBeRecorded, type RecordStore, type ResumeRecord } from './resume-record.ts';

/**
 * Big files: S3 multipart upload straight from the browser. The server creates the upload, signs
 * part URLs and completes it; the parts go from here to storage, a bounded number at once, each
 * checked as the upload's `partCheck` says: a Content-MD5 storage verifies, or storage's answer (its
 * CRC32, or its ETag: the MD5 of what it received) compared with this page's own hash before the part
 * counts as sent. A failed part is sent again with backoff; a refused or expiring URL is signed
 * again. A resume record (file fingerprint → upload) lets the same file, chosen again after a reload
 * or a lost connection, continue from the parts storage already has.
 *
 * Abort the signal with reason `'pause'` to stop and keep what was sent; any other abort cancels:
 * the upload is aborted on storage and forgotten.
 *
 * Everything that talks to the outside world comes in `deps`, so that tests drive it with fakes.
 */

export interface MultipartProgress {
  /** Bytes storage has (finished parts) plus bytes of parts in flight. */
  loaded: number;
  total: number;
  /** While a part that failed waits to be or is being sent again: its attempt (2 to MAX_ATTEMPTS). */
  retryAttempt?: number;
}

export interface MultipartOptions {
  concurrency: number;
  signal: AbortSignal;
  onProgress: (progress: MultipartProgress) => void;
  /** Once storage's parts are known: how many bytes were already there (resumed), 0 for a new upload. */
  onStart?: (resumedBytes: number) => void;
}

/** PUTs one part to a presigned URL with these headers; rejects only when `signal` aborts it. */
export type PartTransport = (
  url: string,
  body: Blob,
  headers: Record<string, string>,
  signal: AbortSignal,
  onProgress: (loaded: number) => void,
) => Promise<StorageAnswer>;

export interface MultipartDeps {
  api: MultipartApi;
  transport: PartTransport;
  records: RecordStore;
  fingerprint: (file: File) => Promise<string>;
  /**
   * The hashes of parts, in hex, read and hashed together off the page's main thread; `ahead` ones
   * wait for the others, and one still waiting when `signal` aborts is dropped.
   */
  hash: (parts: Blob[], kind: PartHash, priority: 'now' | 'ahead', signal: AbortSignal) => Promise<string[]>;
  /** Waits `ms` (backoff), rejecting when `signal` aborts. */
  wait: (ms: number, signal: AbortSignal) => Promise<void>;
  now: () => number;
}

export const MAX_ATTEMPTS = 6;
/** Each Complete may wait minutes for storage to join the parts; retries cover a join of about an hour. */
const MAX_COMPLETE_ATTEMPTS = 12;

/** Backoff before attempt `attempt` + 1 (1-based): 0.5 s, 1 s, 2 s, … up to 15 s, with jitter. */
export const backoffMs = (attempt: number) => Math.min(15_000, 500 * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);

/** What storage's 2xx answer to a part says of its bytes (see `PartSender.put`). */
type Verdict = 'intact' | 'damaged' | 'again';

/** `promise`, or a rejection as soon as `signal` aborts: a stop need not wait for what it no longer needs. */
function untilStopped<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(cancelled());
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Bytes storage has plus bytes in flight, and the highest retry attempt going on. */
class ProgressReport {
  private done = 0;
  private readonly inFlight = new Map<number, number>();
  private readonly retrying = new Map<number, number>();

  constructor(
    private readonly total: number,
    private readonly emit: (progress: MultipartProgress) => void,
  ) {}

  get doneBytes() {
    return this.done;
  }
  report() {
    let loaded = this.done;
    for (const bytes of this.inFlight.values()) loaded += bytes;
    this.emit({ loaded, total: this.total, ...(this.retrying.size && { retryAttempt: Math.max(...this.retrying.values()) }) });
  }
  /** Resuming: what storage has before anything is sent. */
  resumeFrom(bytes: number) {
    this.done = bytes;
  }
  /** A part storage had turned out to hold other bytes: it is sent again. */
  unkept(bytes: number) {
    this.done -= bytes;
    this.report();
  }
  sending(n: number, loaded: number) {
    this.inFlight.set(n, loaded);
    this.report();
  }
  /** A part in flight counts only once storage has it: a stopped or failed part starts again from 0. */
  stopped(n: number) {
    this.inFlight.delete(n);
    this.report();
  }
  sent(n: number, bytes: number) {
    this.retrying.delete(n);
    this.done += bytes;
    this.report();
  }
  retry(n: number, attempt: number) {
    this.retrying.set(n, attempt);
    this.report();
  }
}

/** The upload a resume record points at. */
function recordedUpload(record: ResumeRecord | undefined, size: number): OpenUpload | undefined {
  if (!record) return undefined;
  const { createdAt: _, ...upload } = record;
  return { ...upload, size };
}

/**
 * This file's resume record, by its fingerprint (which reads and hashes 2 MiB of the file). Only a
 * file whose name, size and date some record has can be resuming, so any other goes on while its
 * fingerprint is computed: its record is saved once it is known, and forgotten only after that.
 */
class FileRecord {
  private readonly fingerprint: Promise<string>;
  private saved: Promise<unknown> = Promise.resolve();
  /** Whether a record of this file's name, size and date exists (else there is nothing to resume). */
  readonly couldExist: boolean;

  constructor(
    file: File,
    private readonly deps: Pick<MultipartDeps, 'fingerprint' | 'records'>,
  ) {
    this.fingerprint = deps.fingerprint(file);
    this.fingerprint.catch(() => {}); // a file that cannot be read fails at its parts instead
    this.couldExist = couldBeRecorded(deps.records, file);
  }

  async load(): Promise<ResumeRecord | undefined> {
    return this.couldExist ? this.deps.records.load(await this.fingerprint) : undefined;
  }
  save(record: ResumeRecord): void {
    this.saved = this.fingerprint.then((fp) => this.deps.records.save(fp, record));
    this.saved.catch(() => {});
  }
  forget(): Promise<void> {
    return this.saved
      .then(() => this.fingerprint)
      .then(
        (fp) => this.deps.records.forget(fp),
        () => {},
      );
  }
}

/** The upload this file continues (it has a record, and storage still has it) or a new one. */
async function openUpload(file: File, record: FileRecord, recorded: OpenUpload | undefined, deps: MultipartDeps, signal: AbortSignal) {
  if (recorded) {
    try {
      return { upload: recorded, stored: await deps.api.listParts(recorded, signal) };
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'not_found')) throw err;
      await record.forget();
    }
  }
  const created = await deps.api.create({ name: file.name, size: file.size, type: file.type || 'application/octet-stream' }, signal);
  record.save({ ...created, createdAt: deps.now() });
  return { upload: { ...created, size: file.size }, stored: [] };
}

function failureOf(answer: StorageAnswer): ApiError {
  if (answer.status === 0) return new ApiError('upload_failed', 'The connection to storage broke during the upload.');
  const code = answer.storageCode;
  return new ApiError('upload_rejected', `Storage answered ${answer.status}${code ? ` ${code}` : ''}`, code);
}

/**
 * Runs `work` on each item, at most `concurrency` at once. The first failure stops the others
 * through `stop`, and this returns only once every worker has stopped: nothing is sent after it.
 */
async function runBounded<T>(items: readonly T[], concurrency: number, stop: AbortController, work: (item: T) => Promise<void>) {
  const queue = [...items];
  const failures: unknown[] = [];
  const worker = async () => {
    try {
      for (let item = queue.shift(); item !== undefined && !stop.signal.aborted; item = queue.shift()) await work(item);
    } catch (err) {
      failures.push(err);
      stop.abort('failed');
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
  if (failures.length) throw failures[0];
  if (stop.signal.aborted) throw cancelled();
}

/** One upload in progress: its parts, what storage has, and what is left. */
class PartSender {
  /** ETags of the parts storage has, checked or sent by this page. */
  readonly etags = new Map<number, string>();
  /**
   * Parts storage listed, kept only once their ETag is found to be the MD5 of this file's bytes
   * (each is hashed in turn, as a part to send would be): anyone who can sign parts could have put
   * other bytes of the same length there.
   */
  readonly unchecked: Map<number, string>;
  readonly urls: PartUrls;
  private readonly md5s: PartMd5s;
  /** Storage's ETags are the MD5s of its parts until a part it verified shows otherwise (SSE-KMS, say). */
  private etagIsMd5 = true;
  /** An ETag of this store equalled its part's MD5: from then on, an ETag that differs means damaged bytes. */
  private etagSeenMd5 = false;

  constructor(
    private readonly ctx: {
      file: File;
      upload: OpenUpload;
      plan: PlannedPart[];
      deps: MultipartDeps;
      /** Parts in flight at once. */
      concurrency: number;
      progress: ProgressReport;
      stop: AbortSignal;
      /** Storage lost the upload: its record leads nowhere. */
      forgetRecord: () => void;
    },
    stored: Parameters<typeof candidatesToKeep>[0],
  ) {
    this.unchecked = candidatesToKeep(stored, ctx.plan);
    const { api } = ctx.deps;
    this.urls = new PartUrls(
      (numbers) => api.signParts(ctx.upload, numbers, ctx.stop),
      () => ctx.plan.map((p) => p.number).filter((n) => !this.etags.has(n) && !this.unchecked.has(n)),
      ctx.deps.now,
    );
    this.md5s = new PartMd5s(ctx.file, ctx.plan, (parts, kind, priority) => ctx.deps.hash(parts, kind, priority, ctx.stop));
  }
  keptBytes(): number {
    let bytes = 0;
    for (const n of this.unchecked.keys()) bytes += lengthOf(this.ctx.plan[n - 1]!);
    return bytes;
  }

  /** How parts are checked now: the upload's check, but Content-MD5 once storage's ETags are known not to be MD5s. */
  private check(): PartCheck {
    const { partCheck } = this.ctx.upload;
    return partCheck === 'answered-md5' && !this.etagIsMd5 ? 'content-md5' : partCheck;
  }

  /** Part `n`'s MD5, hashed with its group; a stop does not wait for a group still being read. */
  private md5Of(n: number): Promise<string> {
    const md5 = untilStopped(this.md5s.of(n), this.ctx.stop);
    md5.catch(() => {}); // awaited by the caller, unless a stop came first
    return md5;
  }

  async send(part: PlannedPart): Promise<void> {
    const body = this.ctx.file.slice(part.start, part.end);
    const stored = this.unchecked.get(part.number);
    this.unchecked.delete(part.number);
    const check = this.check();
    const md5 = stored !== undefined || check !== 'answered-crc32' ? this.md5Of(part.number) : undefined;
    // Where a part waits for its MD5 before it goes, the group of the part this slot takes next (parts go
    // in order) is hashed while this one goes up. This part's group was asked for first: workers take them in turn.
    const next = part.number + this.ctx.concurrency;
    if (check === 'content-md5' && next <= this.ctx.plan.length) void this.md5s.of(next, 'ahead').catch(() => {});
    if (stored !== undefined) {
      if (etagMatches(stored, await md5!)) {
        this.etags.set(part.number, stored); // a part's ETag is its MD5, whatever the upload's check
        this.etagSeenMd5 = true;
        return;
      }
      this.ctx.progress.unkept(lengthOf(part)); // storage has other bytes there: send this part again
    }
    const etag =
      check === 'answered-crc32'
        ? await this.putCheckingCrc32(part, body)
        : check === 'answered-md5'
          ? await this.putCheckingEtag(part, body, md5!)
          : await this.putWithContentMd5(part, body, md5!);
    this.etags.set(part.number, etag);
  }

  /** Sent with its Content-MD5: storage verifies the bytes itself, and refuses other ones (400 BadDigest). */
  private async putWithContentMd5(part: PlannedPart, body: Blob, md5: Promise<string>): Promise<string> {
    this.urls.prefetch(part.number); // signed while the part is hashed
    const header = { 'Content-MD5': base64OfHex(await md5) };
    return this.put(part, body, { headers: () => header, verdict: () => 'intact' });
  }

  /**
   * Sent as it is, hashed meanwhile: the part counts as sent only once storage's CRC32 of what it
   * received equals this page's; otherwise it is sent again, as a refused part would be.
   */
  private async putCheckingCrc32(part: PlannedPart, body: Blob): Promise<string> {
    const local = this.ctx.deps.hash([body], 'crc32', 'now', this.ctx.stop).then(([hex]) => base64OfHex(hex!));
    local.catch(() => {}); // awaited below; a failed read must not also surface as unhandled
    return this.put(part, body, {
      headers: () => ({}),
      verdict: async (answer) => {
        if (!answer.crc32) throw new ApiError('etag_hidden', 'Storage did not answer the CRC32 of a part.');
        return answer.crc32 === (await untilStopped(local, this.ctx.stop)) ? 'intact' : 'damaged';
      },
    });
  }

  /**
   * Sent as it is, hashed meanwhile: the part counts once storage's ETag (the MD5 of what it received,
   * on Ceph RGW, MinIO, AWS without KMS) equals this page's MD5. If not, it goes again at once with its
   * Content-MD5, for storage to verify. If storage takes it and still answers another ETag, this store's
   * ETags are not MD5s (no ETag of it was ever seen to be one), and the upload's later parts carry
   * Content-MD5 from the start; where one was, those bytes are damaged after all.
   */
  private putCheckingEtag(part: PlannedPart, body: Blob, md5: Promise<string>): Promise<string> {
    let withMd5 = false;
    return this.put(part, body, {
      headers: async (): Promise<Record<string, string>> => (withMd5 ? { 'Content-MD5': base64OfHex(await md5) } : {}),
      verdict: async (answer) => {
        if (etagMatches(answer.etag!, await md5)) {
          this.etagSeenMd5 = true;
          return 'intact';
        }
        if (!withMd5) {
          withMd5 = true;
          return 'again';
        }
        if (this.etagSeenMd5) return 'damaged';
        this.etagIsMd5 = false;
        return 'intact'; // storage verified these bytes against their Content-MD5
      },
    });
  }

  private async put(
    part: PlannedPart,
    body: Blob,
    check: {
      headers: () => Record<string, string> | Promise<Record<string, string>>;
      /** What storage's 2xx answer says of the bytes: `again` sends them at once, not counted as a try. */
      verdict: (answer: StorageAnswer) => Verdict | Promise<Verdict>;
    },
  ): Promise<string> {
    const { deps, progress, stop } = this.ctx;
    const n = part.number;
    for (let attempt = 1; ; attempt++) {
      const url = await this.urls.urlFor(n);
      const headers = await check.headers();
      if (stop.aborted) throw cancelled();
      let answer: StorageAnswer;
      try {
        answer = await deps.transport(url, body, headers, stop, (loaded) => progress.sending(n, loaded));
      } finally {
        progress.stopped(n);
      }
      if (answer.status >= 200 && answer.status < 300) {
        if (!answer.etag) throw new ApiError('etag_hidden', 'Storage did not expose the ETag of a part.');
        const verdict = await check.verdict(answer);
        if (verdict === 'intact') {
          progress.sent(n, lengthOf(part));
          return answer.etag;
        }
        if (verdict === 'again') {
          attempt--; // the same try, checked another way
          continue;
        }
        answer = { ...answer, status: 400, storageCode: 'BadDigest' }; // other bytes arrived: as storage refusing them
      }
      if (answer.storageCode === 'NoSuchUpload') {
        this.ctx.forgetRecord();
        throw failureOf(answer);
      }
      // An expired or refused URL: sign this part again (and, the first time, without counting it as a failure).
      if (answer.status === 403) this.urls.drop(n);
      if (attempt >= MAX_ATTEMPTS) throw failureOf(answer);
      if (!(answer.status === 403 && attempt === 1)) {
        progress.retry(n, attempt + 1);
        await deps.wait(backoffMs(attempt), stop);
      }
    }
  }

  completedParts(): CompletedPart[] {
    return [...this.etags.entries()].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag }));
  }
}

/**
 * Completing can outlast a request (storage joins the parts before it answers) or lose its answer.
 * Asking again is safe: the server answers a Complete of an upload that has become its object with
 * success, and one whose join is still running with that join's outcome.
 */
async function completeWithRetries(deps: MultipartDeps, upload: OpenUpload, parts: CompletedPart[], signal: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.api.complete(upload, parts, signal);
    } catch (err) {
      if (signal.aborted || !isRetryable(err) || attempt >= MAX_COMPLETE_ATTEMPTS) throw err;
      await deps.wait(backoffMs(attempt), signal);
    }
  }
}

/** Paused: keep everything. Cancelled: abort the upload on storage and forget it. */
async function stopped(signal: AbortSignal, record: FileRecord, upload: OpenUpload | undefined, deps: MultipartDeps): Promise<never> {
  if (signal.reason === 'pause') throw new ApiError('paused', 'Upload paused.');
  await record.forget();
  if (upload) await deps.api.abort(upload).catch(() => {});
  throw cancelled();
}

export async function uploadMultipart(file: File, options: MultipartOptions, deps: MultipartDeps): Promise<{ key: string }> {
  const { signal } = options;
  const record = new FileRecord(file, deps);
  // One failed part stops the others: they all listen to `stop`, which follows `signal` too.
  const stop = new AbortController();
  const follow = () => stop.abort(signal.reason);
  signal.addEventListener('abort', follow, { once: true });
  let upload: OpenUpload | undefined;
  try {
    if (signal.aborted) throw cancelled();
    // Known before listing its parts, so that a Cancel meanwhile still aborts it on storage.
    upload = recordedUpload(await record.load(), file.size);
    const opened = await openUpload(file, record, upload, deps, signal);
    upload = opened.upload;
    // The upload keeps the part size it was created with, whatever the setting says now.
    const plan = planParts(file.size, upload.partSize);
    const progress = new ProgressReport(file.size, options.onProgress);
    const parts = new PartSender(
      { file, upload, plan, deps, concurrency: options.concurrency, progress, stop: stop.signal, forgetRecord: () => void record.forget() },
      opened.stored,
    );
    progress.resumeFrom(parts.keptBytes());
    options.onStart?.(progress.doneBytes);
    progress.report();

    await runBounded(plan, options.concurrency, stop, (part) => parts.send(part));
    // Every part is on storage: a Cancel or Pause from here on could not take a Complete back once
    // sent (storage may already hold the file while the page said "cancelled"), so it goes through.
    await completeWithRetries(deps, upload, parts.completedParts(), new AbortController().signal);
    await record.forget();
    return { key: upload.key };
  } catch (err) {
    if (signal.aborted) await stopped(signal, record, upload, deps);
    throw err;
  } finally {
    signal.removeEventListener('abort', follow);
  }
}
