import type { LiveShare, ShareMarker, StoredShare } from './share-record.ts';

/**
 * Where share records live. The default (S3ShareStore) keeps them in the bucket; another backend
 * (a database, Redis) only has to provide these operations.
 */
export interface ShareStore {
  /** Stores a new live link and makes it findable by its file. */
  create(share: LiveShare): Promise<void>;
  /** The record, live or revoked; undefined when there is none. */
  get(id: string): Promise<StoredShare | undefined>;
  /**
   * What the names of one file's markers say (one listing, no record read). Revoked and expired
   * links past their retention (share-record.ts, `deadToPrune`) are removed on the way.
   */
  markers(fileKey: string, now: number): Promise<ShareMarker[]>;
  /** Live (not revoked) links of one file, expired ones within their retention included, in no particular order. */
  listForFile(fileKey: string, now: number): Promise<LiveShare[]>;
  /**
   * Read-modify-write of one record. `change` gets the current record and returns the new one, or
   * undefined to leave it as it is; it may be called again if another writer got there first.
   * Returns what is stored afterwards and whether `change` was applied, or undefined when there is no record.
   */
  update(
    id: string,
    change: (current: StoredShare) => StoredShare | undefined,
  ): Promise<{ share: StoredShare; changed: boolean } | undefined>;
  /** Removes every link of a file, revoked ones included (when the file is deleted); returns how many there were. */
  deleteForFile(fileKey: string): Promise<number>;
  /** How concurrent updates behave on this store, for logs and docs. */
  readonly consistency: UpdateConsistency;
}

/**
 * - `conditional`: writes carry If-Match with the ETag read; the store refuses stale writes and the
 *   update is retried, so concurrent updates from any number of instances are not lost.
 * - `best-effort`: the store answered that it does not support conditional writes; updates from
 *   different instances at the same moment can overwrite each other (within one instance they are
 *   still serialized).
 * Stores that silently ignore If-Match (s3rver, the embedded store) look `conditional` but behave
 * like `best-effort` across instances; the embedded store runs in one process, where updates are serialized.
 */
export type UpdateConsistency = 'conditional' | 'best-effort';
