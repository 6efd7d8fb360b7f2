import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AppError } from '../errors/app-error.ts';
import { SHARE_LINKS_PER_FILE, type BundleRequest, type ShareLink, type ShareRequest } from '../../contract/api.ts';
import type { UploadKeyParts } from '../signing/object-keys.ts';
import { isNotFound, storageUnavailable } from '../storage/storage-errors.ts';
import { hashPassword } from './passwords.ts';
import {
  cleanNote,
  fileKeysOf,
  isBundle,
  isRevoked,
  isShareId,
  isUsable,
  newShareId,
  shareState,
  type BundleFile,
  type LiveShare,
  type StoredShare,
} from './share-record.ts';
import { PerKeyQueue } from './per-key-queue.ts';
import type { ShareStore } from './share-store.ts';

/** Lifetime of the presigned GET behind each share-link download: long enough to start it, no longer. */
export const DOWNLOAD_URL_SECONDS = 60;
/** Lifetime of a preview's presigned GET: as long as a page is likely to stay open. */
export const PREVIEW_URL_SECONDS = 600;
/** HEADs and LISTs in flight at once while checking a bundle's files. */
const BUNDLE_CHECK_CONCURRENCY = 8;

/** Whose a link is: a Person's id and space (see server/people/person.ts). */
export interface ShareOwner {
  id: string;
  space: string;
}

export type GoneReason = 'expired' | 'exhausted' | 'revoked' | 'file_deleted';

export type Opened = { kind: 'missing' } | { kind: 'gone'; reason: GoneReason } | { kind: 'open'; share: LiveShare; size: number };

export type Downloaded = { kind: 'missing' } | { kind: 'gone'; reason: GoneReason } | { kind: 'download'; url: string; share: LiveShare };

export interface ShareServiceDeps {
  store: ShareStore;
  /** For HeadObject on the shared file. */
  storage: { client: S3Client; bucket: string };
  /** A presigned GET for the file, as an attachment under its name; `origin` is where the browser reached the app. */
  signDownload(input: {
    key: string;
    filename: string;
    contentType: string;
    expiresSeconds: number;
    origin: string | undefined;
  }): Promise<{ url: string }>;
  /** A presigned GET shown inline, for preview types only (undefined for any other type). */
  signPreview?(input: {
    key: string;
    filename: string;
    contentType: string;
    expiresSeconds: number;
    origin: string | undefined;
  }): Promise<string | undefined>;
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
  create(fileKey: string, file: UploadKeyParts, request: ShareRequest, owner?: ShareOwner): Promise<LiveShare> {
    return this.creates.run(fileKey, () => this.createNow(fileKey, file, request, owner));
  }

  private async createNow(fileKey: string, file: UploadKeyParts, request: ShareRequest, owner?: ShareOwner): Promise<LiveShare> {
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
    const share: LiveShare = {
      ...(await this.newRecord(request, owner)),
      fileKey,
      fileName: file.name,
      fileSize: size,
      contentType: file.contentType,
    };
    await this.deps.store.create(share);
    return share;
  }

  private async newRecord(request: ShareRequest, owner: ShareOwner | undefined) {
    const now = this.now();
    return {
      version: 1 as const,
      id: newShareId(),
      createdAt: new Date(now).toISOString(),
      expiresAt: request.expiresIn === null ? null : new Date(now + request.expiresIn * 1000).toISOString(),
      maxDownloads: request.maxDownloads ?? null,
      downloads: 0,
      lastDownloadAt: null,
      note: cleanNote(request.note),
      password: request.password === undefined ? null : await hashPassword(request.password),
      ...(owner && { owner: { id: owner.id, space: owner.space } }),
    };
  }

  /**
   * A bundle: one link for several files (already checked to be the owner's), in the order given,
   * repeats dropped. Each file must exist and have fewer than SHARE_LINKS_PER_FILE links; its
   * size is read now (one HEAD and one LIST per file, BUNDLE_CHECK_CONCURRENCY at a time).
   */
  async createBundle(
    files: readonly { key: string; parts: UploadKeyParts }[],
    request: Omit<BundleRequest, 'keys'>,
    owner: ShareOwner,
  ): Promise<LiveShare> {
    const unique = [...new Map(files.map((file) => [file.key, file])).values()];
    const checked: BundleFile[] = [];
    for (let i = 0; i < unique.length; i += BUNDLE_CHECK_CONCURRENCY) {
      checked.push(...(await Promise.all(unique.slice(i, i + BUNDLE_CHECK_CONCURRENCY).map((file) => this.checkBundleFile(file)))));
    }
    const share: LiveShare = {
      ...(await this.newRecord(request, owner)),
      fileKey: checked[0]!.key,
      fileName: `${checked.length} ${checked.length === 1 ? 'file' : 'files'}`,
      fileSize: checked.reduce((sum, file) => sum + file.size, 0),
      contentType: 'application/octet-stream',
      files: checked,
    };
    await this.deps.store.create(share);
    return share;
  }

