import { randomBytes } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  S3_SINGLE_UPLOAD_MAX_BYTES,
  type CreateFileRequest,
  type FileRequestLink,
  type RequestUploadRequest,
  type UploadPolicy,
} from '../../contract/api.ts';
import { AppError } from '../errors/app-error.ts';
import { LOCAL_PERSON, type Person } from '../people/person.ts';
import { hashPassword } from '../shares/passwords.ts';
import { signUploadPolicy } from '../signing/upload-policy.ts';
import { acceptUpload, type UploadRules } from '../signing/upload-rules.ts';
import type { Storage } from '../storage/storage.ts';
import { isNotFound, orUnavailable, storageUnavailable } from '../storage/storage-errors.ts';
import {
  abandonedCandidates,
  close,
  confirm,
  isRequestId,
  lastUploadAt,
  limitsOf,
  newRequestId,
  release,
  reserve,
  stateOf,
  typeAllowedByRequest,
  usedBytes,
  type Received,
  type RequestRecord,
  type Slot,
} from './request-record.ts';
import type { S3RequestStore } from './request-store.ts';

/** What the notifier is told when a visit's files are confirmed in storage. */
export interface ArrivedBatch {
  record: RequestRecord;
  files: Received[];
  visitorName: string | null;
  /** The origin the visit came to (links in notifications when there is no PUBLIC_URL). */
  origin?: string;
}

export interface RequestServiceDeps {
  store: S3RequestStore;
  storage: Pick<Storage, 'client' | 'bucket' | 'signerFor'>;
  rules: UploadRules & { expiresSeconds: number };
  /** With USER_QUOTA_BYTES: reserves the file in the requester's usage, or throws quota_exceeded; before a slot is taken. */
  reserveQuota?: (upload: { key: string; size: number }, until: number) => Promise<void>;
  /** Told about each visit's confirmed files; must not throw or block (it queues its own work). */
  onArrived?: (batch: ArrivedBatch) => void;
  /**
   * With OIDC accounts: links the local person made before accounts take no more files. No one signs
   * in as the local person, so no one could see or close them, and visitors would fill that space.
   */
  localLinksClosed?: boolean;
  now?: () => number;
}

const HEAD_CONCURRENCY = 8;
const MIN_POLICY_SECONDS = 60;

/** Request links: created and closed by their owner, used by visitors who sign nothing but get policies for their files. */
export class RequestService {
  private readonly now: () => number;

