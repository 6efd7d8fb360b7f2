import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AppError } from '../errors/app-error.ts';
import { SHARE_LINKS_PER_FILE, type ShareLink, type ShareRequest } from '../../contract/api.ts';
import type { UploadKeyParts } from '../signing/object-keys.ts';
import { isNotFound, storageUnavailable } from '../storage/storage-errors.ts';
import { hashPassword } from './passwords.ts';
import { cleanNote, isRevoked, isShareId, isUsable, newShareId, shareState, type LiveShare } from './share-record.ts';
import { PerKeyQueue } from './per-key-queue.ts';
import type { ShareStore } from './share-store.ts';

/** Lifetime of the presigned GET behind each share-link download: long enough to start it, no longer. */
export const DOWNLOAD_URL_SECONDS = 60;

export type GoneReason = 'expired' | 'exhausted' | 'revoked' | 'file_deleted';

export type Opened =
  | { kind: 'missing' }
  | { kind: 'gone'; reason: GoneReason }
  | { kind: 'open'; share: LiveShare; size: number };

export type Downloaded = { kind: 'missing' } | { kind: 'gone'; reason: GoneReason } | { kind: 'download'; url: string; share: LiveShare };

export interface ShareServiceDeps {
  store: ShareStore;
  /** For HeadObject on the shared file. */
  storage: { client: S3Client; bucket: string };
  /** A presigned GET for the file, as an attachment under its name; `origin` is where the browser reached the app. */
  signDownload(input: { key: string; filename: string; contentType: string; expiresSeconds: number; origin: string | undefined }): Promise<{ url: string }>;
  now?: () => number;
}

/** Share links: create, list, revoke, open and download, on top of a ShareStore. */
export class ShareService {
  private readonly now: () => number;
  /** Creates of one file's links, one at a time: counting and writing must not interleave. */
  private readonly creates = new PerKeyQueue();

