import { describe, expect, it } from 'vitest';
import { lifecycleJson, lifecycleRules } from './lifecycle.ts';

describe('lifecycleRules', () => {
  it('puts one rule on each file prefix, never on shares/ or postbox/', () => {
    const rules = lifecycleRules({ fileDays: 30, abortIncompleteUploadsDays: 7 });
    expect(rules.map((rule) => rule.Filter?.Prefix)).toEqual(['uploads/', 'thumbs/', 'people/']);
    for (const rule of rules) {
      expect(rule).toMatchObject({
        Status: 'Enabled',
        Expiration: { Days: 30 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      });
      expect(rule.ID).toMatch(/^postbox-/);
    }
  });

  it('keeps files forever without a retention: no Expiration, uploads still aborted', () => {
    for (const rule of lifecycleRules({ abortIncompleteUploadsDays: 3 })) {
      expect(rule.Expiration).toBeUndefined();
      expect(rule.AbortIncompleteMultipartUpload).toEqual({ DaysAfterInitiation: 3 });
    }
  });

  it('prints the JSON the AWS CLI takes', () => {
    const parsed = JSON.parse(lifecycleJson({ fileDays: 1, abortIncompleteUploadsDays: 1 })) as { Rules: unknown[] };
    expect(parsed.Rules).toHaveLength(3);
  });
});
