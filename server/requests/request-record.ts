import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { formatBytes, isTypeAccepted, ReceivedFile, type FileRequestPublic, type RequestLimits } from '../../contract/api.ts';
import { AppError } from '../errors/app-error.ts';

/**
 * Request links live in the bucket, under a prefix no upload can write to (upload keys are made by
 * the server under `<space>uploads/`):
 *
 *   requests/links/<id>.json              the record: limits, counters and every file received
 *   requests/by-owner/<person id>/<id>    an empty marker per link, so a person's links are one LIST
 *
 * The record is the truth. Slots (a file and its bytes) are reserved in it with a conditional write
 * before a policy is signed, so the limits hold across visitors and instances.
 */
const PREFIX = 'requests/';
const ID = /^[A-Za-z0-9_-]{22}$/;

/** 128 random bits, as share link ids. */
export const newRequestId = () => randomBytes(16).toString('base64url');
export const isRequestId = (value: string) => ID.test(value);
export const requestRecordKey = (id: string) => `${PREFIX}links/${id}.json`;
export const ownerIndexPrefix = (personId: string) => `${PREFIX}by-owner/${personId}/`;
export const ownerMarkerKey = (personId: string, id: string) => `${ownerIndexPrefix(personId)}${id}`;

const PasswordHash = z.object({
  algorithm: z.literal('scrypt'),
  N: z.number(),
  r: z.number(),
  p: z.number(),
  salt: z.string(),
  hash: z.string(),
});

/** A slot of the link: the wire shape is the stored one. */
const Received = ReceivedFile;
export type Received = z.infer<typeof Received>;

export const RequestRecord = z.object({
  version: z.literal(1),
  id: z.string(),
  /** Whose space the files go to: the Person's id and space at creation (never assumed ''). */
  owner: z.object({ id: z.string(), space: z.string(), name: z.string().nullable(), email: z.string().nullable() }),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  note: z.string().nullable(),
  maxFiles: z.number(),
  maxFileBytes: z.number(),
  maxTotalBytes: z.number().nullable(),
  allowedTypes: z.array(z.string()),
  password: PasswordHash.nullable(),
  webhookUrl: z.string().nullable(),
  webhookSecret: z.string(),
  received: z.array(Received),
});
export type RequestRecord = z.infer<typeof RequestRecord>;

export type RequestState = 'open' | 'full' | 'expired' | 'closed';

export const usedBytes = (record: RequestRecord) => record.received.reduce((sum, file) => sum + file.size, 0);

export function stateOf(record: RequestRecord, now: number): RequestState {
  if (record.closedAt) return 'closed';
  if (record.expiresAt !== null && Date.parse(record.expiresAt) <= now) return 'expired';
  const bytesLeft = record.maxTotalBytes === null ? 1 : record.maxTotalBytes - usedBytes(record);
  if (record.received.length >= record.maxFiles || bytesLeft <= 0) return 'full';
  return 'open';
}

export const limitsOf = (record: RequestRecord): RequestLimits => ({
  maxFiles: record.maxFiles,
  maxFileBytes: record.maxFileBytes,
  maxTotalBytes: record.maxTotalBytes,
  allowedTypes: record.allowedTypes,
});

/** The request's own type patterns (empty: any); the operator's rules are checked apart. */
export const typeAllowedByRequest = (type: string, record: Pick<RequestRecord, 'allowedTypes'>) =>
  record.allowedTypes.length === 0 || isTypeAccepted(type, { allowedTypes: record.allowedTypes, deniedTypes: [] });

/** A refusal for a visitor when the link no longer takes files. */
export function refusalFor(state: Exclude<RequestState, 'open'>): AppError {
  if (state === 'full') return new AppError('request_full', 'This request link has received all the files it takes.');
  if (state === 'expired') return new AppError('request_closed', 'This request link has expired.');
  return new AppError('request_closed', 'This request link was closed by the person who made it.');
}

export interface Slot {
  key: string;
  name: string;
  size: number;
  type: string;
  visitorName: string | null;
  policyExpiresAt: string;
}

