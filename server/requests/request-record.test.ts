import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/app-error.ts';
import {
  ABANDONED_GRACE_MS,
  abandonedCandidates,
  confirm,
  release,
  reserve,
  stateOf,
  summaryOf,
  toPublic,
  type RequestRecord,
} from './request-record.ts';

const NOW = Date.parse('2026-12-05T10:00:00Z');

const record = (over: Partial<RequestRecord> = {}): RequestRecord => ({
  version: 1,
  id: 'AAAAAAAAAAAAAAAAAAAAAA',
  owner: { id: 'local', space: '', name: null, email: null },
  createdAt: new Date(NOW - 1000).toISOString(),
  expiresAt: new Date(NOW + 3600_000).toISOString(),
  closedAt: null,
  note: null,
  maxFiles: 2,
  maxFileBytes: 1000,
  maxTotalBytes: 1500,
  allowedTypes: [],
  password: null,
  webhookUrl: null,
  webhookSecret: 'secret',
  received: [],
  ...over,
});
const slot = (key: string, size: number) => ({
  key,
  name: `${key}.txt`,
  size,
  type: 'text/plain',
  visitorName: null,
  policyExpiresAt: new Date(NOW + 900_000).toISOString(),
});
const codeOf = (work: () => unknown) => {
  try {
    work();
  } catch (err) {
    return err instanceof AppError ? [err.status, err.code] : err;
  }
  return 'no refusal';
};

describe('reserve', () => {
  it('takes files until maxFiles, then refuses with request_full', () => {
    const one = reserve(record(), slot('a', 10), NOW);
    const two = reserve(one, slot('b', 10), NOW);
    expect(two.received.map((f) => f.key)).toEqual(['a', 'b']);
    expect(stateOf(two, NOW)).toBe('full');
    expect(codeOf(() => reserve(two, slot('c', 10), NOW))).toEqual([409, 'request_full']);
  });

  it('refuses a file over maxFileBytes (413) and one over the bytes left (409), to the byte', () => {
    expect(codeOf(() => reserve(record(), slot('a', 1001), NOW))).toEqual([413, 'file_too_large']);
    const one = reserve(record(), slot('a', 1000), NOW);
    expect(codeOf(() => reserve(one, slot('b', 501), NOW))).toEqual([409, 'request_full']);
    expect(reserve(one, slot('b', 500), NOW).received).toHaveLength(2);
  });

  it('refuses on a closed or expired link with request_closed (410)', () => {
    expect(codeOf(() => reserve(record({ closedAt: new Date(NOW).toISOString() }), slot('a', 1), NOW))).toEqual([410, 'request_closed']);
    expect(codeOf(() => reserve(record({ expiresAt: new Date(NOW).toISOString() }), slot('a', 1), NOW))).toEqual([410, 'request_closed']);
    expect(reserve(record({ expiresAt: null }), slot('a', 1), NOW + 10 * 365 * 86_400_000).received).toHaveLength(1);
  });
});

describe('confirm', () => {
  it('marks only keys the record holds, once; undefined when nothing changes', () => {
    const held = reserve(record(), slot('a', 1), NOW);
    const confirmed = confirm(held, new Set(['a', 'other']), NOW)!;
    expect(confirmed.received[0]!.confirmedAt).toBe(new Date(NOW).toISOString());
    expect(confirm(confirmed, new Set(['a']), NOW + 1)).toBeUndefined();
    expect(confirm(held, new Set(['other']), NOW)).toBeUndefined();
  });
});

describe('what the visitor sees', () => {
  it('the limits in plain words, and nothing of the owner but a name or e-mail', () => {
    const shown = record({
      maxFiles: 1,
      allowedTypes: ['application/pdf'],
      owner: { id: 'ab'.repeat(8), space: `people/${'ab'.repeat(8)}/`, name: 'Ada', email: 'ada@example.test' },
    });
    expect(summaryOf(shown)).toEqual([
      'You can send one file of at most 1000 bytes.',
      'At most 1.5 KiB in all.',
      'Accepted types: application/pdf.',
      'Open until 2026-12-05 11:00 UTC.',
    ]);
    const view = toPublic(shown, NOW);
    expect(view).toMatchObject({ requester: 'Ada', filesLeft: 1, bytesLeft: 1500, passwordRequired: false, state: 'open' });
    expect(JSON.stringify(view)).not.toMatch(/people\/|secret/);
  });
});

describe('abandoned slots', () => {
  it('are candidates only unconfirmed and an hour past their policy, and release keeps confirmed ones', () => {
    const two = reserve(reserve(record(), slot('a', 1), NOW), slot('b', 1), NOW);
    const aConfirmed = confirm(two, new Set(['a']), NOW)!;
    const expiry = NOW + 900_000;
    expect(abandonedCandidates(aConfirmed, expiry + ABANDONED_GRACE_MS - 1)).toEqual([]);
    expect(abandonedCandidates(aConfirmed, expiry + ABANDONED_GRACE_MS)).toEqual(['b']);
    expect(release(aConfirmed, new Set(['a', 'b']))!.received.map((f) => f.key)).toEqual(['a']);
    expect(release(aConfirmed, new Set(['a']))).toBeUndefined();
  });
});
