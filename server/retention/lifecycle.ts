import {
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PEOPLE_PREFIX } from '../people/person.ts';
import { UPLOAD_PREFIX } from '../signing/object-keys.ts';
import { THUMBNAIL_PREFIX } from '../signing/thumbnails.ts';

export interface RetentionSettings {
  /** Files are deleted this many days after upload; undefined: kept forever. */
  fileDays?: number;
  /** Multipart uploads not completed within this many days are aborted. */
  abortIncompleteUploadsDays: number;
}

/**
 * Where files live: `uploads/…` (the local person) and `people/<id>/uploads/…`, and their thumbnails
 * (`thumbs/…`, `people/<id>/thumbs/…`: made at upload, so they expire with their file). A lifecycle
 * filter is a plain prefix, so `people/` as a whole: nothing but people's files may ever be kept there.
 * Share records (`shares/`) and Postbox's own records (`postbox/`) have no rule: they never expire by it.
 */
export const FILE_PREFIXES = [UPLOAD_PREFIX, THUMBNAIL_PREFIX, PEOPLE_PREFIX] as const;

/** Rule ids Postbox owns; an operator's other rules on the bucket are kept when Postbox puts its own. */
export const RULE_ID_PREFIX = 'postbox-';

const ruleId = (prefix: string) => `${RULE_ID_PREFIX}${prefix.replace(/\/$/, '')}`;

/** One rule per file prefix: abandoned multipart uploads aborted, and files expired when a retention is set. */
export function lifecycleRules(settings: RetentionSettings): LifecycleRule[] {
  return FILE_PREFIXES.map((prefix) => ({
    ID: ruleId(prefix),
    Status: 'Enabled',
    Filter: { Prefix: prefix },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: settings.abortIncompleteUploadsDays },
    ...(settings.fileDays !== undefined && { Expiration: { Days: settings.fileDays } }),
  }));
}

/** The JSON `aws s3api put-bucket-lifecycle-configuration --lifecycle-configuration` takes. */
export function lifecycleJson(settings: RetentionSettings): string {
  return JSON.stringify({ Rules: lifecycleRules(settings) }, null, 2);
}

/** The bucket's rules now; none when it has no lifecycle configuration. */
async function currentRules(client: S3Client, bucket: string): Promise<LifecycleRule[]> {
  try {
    return (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchLifecycleConfiguration') return [];
    throw err;
  }
}

/**
 * Puts Postbox's rules on the bucket, in place of its earlier ones and beside anyone else's (a
 * PutBucketLifecycleConfiguration replaces the whole configuration). Returns the rules put.
 */
export async function putLifecycleRules(client: S3Client, bucket: string, settings: RetentionSettings): Promise<LifecycleRule[]> {
  const others = (await currentRules(client, bucket)).filter((rule) => !rule.ID?.startsWith(RULE_ID_PREFIX));
  const rules = [...others, ...lifecycleRules(settings)];
  await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));
  return rules;
}