  private async checkBundleFile({ key, parts }: { key: string; parts: UploadKeyParts }): Promise<BundleFile> {
    const [size, markers] = await Promise.all([this.fileSize(key), this.deps.store.markers(key, this.now())]);
    if (size === undefined) throw new AppError('not_found', `"${parts.name}" does not exist (any more).`);
    if (markers.filter((marker) => isUsable(marker, this.now())).length >= SHARE_LINKS_PER_FILE) {
      throw new AppError('too_many_share_links', `"${parts.name}" already has ${SHARE_LINKS_PER_FILE} share links; revoke some first.`);
    }
    return { key, name: parts.name, size, contentType: parts.contentType };
  }

  /** The record, live or revoked, or undefined: for the owner check before a revocation. */
  async find(id: string): Promise<StoredShare | undefined> {
    return isShareId(id) ? this.deps.store.get(id) : undefined;
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

  /**
   * What the share page shows: the link's record when it works, else why not. `visitCounted`: this
   * visit of a bundle already used up its one download, so a link used up by it still serves it.
   * A bundle's files are not checked here (a HEAD each); a deleted file leaves the bundle's record.
   */
  async open(id: string, options: { visitCounted?: boolean } = {}): Promise<Opened> {
    if (!isShareId(id)) return { kind: 'missing' };
    const share = await this.deps.store.get(id);
    if (!share) return { kind: 'missing' };
    if (isRevoked(share)) return { kind: 'gone', reason: 'revoked' };
    const state = shareState(share, this.now());
    const visitGoesOn = state === 'exhausted' && options.visitCounted === true && isBundle(share);
    if (state !== 'active' && !visitGoesOn) return { kind: 'gone', reason: state };
    if (isBundle(share))
      return fileKeysOf(share).length > 0 ? { kind: 'open', share, size: share.fileSize } : { kind: 'gone', reason: 'file_deleted' };
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
      .signDownload({
        key: share.fileKey,
        filename: share.fileName,
        contentType: share.contentType,
        expiresSeconds: DOWNLOAD_URL_SECONDS,
        origin,
      })
      .catch((err) => {
        throw storageUnavailable(err); // signing fails only when credentials cannot be resolved
      });
    return this.count(id, url);
  }

  /** Counts one download (a conditional read-modify-write where the store supports it). */
  private async count(id: string, url: string): Promise<Downloaded> {
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

  /**
   * One file of an opened bundle (its index in the record): a presigned GET of DOWNLOAD_URL_SECONDS,
   * counted as the link's download unless this visit was counted already (bundle-visit.ts).
   */
  async downloadBundleFile(
    opened: Opened & { kind: 'open' },
    index: number,
    origin: string | undefined,
    visitCounted: boolean,
  ): Promise<Downloaded> {
    const file = opened.share.files?.[index];
    if (!file || file.deleted) return { kind: 'gone', reason: 'file_deleted' };
    const { url } = await this.deps
      .signDownload({ key: file.key, filename: file.name, contentType: file.contentType, expiresSeconds: DOWNLOAD_URL_SECONDS, origin })
      .catch((err) => {
        throw storageUnavailable(err);
      });
    return visitCounted ? { kind: 'download', url, share: opened.share } : this.count(opened.share.id, url);
  }

  /** Inline GETs for the files of a bundle that have a preview type (by index), for PREVIEW_URL_SECONDS. */
  async previews(share: LiveShare, origin: string | undefined): Promise<Map<number, string>> {
    const previews = new Map<number, string>();
    const sign = this.deps.signPreview?.bind(this.deps);
    if (!sign) return previews;
    const files = share.files ?? [{ key: share.fileKey, name: share.fileName, contentType: share.contentType, size: share.fileSize }];
    await Promise.all(
      files.map(async (file: BundleFile, index) => {
        if (file.deleted) return;
        const url = await sign({
          key: file.key,
          filename: file.name,
          contentType: file.contentType,
          expiresSeconds: PREVIEW_URL_SECONDS,
          origin,
        }).catch((err) => {
          throw storageUnavailable(err);
        });
        if (url) previews.set(index, url);
      }),
    );
    return previews;
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
      fileCount: share.files ? fileKeysOf(share).length : 1,
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
