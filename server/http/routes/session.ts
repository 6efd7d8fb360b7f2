import type { Router } from 'express';
import { AppError } from '../../errors/app-error.ts';
import type { Access } from '../access.ts';
import { rateLimited, SESSION_COOKIE, SIGN_IN_PAUSED } from '../access.ts';
import { SignInRequest, type SessionState } from '../../../contract/api.ts';
import { perClientLimit } from '../security.ts';
import { SharedLimits } from '../shared-limits.ts';

export const SIGN_IN_ATTEMPTS_PER_MINUTE = 10;

/** `endSessionUrl`: the provider's end-session URL (OIDC mode), or undefined. */
export function sessionRoutes(
  router: Router,
  access: Access,
  limits = new SharedLimits(),
  endSessionUrl: () => Promise<string | undefined> = () => Promise.resolve(undefined),
): void {
  // Every attempt counts per client; failures count against everyone's budget too (Access). Fails closed.
  const signInAttempts = perClientLimit(SIGN_IN_ATTEMPTS_PER_MINUTE, 'Too many sign-in attempts. Wait a minute and try again.', {
    store: limits.store('sign-in-attempts'),
  });

  router.get('/session', async (req, res) => {
    const verdict = await access.check(req);
    if (verdict.signedIn && verdict.renewed) access.setSessionCookie(req, res, verdict.renewed);
    const oidc = access.mode === 'oidc';
    const person = verdict.signedIn && oidc ? verdict.person : undefined;
    const state: SessionState = {
      authRequired: access.required,
      signInEnabled: access.signInEnabled,
      signedIn: verdict.signedIn,
      mode: access.mode,
      person: person ? { id: person.id, name: person.name, email: person.email } : null,
      signInUrl: oidc ? '/auth/login' : null,
      endSessionUrl: person ? ((await endSessionUrl()) ?? null) : null,
    };
    res.json(state);
  });

  router.post('/session', signInAttempts, async (req, res) => {
    const { password } = SignInRequest.parse(req.body);
    if (!access.signInEnabled) throw new AppError('invalid_request', 'Sign-in with a password is not configured here.');
    const { ok, retryAfter } = await access.checkPassword(password);
    if (retryAfter !== undefined) throw rateLimited(res, retryAfter, SIGN_IN_PAUSED);
    if (!ok) throw new AppError('invalid_credentials', 'That password is not right.');
    access.setSessionCookie(req, res, await access.issueSession());
    res.status(204).end();
  });

  // Ends the session for every instance (a revocation record in the bucket), not only in this browser.
  router.delete('/session', async (req, res) => {
    res.clearCookie(SESSION_COOKIE, access.cookieOptions(req));
    await access.endSession(req);
    res.status(204).end();
  });
}
