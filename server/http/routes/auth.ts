import { parse as parseCookies } from 'cookie';
import { Router, type Request, type Response } from 'express';
import { FLOW_SECONDS, openFlow, sealFlow } from '../../accounts/flow-cookie.ts';
import { CALLBACK_PATH, SignInError, type OidcSignIn, type SignInFailure } from '../../accounts/oidc-sign-in.ts';
import { escapeHtml, layout, PAGE_CSP } from '../../shares/share-pages.ts';
import type { Access } from '../access.ts';

const FLOW_COOKIE = 'postbox_oidc_flow';

const STATUS: Record<SignInFailure, number> = {
  unavailable: 503,
  provider_unreachable: 503,
  denied: 403,
  provider_refused: 502,
  untrusted_answer: 502,
  stale: 400,
};
const TITLE: Record<SignInFailure, string> = {
  unavailable: 'Postbox is unavailable',
  provider_unreachable: 'The identity provider cannot be reached',
  denied: 'Sign-in was cancelled',
  provider_refused: 'The identity provider refused the sign-in',
  untrusted_answer: 'The sign-in could not be checked',
  stale: 'This sign-in has expired',
};

/** A plain page saying what happened, with a link (never a redirect: no loop) to try again. */
function failurePage(failure: SignInError): string {
  return layout(
    TITLE[failure.kind],
    `<div class="status status--gone" aria-hidden="true">!</div>
<h1>${escapeHtml(TITLE[failure.kind])}</h1>
<p class="lead">${escapeHtml(failure.message)}</p>
<form method="get" action="/auth/login"><button type="submit">Try again</button></form>
<p class="fine"><a href="/">Back to Postbox</a></p>`,
  );
}

export interface AuthRouteDeps {
  access: Access;
  signIn: OidcSignIn;
  /** Keys the flow cookies (the per-install secret): any instance finishes a sign-in another began. */
  flowKey: () => Promise<Buffer>;
  now?: () => number;
}

/**
 * OIDC sign-in pages, mounted on the app: GET /auth/login sends the browser to the provider with a
 * signed, short-lived flow cookie (PKCE verifier, state, nonce); GET /auth/callback checks the
 * answer and issues the Postbox session. Every failure is a page with a "try again" link.
 */
export function authRoutes(deps: AuthRouteDeps): Router {
  const now = deps.now ?? Date.now;
  const router = Router();
  const page = (res: Response, status: number, html: string) => {
    res.setHeader('Content-Security-Policy', `${PAGE_CSP}; form-action 'self'`);
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).type('html').send(html);
  };
  const fail = (req: Request, res: Response, err: unknown) => {
    // Anything else: the bucket (keys of flow and session cookies) did not answer.
    const failure =
      err instanceof SignInError ? err : new SignInError('unavailable', 'Postbox cannot reach its storage right now.', { cause: err });
    req.log.warn({ err: failure.cause ?? failure, kind: failure.kind }, 'sign-in failed');
    page(res, STATUS[failure.kind], failurePage(failure));
  };
  // Sent back on the provider's top-level redirect to us (a cross-site navigation): SameSite=Lax, only to the callback.
  const flowCookie = (req: Request) => ({ ...deps.access.cookieOptions(req), sameSite: 'lax' as const, path: CALLBACK_PATH });

  router.get('/auth/login', async (req, res) => {
    try {
      const { url, flow } = await deps.signIn.start();
      res.cookie(FLOW_COOKIE, sealFlow(await deps.flowKey(), flow, now()), { ...flowCookie(req), maxAge: FLOW_SECONDS * 1000 });
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, url);
    } catch (err) {
      fail(req, res, err);
    }
  });

  router.get(CALLBACK_PATH, async (req, res) => {
    try {
      res.clearCookie(FLOW_COOKIE, flowCookie(req)); // one answer per sign-in
      const flow = openFlow(await deps.flowKey(), parseCookies(req.headers.cookie ?? '')[FLOW_COOKIE], now());
      if (flow === 'missing' || flow === 'expired') {
        const why =
          flow === 'expired' ? 'The sign-in took longer than 10 minutes.' : 'This answer belongs to no sign-in begun in this browser.';
        throw new SignInError('stale', `${why} Start again from Postbox.`);
      }
      const at = req.originalUrl.indexOf('?');
      const person = await deps.signIn.finish(at < 0 ? '' : req.originalUrl.slice(at), flow);
      deps.access.setSessionCookie(req, res, await deps.access.issueSession(person));
      req.log.info({ person: person.id }, 'signed in');
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(303, '/');
    } catch (err) {
      fail(req, res, err);
    }
  });

  return router;
}
