import type { Router } from 'express';
import { AppError } from '../../errors/app-error.ts';
import type { ApiTokens } from '../../people/api-tokens.ts';
import { TokenRequest, type CreatedToken, type TokenList } from '../../../contract/api.ts';
import { viaToken } from '../access.ts';
import { audit } from '../audit.ts';
import { personOf } from '../upload-key.ts';

/**
 * The requesting person's API tokens: create (from a signed-in browser only: a leaked token must
 * not breed more), list, revoke. The token is in the create answer and nowhere else.
 */
export function tokenRoutes(router: Router, tokens: ApiTokens): void {
  router.post('/tokens', async (req, res) => {
    const { name } = TokenRequest.parse(req.body);
    if (viaToken(res)) throw new AppError('forbidden', 'API tokens are made from the Postbox page, not with another token.');
    const created: CreatedToken = await tokens.create(personOf(res), name);
    audit(res, 'token.create', { token: created.id });
    res.status(201).json(created);
  });

  router.get('/tokens', async (_req, res) => {
    const list: TokenList = { tokens: await tokens.list(personOf(res)) };
    res.json(list);
  });

  router.delete('/tokens/:id', async (req, res) => {
    const revoked = await tokens.revoke(personOf(res), req.params.id);
    if (!revoked) throw new AppError('not_found', 'There is no such API token.');
    audit(res, 'token.revoke', { token: revoked.id });
    res.status(204).end();
  });
}
