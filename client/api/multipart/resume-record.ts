import { md5 } from 'hash-wasm';
import { MiB, PartCheck } from '../../../contract/api.ts';

/**
 * What this browser remembers of a big upload it started, by file fingerprint: enough to find the
 * upload again on storage after a reload. `uploadToken` is the server's binding of key, upload id,
 * size and part size: kept as it came (opaque here) and handed back with every sign and complete call.
 */
export interface ResumeRecord {
  key: string;
  uploadId: string;
  partSize: number;
  /** How this upload's parts are checked (contract/api.ts); records from before it: Content-MD5. */
  partCheck: PartCheck;
  createdAt: number;
  uploadToken: string;
}

/** Records older than this are dropped: the stale-upload cleanup has removed such uploads by then. */
export const RECORD_MAX_AGE_MS = 7 * 24 * 3600_000;

/** Where records live: localStorage in the page, a Map in tests. */
export interface RecordStore {
  load(fingerprint: string): ResumeRecord | undefined;
  save(fingerprint: string, record: ResumeRecord): void;
  forget(fingerprint: string): void;
  fingerprints(): string[];
}

/** A big upload this browser started and did not finish: choosing the same file again continues it. */
export interface ResumableUpload {
  fingerprint: string;
  key: string;
  uploadId: string;
  name: string;
  size: number;
  startedAt: number;
}

/** Name, size, last change, and the MD5 of the first and last MiB: the same file, chosen again, finds its upload. */
export async function fileFingerprint(file: Blob & { name: string; lastModified: number }): Promise<string> {
  const head = new Uint8Array(await file.slice(0, MiB).arrayBuffer());
  const tail = new Uint8Array(await file.slice(Math.max(0, file.size - MiB)).arrayBuffer());
  const sample = new Uint8Array(head.length + tail.length);
  sample.set(head);
  sample.set(tail, head.length);
  return `${file.size}:${file.lastModified}:${await md5(sample)}:${file.name}`;
}

const FINGERPRINT = /^(\d+):\d+:[0-9a-f]{32}:(.*)$/s;

/** Whether a record could be this file's: one with its size, date and name (only the sample's MD5 is left to compare). */
export function couldBeRecorded(store: RecordStore, file: { size: number; lastModified: number; name: string }): boolean {
  const head = `${file.size}:${file.lastModified}:`;
  const tail = `:${file.name}`;
  return store.fingerprints().some((fp) => fp.startsWith(head) && fp.endsWith(tail) && fp.length === head.length + 32 + tail.length);
}

/** A stored record, if it is one and still young enough to point at a live upload. */
export function parseRecord(json: string | null, now: number): ResumeRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json ?? 'null');
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const valid =
    typeof r.key === 'string' &&
    typeof r.uploadId === 'string' &&
    typeof r.partSize === 'number' &&
    typeof r.createdAt === 'number' &&
    typeof r.uploadToken === 'string'; // records from before upload tokens cannot be signed for: dropped
  if (!valid || now - (r.createdAt as number) >= RECORD_MAX_AGE_MS) return undefined;
  const { key, uploadId, partSize, createdAt, uploadToken } = r as unknown as ResumeRecord;
  const partCheck = PartCheck.safeParse(r.partCheck).data ?? 'content-md5';
  return { key, uploadId, partSize, partCheck, createdAt, uploadToken };
}

/** This browser's unfinished big uploads, newest first. */
export function resumableIn(store: RecordStore): ResumableUpload[] {
  return store
    .fingerprints()
    .flatMap((fingerprint) => {
      const fields = FINGERPRINT.exec(fingerprint);
      const record = fields ? store.load(fingerprint) : undefined;
      if (!fields || !record) return [];
      return [
        { fingerprint, name: fields[2]!, size: Number(fields[1]), key: record.key, uploadId: record.uploadId, startedAt: record.createdAt },
      ];
    })
    .sort((a, b) => b.startedAt - a.startedAt);
}

const PREFIX = 'postbox:multipart:';

/**
 * Records in Web Storage, one item per file. Storage that is full or disabled only costs resuming
 * after a reload: the upload itself goes on.
 */
export function webStorageRecords(storage: () => Storage, now: () => number = Date.now): RecordStore {
  const attempt = <T>(run: (s: Storage) => T, fallback: T): T => {
    try {
      return run(storage());
    } catch {
      return fallback;
    }
  };
  const forget = (fingerprint: string) => attempt((s) => s.removeItem(PREFIX + fingerprint), undefined);
  return {
    load(fingerprint) {
      const record = parseRecord(
        attempt((s) => s.getItem(PREFIX + fingerprint), null),
        now(),
      );
      if (!record) forget(fingerprint); // unreadable or too old: start over
      return record;
    },
    save: (fingerprint, record) => attempt((s) => s.setItem(PREFIX + fingerprint, JSON.stringify(record)), undefined),
    forget,
    fingerprints: () =>
      attempt(
        (s) =>
          Array.from({ length: s.length }, (_, i) => s.key(i) ?? '')
            .filter((id) => id.startsWith(PREFIX))
            .map((id) => id.slice(PREFIX.length)),
        [],
      ),
  };
}
