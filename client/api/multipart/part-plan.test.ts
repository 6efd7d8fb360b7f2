import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MiB, MULTIPART_MAX_PARTS, multipartPartSize, S3_MIN_PART_BYTES, S3_OBJECT_MAX_BYTES } from '../../../contract/api.ts';
import { candidatesToKeep, base64OfHex, etagMatches, lengthOf, planParts } from './part-plan.ts';

const P = 5 * MiB;

describe('planParts', () => {
  it('a size that is an exact multiple of the part size: whole parts only, none empty', () => {
    const plan = planParts(3 * P, P);
    expect(plan).toHaveLength(3);
    expect(plan.map(lengthOf)).toEqual([P, P, P]);
    expect(plan.at(-1)).toEqual({ number: 3, start: 2 * P, end: 3 * P });
  });

  it('one byte over: one more part of one byte', () => {
    const plan = planParts(3 * P + 1, P);
    expect(plan).toHaveLength(4);
    expect(plan.at(-1)).toEqual({ number: 4, start: 3 * P, end: 3 * P + 1 });
  });

  it('one byte under: the last part is one byte short', () => {
    expect(planParts(3 * P - 1, P).map(lengthOf)).toEqual([P, P, P - 1]);
  });

  it('10,000 parts is the most storage takes; one byte more is refused', () => {
    const plan = planParts(MULTIPART_MAX_PARTS * P, P);
    expect(plan).toHaveLength(MULTIPART_MAX_PARTS);
    expect(plan.at(-1)).toEqual({ number: 10_000, start: 9_999 * P, end: 10_000 * P });
    expect(() => planParts(MULTIPART_MAX_PARTS * P + 1, P)).toThrow(RangeError);
  });

  it('a file smaller than a part is one part', () => {
    expect(planParts(1, P)).toEqual([{ number: 1, start: 0, end: 1 }]);
  });

  it('refuses sizes that are not byte counts', () => {
    for (const [size, partSize] of [
      [-1, P],
      [1.5, P],
      [10, 0],
      [Number.NaN, P],
    ])
      expect(() => planParts(size!, partSize!)).toThrow(RangeError);
  });

  it('with the server part size, any file up to 5 TiB is covered by contiguous parts, at most 10,000', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: S3_OBJECT_MAX_BYTES }), (size) => {
        const plan = planParts(size, multipartPartSize(size, S3_MIN_PART_BYTES));
        expect(plan.length).toBeLessThanOrEqual(MULTIPART_MAX_PARTS);
        expect(plan[0]!.start).toBe(0);
        expect(plan.at(-1)!.end).toBe(size);
        for (let i = 1; i < plan.length; i++) expect(plan[i]!.start).toBe(plan[i - 1]!.end);
        expect(plan.every((part) => lengthOf(part) > 0)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});

describe('candidatesToKeep', () => {
  it('keeps listed parts of the planned length only', () => {
    const plan = planParts(2 * P + 10, P);
    const kept = candidatesToKeep(
      [
        { partNumber: 1, etag: '"a"', size: P },
        { partNumber: 2, etag: '"b"', size: P - 1 },
        { partNumber: 3, etag: '"c"', size: 10 },
        { partNumber: 4, etag: '"d"', size: 10 },
        { partNumber: 0, etag: '"e"', size: P },
      ],
      plan,
    );
    expect([...kept]).toEqual([
      [1, '"a"'],
      [3, '"c"'],
    ]);
  });
});

describe('MD5 helpers', () => {
  it('compares ETags quoted or not, in any case', () => {
    expect(etagMatches('"9E107D9D372BB6826BD81D3542A419D6"', '9e107d9d372bb6826bd81d3542a419d6')).toBe(true);
    expect(etagMatches('9e107d9d372bb6826bd81d3542a419d6-2', '9e107d9d372bb6826bd81d3542a419d6')).toBe(false);
  });
  it('writes Content-MD5 as base64 of the digest', () => {
    expect(base64OfHex('9e107d9d372bb6826bd81d3542a419d6')).toBe('nhB9nTcrtoJr2B01QqQZ1g==');
  });
});
