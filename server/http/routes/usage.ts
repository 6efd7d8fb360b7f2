import type { Response, Router } from 'express';
import type { Config } from '../../config/config.ts';
import { ownerOfSpace, usedBytes, type UsageBook } from '../../people/usage.ts';
import { parseUploadKey } from '../../signing/object-keys.ts';
import type { Usage } from '../../../contract/api.ts';
import { personOf } from '../upload-key.ts';

/**
 * With USER_QUOTA_BYTES: reserves a signed upload's declared size in its owner's usage record, or
 * refuses it (413 quota_exceeded) before anything is signed or created. `until`: when the signed
 * policy (or the multipart reservation) ends. Without a quota nothing is written per upload.
 * `space`: whose it is, for a key that is no upload key (a thumbnail's).
 */
export async function reserveQuota(
  usage: UsageBook,
  config: Config,
  upload: { key: string; size: number },
  until: number,
  space = parseUploadKey(upload.key)!.space,
): Promise<void> {
  const quota = config.accounts.quotaBytes;
  if (quota === undefined) return;
  const owner = ownerOfSpace(space);
  await usage.reserve(owner, { key: upload.key, size: upload.size, until }, quota);
}

/**
 * With a quota, after a file's deletion: its bytes no longer count. A failure to count it is logged,
 * not the caller's (the next listing corrects it). Without a quota, nothing is written.
 */
export async function releaseQuota(usage: UsageBook, config: Config, res: Response, key: string, size: number): Promise<void> {
  if (config.accounts.quotaBytes === undefined) return;
  await usage.released(key, size).catch((err: unknown) => res.req.log.warn({ err }, 'usage record not updated after a delete'));
}

export function usageRoutes(router: Router, config: Config, usage: UsageBook): void {
  router.get('/usage', async (_req, res) => {
    const record = await usage.current(personOf(res));
    const answer: Usage = { usedBytes: usedBytes(record), files: record.files, quotaBytes: config.accounts.quotaBytes ?? null };
    res.json(answer);
  });
}
