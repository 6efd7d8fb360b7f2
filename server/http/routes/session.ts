import type { Router } from 'express';
import { AppError } from '../../errors/app-error.ts';
import type { Access } from '../access.ts';
import { SESSION_COOKIE } from '../access.ts';
import { SignInRequest, type SessionState } from '../../../contract/api.ts';
import { perClientLimit } from '../security.ts';

export function sessionRoutes(router: Router, access: Access): void {
  const signInAttempts = perClientLimit(10, 'Too many sign-in attempts. Wait a minute and try again.');

  router.get('/session', (req, res) => {
    const state: SessionState = { authRequired: access.required, signInEnabled: access.signInEnabled, signedIn: access.check(req).signedIn };
    res.json(state);
  });

  router.post('/session', signInAttempts, (req, res) => {
    const { password } = SignInRequest.parse(req.body);
    if (!access.signInEnabled) throw new AppError('invalid_request', 'Sign-in with a password is not configured here.');
    if (!access.checkPassword(password)) throw new AppError('invalid_credentials', 'That password is not right.');
    const session = access.issueSession();
    res.cookie(SESSION_COOKIE, session.value, { ...access.cookieOptions(req), maxAge: session.maxAgeMs });
    res.status(204).end();
  });

  router.delete('/session', (req, res) => {
    res.clearCookie(SESSION_COOKIE, access.cookieOptions(req));
    res.status(204).end();
  });
}