  constructor(private readonly deps: RequestServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The largest file a link may take: the server's limit, and one POST's (links do not use multipart). */
  get maxFileBytes(): number {
    return Math.min(this.deps.rules.maxBytes, S3_SINGLE_UPLOAD_MAX_BYTES);
  }

  async create(owner: Person, input: CreateFileRequest): Promise<RequestRecord> {
    if (input.webhookUrl && !owner.admin) throw new AppError('forbidden', 'Only an administrator may set a webhook: the server calls it.');
    if (input.maxFileBytes !== undefined && input.maxFileBytes > this.maxFileBytes) {
      throw new AppError('invalid_request', `maxFileBytes may be at most ${this.maxFileBytes} on this server.`);
    }
    const now = this.now();
    const record: RequestRecord = {
      version: 1,
      id: newRequestId(),
      owner: { id: owner.id, space: owner.space, name: owner.name ?? null, email: owner.email ?? null },
      createdAt: new Date(now).toISOString(),
      expiresAt: input.expiresIn === null ? null : new Date(now + input.expiresIn * 1000).toISOString(),
      closedAt: null,
      note: input.note?.trim() || null,
      maxFiles: input.maxFiles ?? 10,
      maxFileBytes: input.maxFileBytes ?? this.maxFileBytes,
      maxTotalBytes: input.maxTotalBytes ?? null,
      allowedTypes: [...new Set(input.allowedTypes ?? [])],
      password: input.password ? await hashPassword(input.password) : null,
      webhookUrl: input.webhookUrl ?? null,
      webhookSecret: randomBytes(32).toString('base64url'),
      received: [],
    };
    await this.deps.store.create(record);
    return record;
  }

  list(owner: Person): Promise<RequestRecord[]> {
    return this.deps.store.listForOwner(owner.id);
  }

  /** Closes the owner's link; another person's link is "not found", as a missing one. */
  async close(owner: Person, id: string): Promise<void> {
    const record = await this.ownRecord(owner, id);
    await this.deps.store.update(record.id, (current) => close(current, this.now()));
  }

  /** The link's record, for the visitor's page and checks; 404 when there is none. */
  async open(id: string): Promise<RequestRecord> {
    const record = isRequestId(id) ? await this.deps.store.get(id) : undefined;
    if (!record) throw new AppError('not_found', 'There is no such request link.');
    const ownerGone = this.deps.localLinksClosed && record.owner.id === LOCAL_PERSON.id;
    if (ownerGone && !record.closedAt) return { ...record, closedAt: record.createdAt };
    return record;
  }

  /**
   * A POST policy for one visitor file, after its slot is reserved in the record (a conditional
   * write): the count and bytes hold whatever other visitors or instances do at the same moment.
   * The password, if any, is checked by the caller before.
   */
  async sign(record: RequestRecord, input: RequestUploadRequest, origin: string | undefined): Promise<UploadPolicy> {
    const { rules } = this.deps;
    const upload = acceptUpload(
      { name: input.name, size: input.size, type: input.type },
      { maxBytes: record.maxFileBytes, allowedTypes: rules.allowedTypes, deniedTypes: rules.deniedTypes },
      record.owner.space,
    );
    if (!typeAllowedByRequest(upload.declaredType, record)) {
      throw new AppError('unsupported_type', `This link takes only ${record.allowedTypes.join(', ')}; not ${upload.declaredType}.`);
    }
    // User data that ends up in metadata, a mail subject and JSON: no control or format characters.
    const visitorName = input.visitorName?.replace(/[\p{Cc}\p{Cf}]/gu, '').trim() || null;
    const now = this.now();
    const untilExpiry = record.expiresAt === null ? Infinity : Math.floor((Date.parse(record.expiresAt) - now) / 1000);
    const expiresSeconds = Math.max(MIN_POLICY_SECONDS, Math.min(rules.expiresSeconds, untilExpiry));
    const policyExpiresAt = new Date(now + expiresSeconds * 1000).toISOString();
    const slot = { key: upload.key, name: upload.filename, size: upload.size, type: upload.declaredType, visitorName, policyExpiresAt };
    await this.reserveSlot(record.id, slot, now);
    const metadata: Record<string, string> = { 'request-id': record.id };
    if (visitorName) metadata['visitor-name'] = encodeURIComponent(visitorName);
    try {
      // Received files count against the requester's quota, as their own uploads do; after the slot,
      // so a full or closed link reserves nothing, and a refused quota gives the slot back (below).
      await this.deps.reserveQuota?.(upload, now + expiresSeconds * 1000).catch((err: unknown) => {
        // The quota's words name the requester's usage ("you have … left of …"): not for a visitor.
        if (!(err instanceof AppError && err.code === 'quota_exceeded')) throw err;
        throw new AppError('quota_exceeded', 'The person who asked has no room left for this file.');
      });
      return await orUnavailable(
        signUploadPolicy(this.deps.storage.signerFor(origin), {
          bucket: this.deps.storage.bucket,
          key: upload.key,
          filename: upload.filename,
          contentType: upload.storedType,
          size: upload.size,
          expiresSeconds,
          metadata,
        }),
      );
    } catch (err) {
      // Nothing was signed (quota refused, or signing failed): give the slot back.
      await this.deps.store.update(record.id, (current) => ({
        ...current,
        received: current.received.filter((f) => f.key !== upload.key),
      }));
      throw err;
    }
  }

  /**
   * The visitor's page says it is done: the keys that are this link's and really in storage (HeadObject)
   * are confirmed, and those not confirmed before go to the notifier as one batch. Replays notify nothing.
   */
  async visit(record: RequestRecord, keys: readonly string[], origin?: string): Promise<string[]> {
    const wanted = new Set(keys);
    const candidates = record.received.filter((file) => wanted.has(file.key));
    const present = await this.existing(candidates.map((file) => file.key));
    if (present.size === 0) return [];
    let fresh: Received[] = [];
    const updated = await this.deps.store.update(record.id, (current) => {
      fresh = current.received.filter((file) => present.has(file.key) && !file.confirmedAt);
      return confirm(current, present, this.now());
    });
    if (updated && fresh.length) {
      const freshKeys = new Set(fresh.map((file) => file.key));
      const files = updated.received.filter((file) => freshKeys.has(file.key));
      this.deps.onArrived?.({ record: updated, files, visitorName: files.find((f) => f.visitorName)?.visitorName ?? null, origin });
    }
    return [...present];
  }

  /** Reserves the slot; when the link is full, first gives back slots whose policy expired unused, then tries once more. */
  private async reserveSlot(id: string, slot: Slot, now: number): Promise<void> {
    const attempt = () => this.deps.store.update(id, (current) => reserve(current, slot, now));
    try {
      if (!(await attempt())) throw new AppError('not_found', 'There is no such request link.');
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'request_full') || !(await this.releaseAbandoned(id, now))) throw err;
      if (!(await attempt())) throw new AppError('not_found', 'There is no such request link.');
    }
  }

  /** Gives back unconfirmed slots whose policy expired long ago and whose object storage does not have; whether any was. */
  private async releaseAbandoned(id: string, now: number): Promise<boolean> {
    const current = await this.deps.store.get(id);
    const candidates = current ? abandonedCandidates(current, now) : [];
    if (candidates.length === 0) return false;
    const present = await this.existing(candidates);
    const gone = new Set(candidates.filter((key) => !present.has(key)));
    if (gone.size === 0) return false;
    await this.deps.store.update(id, (record) => release(record, gone));
    return true;
  }

  toLink(record: RequestRecord, origin: string): FileRequestLink {
    return {
      id: record.id,
      url: `${origin}/r/${record.id}`,
      state: stateOf(record, this.now()),
      note: record.note,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
      closedAt: record.closedAt,
      limits: limitsOf(record),
      hasPassword: record.password !== null,
      files: record.received.length,
      bytes: usedBytes(record),
      lastUploadAt: lastUploadAt(record),
      received: record.received,
      webhookUrl: record.webhookUrl,
      webhookSecret: record.webhookSecret,
    };
  }

  private async ownRecord(owner: Person, id: string): Promise<RequestRecord> {
    const record = await this.open(id);
    if (record.owner.id !== owner.id) throw new AppError('not_found', 'There is no such request link.');
    return record;
  }

  private async existing(keys: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < keys.length; i += HEAD_CONCURRENCY) {
      await Promise.all(
        keys.slice(i, i + HEAD_CONCURRENCY).map(async (key) => {
          try {
            await this.deps.storage.client.send(new HeadObjectCommand({ Bucket: this.deps.storage.bucket, Key: key }));
            found.add(key);
          } catch (err) {
            if (!isNotFound(err)) throw storageUnavailable(err);
          }
        }),
      );
    }
    return found;
  }
}
