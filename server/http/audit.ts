import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { viaToken } from './access.ts';
import { personOf } from './upload-key.ts';

export type AuditAction =
  | 'token.create'
  | 'token.revoke'
  | 'token.use'
  | 'share.create'
  | 'share.revoke'
  | 'share.download'
  | 'file.delete'
  | 'admin.people'
  | 'admin.remove-files'
  | 'admin.give-file';

/**
 * A share link's id is its secret: audit lines name a link by this instead, which matches across
 * create, download and revoke lines and gives nothing to open the link with.
 */
export const linkFingerprint = (shareId: string) => createHash('sha256').update(`postbox-share:${shareId}`).digest('hex').slice(0, 16);

/**
 * One audit line: `{ audit: true, person, action, … }` on the request's logger (so it carries the
 * request id and the URL with share ids redacted, request-log.ts). `person` is who acted (the
 * requesting person unless given: null for anyone holding a share link). Never a token or share id.
 */
export function audit(res: Response, action: AuditAction, fields: Record<string, unknown> = {}): void {
  res.req.log.info({ audit: true, person: personOf(res).id, action, ...fields }, `audit ${action}`);
}

/** Middleware after sign-in: a request made with a personal API token is an audit line of its use (its id, never the token). */
export function auditTokenUse(_req: Request, res: Response, next: NextFunction): void {
  const tokenId = viaToken(res)?.tokenId;
  if (tokenId) audit(res, 'token.use', { token: tokenId });
  next();
}