  constructor(private readonly deps: ShareServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  get store(): ShareStore {
    return this.deps.store;
  }

  /**
   * A new link, unless the file has SHARE_LINKS_PER_FILE links that have not expired or been
   * revoked (used-up links count until revoked: their markers cannot tell). The count holds within this
   * process; instances creating links of one file at the same moment can each add one past it.
   */
  create(fileKey: string, file: UploadKeyParts, request: ShareRequest): Promise<LiveShare> {
    return this.creates.run(fileKey, () => this.createNow(fileKey, file, request));
  }

  private async createNow(fileKey: string, file: UploadKeyParts, request: ShareRequest): Promise<LiveShare> {
    const size = await this.fileSize(fileKey);
    if (size === undefined) throw new AppError('not_found', 'That file does not exist (any more).');
    // Decided from the listing alone: a marker's name says whether its link still works by the clock.
    const markers = await this.deps.store.markers(fileKey, this.now());
    if (markers.filter((marker) => isUsable(marker, this.now())).length >= SHARE_LINKS_PER_FILE) {
      throw new AppError(
        'too_many_share_links',
        `This file already has ${SHARE_LINKS_PER_FILE} share links; revoke some before making another.`,
      );
    }
    const now = this.now();
    const share: LiveShare = {
      version: 1,
      id: newShareId(),
      fileKey,
      fileName: file.name,
      fileSize: size,
      contentType: file.contentType,
      createdAt: new Date(now).toISOString(),
      expiresAt: request.expiresIn === null ? null : new Date(now + request.expiresIn * 1000).toISOString(),
      maxDownloads: request.maxDownloads ?? null,
      downloads: 0,
      lastDownloadAt: null,
      note: cleanNote(request.note),
      password: request.password === undefined ? null : await hashPassword(request.password),
    };
    await this.deps.store.create(share);
    return share;
  }

  /** A file's links, newest first. */
  async list(fileKey: string): Promise<LiveShare[]> {
    const shares = await this.deps.store.listForFile(fileKey, this.now());
    return shares.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
  }

  /**
   * Keeps a tombstone so the link answers 410; false when there is no such link, or it is a live link
   * of a file `owns` refuses (another person's: answered as no such link). Revoking a revoked link
   * again is fine for anyone: its public page says "revoked" to anyone with the id already.
   */
  async revoke(id: string, owns: (fileKey: string) => boolean = () => true): Promise<boolean> {
    if (!isShareId(id)) return false;
    const revokedAt = new Date(this.now()).toISOString();
    const result = await this.deps.store.update(id, (current) =>
      isRevoked(current) || !owns(current.fileKey) ? undefined : { version: 1, id, revokedAt },
    );
    return result !== undefined && (result.changed || isRevoked(result.share));
  }

  deleteForFile(fileKey: string): Promise<number> {
    return this.deps.store.deleteForFile(fileKey);
  }

  /** What the share page shows: the link's record when it works, else why not. */
  async open(id: string): Promise<Opened> {
    if (!isShareId(id)) return { kind: 'missing' };
    const share = await this.deps.store.get(id);
    if (!share) return { kind: 'missing' };
    if (isRevoked(share)) return { kind: 'gone', reason: 'revoked' };
    const state = shareState(share, this.now());
    if (state !== 'active') return { kind: 'gone', reason: state };
    const size = await this.fileSize(share.fileKey);
    if (size === undefined) return { kind: 'gone', reason: 'file_deleted' };
    return { kind: 'open', share, size };
  }

  /**
   * One download: checks the link, counts it (a conditional read-modify-write where the store
   * supports it) and returns a presigned GET that lives DOWNLOAD_URL_SECONDS. The password, if
   * any, must have been checked by the caller; pass what `open` answered to save its two requests.
   * `origin`: where the browser reached the app (requestOrigin), which the embedded store's links point at.
   */
  async download(id: string, origin: string | undefined, alreadyOpened?: Opened): Promise<Downloaded> {
    const opened = alreadyOpened ?? (await this.open(id));
    if (opened.kind !== 'open') return opened;
    const { share } = opened;
    const { url } = await this.deps
      .signDownload({ key: share.fileKey, filename: share.fileName, contentType: share.contentType, expiresSeconds: DOWNLOAD_URL_SECONDS, origin })
      .catch((err) => {
        throw storageUnavailable(err); // signing fails only when credentials cannot be resolved
      });
    const counted = await this.deps.store.update(id, (current) => {
      const now = this.now();
      if (isRevoked(current) || shareState(current, now) !== 'active') return undefined;
      return { ...current, downloads: current.downloads + 1, lastDownloadAt: new Date(now).toISOString() };
    });
    if (!counted) return { kind: 'missing' };
    if (!counted.changed) {
      // Revoked, expired or used up between the first read and the count.
      const state = shareState(counted.share, this.now());
      return { kind: 'gone', reason: state === 'active' ? 'exhausted' : state };
    }
    return { kind: 'download', url, share: counted.share as LiveShare };
  }

  /** The API's view of a link; `origin` is where this Postbox is reached, e.g. https://postbox.example.com. */
  toLink(share: LiveShare, origin: string): ShareLink {
    const state = shareState(share, this.now());
    return {
      id: share.id,
      url: `${origin}/s/${share.id}`,
      fileKey: share.fileKey,
      state: state === 'revoked' ? 'expired' : state,
      createdAt: share.createdAt,
      expiresAt: share.expiresAt,
      maxDownloads: share.maxDownloads,
      downloads: share.downloads,
      lastDownloadAt: share.lastDownloadAt,
      note: share.note,
      hasPassword: share.password !== null,
    };
  }

  /** The file's size, or undefined when it is gone. */
  private async fileSize(key: string): Promise<number | undefined> {
    try {
      const head = await this.deps.storage.client.send(new HeadObjectCommand({ Bucket: this.deps.storage.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageUnavailable(err);
    }
  }
}