/**
 * S3 checks a POST policy's expiry when the request starts; a large upload begun just before may
 * still land long after. A slot is given back only this long after its policy expired.
 */
export const ABANDONED_GRACE_MS = 3600_000;

/** Unconfirmed slots whose policy is long expired: candidates to give back if storage does not have their object. */
export const abandonedCandidates = (record: RequestRecord, now: number): string[] =>
  record.received
    .filter((file) => !file.confirmedAt && Date.parse(file.policyExpiresAt) + ABANDONED_GRACE_MS <= now)
    .map((file) => file.key);

/** The record without the given slots, if still unconfirmed; undefined when none is left to remove. */
export function release(record: RequestRecord, keys: ReadonlySet<string>): RequestRecord | undefined {
  const kept = record.received.filter((file) => file.confirmedAt || !keys.has(file.key));
  return kept.length === record.received.length ? undefined : { ...record, received: kept };
}

/**
 * The record with one more file reserved, or an AppError saying which limit refuses it. Pure: the
 * store calls it again on a fresh record when another writer got there first.
 */
export function reserve(record: RequestRecord, slot: Slot, now: number): RequestRecord {
  const state = stateOf(record, now);
  if (state !== 'open') throw refusalFor(state);
  if (slot.size > record.maxFileBytes) {
    throw new AppError('file_too_large', `This file is too large: this link takes files of at most ${formatBytes(record.maxFileBytes)}.`);
  }
  if (record.maxTotalBytes !== null && usedBytes(record) + slot.size > record.maxTotalBytes) {
    const left = Math.max(0, record.maxTotalBytes - usedBytes(record));
    throw new AppError('request_full', `This file does not fit: the link has ${formatBytes(left)} left.`);
  }
  const received: Received = { ...slot, signedAt: new Date(now).toISOString(), confirmedAt: null };
  return { ...record, received: [...record.received, received] };
}

/** The record with `keys` marked as confirmed (those it holds and that are not yet). */
export function confirm(record: RequestRecord, keys: ReadonlySet<string>, now: number): RequestRecord | undefined {
  if (!record.received.some((file) => keys.has(file.key) && !file.confirmedAt)) return undefined;
  const at = new Date(now).toISOString();
  return {
    ...record,
    received: record.received.map((file) => (keys.has(file.key) && !file.confirmedAt ? { ...file, confirmedAt: at } : file)),
  };
}

export const close = (record: RequestRecord, now: number): RequestRecord | undefined =>
  record.closedAt ? undefined : { ...record, closedAt: new Date(now).toISOString() };

export function lastUploadAt(record: RequestRecord): string | null {
  const times = record.received.map((file) => file.confirmedAt ?? file.signedAt).sort();
  return times.at(-1) ?? null;
}

/** The limits in plain words, for the visitor's page. */
export function summaryOf(record: RequestRecord): string[] {
  const size = formatBytes(record.maxFileBytes);
  const lines = [
    record.maxFiles === 1
      ? `You can send one file of at most ${size}.`
      : `You can send up to ${record.maxFiles} files of at most ${size} each.`,
  ];
  if (record.maxTotalBytes !== null) lines.push(`At most ${formatBytes(record.maxTotalBytes)} in all.`);
  if (record.allowedTypes.length) lines.push(`Accepted types: ${record.allowedTypes.join(', ')}.`);
  if (record.expiresAt) lines.push(`Open until ${record.expiresAt.replace('T', ' ').slice(0, 16)} UTC.`);
  return lines;
}

export function toPublic(record: RequestRecord, now: number): FileRequestPublic {
  return {
    id: record.id,
    state: stateOf(record, now),
    requester: record.owner.name ?? record.owner.email,
    note: record.note,
    expiresAt: record.expiresAt,
    limits: limitsOf(record),
    filesLeft: Math.max(0, record.maxFiles - record.received.length),
    bytesLeft: record.maxTotalBytes === null ? null : Math.max(0, record.maxTotalBytes - usedBytes(record)),
    passwordRequired: record.password !== null,
    summary: summaryOf(record),
  };
}
