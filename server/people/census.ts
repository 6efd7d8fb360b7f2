import { CopyObjectCommand, DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { AppError } from '../errors/app-error.ts';
import { S3_SINGLE_UPLOAD_MAX_BYTES, type PeopleUsage, type RemovedFiles } from '../../contract/api.ts';
import { fileIndexPrefix, isUsable, parseMarker, SHARES_PREFIX } from '../shares/share-record.ts';
import { parseUploadKey, UPLOAD_PREFIX } from '../signing/object-keys.ts';
import { THUMBNAIL_PREFIX } from '../signing/thumbnails.ts';
import { isNotFound, storageUnavailable } from '../storage/storage-errors.ts';
import { JsonRecords, type BucketRef } from '../storage/json-records.ts';
import { LOCAL_PERSON, PEOPLE_PREFIX, spaceFor } from './person.ts';
import { ownerOfSpace, type Owner, type UsageBook } from './usage.ts';

const BY_FILE_PREFIX = `${SHARES_PREFIX}by-file/`;

export interface CensusDeps {
  storage: BucketRef;
  usage: UsageBook;
  /** Removes every share link of a file; returns how many there were. */
  deleteLinksOf(fileKey: string): Promise<number>;
  now?: () => number;
}

/**
 * What admins see and do across people: everyone's files, bytes and live share links (from
 * listings, so the figures are exact: one pass over `uploads/`, `people/` and the share markers per
 * look), removing a person's files and links, and giving a file from before accounts (space '')
 * to a person.
 */
export class PeopleCensus {
  private readonly records: JsonRecords;

  constructor(private readonly deps: CensusDeps) {
    this.records = new JsonRecords(deps.storage);
  }

  async people(): Promise<PeopleUsage['people']> {
    const [local, people, markers, recorded] = await Promise.all([
      this.records.list(UPLOAD_PREFIX),
      this.records.list(PEOPLE_PREFIX),
      this.records.list(BY_FILE_PREFIX),
      this.deps.usage.all(),
    ]);
    const now = this.deps.now?.() ?? Date.now();
    const liveByFile = new Map<string, number>();
    for (const { key } of markers) {
      const marker = parseMarker(key);
      if (!marker || !isUsable(marker, now)) continue;
      const prefix = key.slice(0, key.lastIndexOf('/') + 1);
      liveByFile.set(prefix, (liveByFile.get(prefix) ?? 0) + 1);
    }
    const byPerson = new Map<string, { files: number; usedBytes: number; shareLinks: number }>();
    const tally = (id: string) => byPerson.get(id) ?? byPerson.set(id, { files: 0, usedBytes: 0, shareLinks: 0 }).get(id)!;
    for (const id of [LOCAL_PERSON.id, ...recorded]) tally(id);
    for (const { key, size } of [...local, ...people]) {
      const parts = parseUploadKey(key);
      if (!parts) continue;
      const row = tally(ownerOfSpace(parts.space).id);
      row.files += 1;
      row.usedBytes += size;
      row.shareLinks += liveByFile.get(fileIndexPrefix(key)) ?? 0;
    }
    const checkedAt = new Date(now).toISOString();
    return [...byPerson]
      .map(([id, row]) => ({ id, ...row, checkedAt }))
      .sort((a, b) => b.usedBytes - a.usedBytes || a.id.localeCompare(b.id));
  }

  /** Deletes every file of the person, their thumbnails and every share link of those files; their usage starts again from zero. */
  async removeFiles(owner: Owner): Promise<RemovedFiles> {
    const files = (await this.records.list(owner.space + UPLOAD_PREFIX)).filter(({ key }) => parseUploadKey(key)?.space === owner.space);
    // Thumbnails first, as a person's own delete does (a removed image must not stay as one); all of the
    // space's, also those whose file went before (a thumbnail policy lives on after its file's delete).
    for (const { key } of await this.records.list(owner.space + THUMBNAIL_PREFIX)) await this.records.remove(key);
    let shareLinks = 0;
    for (const { key } of files) {
      // Links first, as a person's own delete does: a failure halfway leaves files unshared, never shared ones.
      shareLinks += await this.deps.deleteLinksOf(key);
      await this.records.remove(key);
    }
    await this.deps.usage.cleared(owner);
    return { files: files.length, shareLinks };
  }

  /**
   * Copies a file made before accounts (space '') into the person's space, then deletes the
   * original and its share links (they named the old key). Returns the new key. Files over 5 GiB
   * need a multipart copy, which this does not do.
   */
  async giveLegacy(key: string, personId: string): Promise<{ key: string; size: number }> {
    const parts = parseUploadKey(key);
    if (!parts || parts.space !== '') throw new AppError('not_found', 'There is no such file from before accounts.');
    const size = await this.sizeOf(key);
    if (size > S3_SINGLE_UPLOAD_MAX_BYTES)
      throw new AppError('invalid_request', 'Files over 5 GiB cannot be given with one copy; see docs/accounts-admin.md.');
    const target = spaceFor(personId) + key;
    const { client, bucket } = this.deps.storage;
    await client
      .send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: target,
          CopySource: `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
          MetadataDirective: 'COPY',
        }),
      )
      .catch((err: unknown) => {
        throw storageUnavailable(err);
      });
    await this.deps.deleteLinksOf(key);
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch((err: unknown) => {
      throw storageUnavailable(err);
    });
    await this.deps.usage.released(key, size);
    await this.deps.usage.forget(ownerOfSpace(spaceFor(personId)));
    return { key: target, size };
  }

  private async sizeOf(key: string): Promise<number> {
    try {
      const head = await this.deps.storage.client.send(new HeadObjectCommand({ Bucket: this.deps.storage.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) throw new AppError('not_found', 'There is no such file from before accounts.');
      throw storageUnavailable(err);
    }
  }
}
