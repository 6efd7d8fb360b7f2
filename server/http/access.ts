import { createHash, createHmac, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { parse as parseCookies } from 'cookie';
import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import type { Config } from '../config/config.ts';
import { AppError } from '../errors/app-error.ts';
import type { InstallSecret } from '../secrets/install-secret.ts';
import {
  isLive,
  looksLikeSession,
  newSessionId,
  readSession,
  signSession,
  type SessionClaims,
  type SessionPerson,
} from '../sessions/session-token.ts';
import { LOCAL_PERSON, spaceFor, type Person } from '../people/person.ts';
import { type Budget, clientOf, type SignInFailures } from './rate-limiter.ts';
import { type Revocations, SharedLimits } from './shared-limits.ts';
import type { ApiTokens } from '../people/api-tokens.ts';
import { adminMatcher } from '../people/admins.ts';
import { setPerson } from './upload-key.ts';

export const SESSION_COOKIE = 'postbox_session';

const WRONG_TOKENS_PER_MINUTE = 10;
/** How long another instance may still accept a signed-out cookie (its cache of "not revoked"). */
export const REVOCATION_CACHE_MS = 2000;

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const digest = (value: string) => createHash('sha256').update(value).digest();
const bearerToken = (req: Request) => /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
const sameSecret = (given: string, expected: Buffer) => timingSafeEqual(digest(given), expected);

export interface IssuedSession {
  value: string;
  maxAgeMs: number;
}

/** open: no sign-in, one local person; password: one local person behind a password; oidc: many people, each their own files. */
export type AccessMode = 'open' | 'password' | 'oidc';

/** The Person a signed OIDC session is for: their own space; an admin when POSTBOX_ADMINS names them. */
export const personOfSession = (p: SessionPerson, isAdmin: (p: SessionPerson) => boolean = () => false): Person => ({
  id: p.id,
  space: spaceFor(p.id),
  admin: isAdmin(p),
  email: p.email,
  name: p.name,
});

/**
 * Signed in as a person (maybe with a re-issued cookie to send; `tokenId` when by a personal API
 * token), or not (maybe told to wait `retryAfter` seconds first).
 */
export type Verdict =
  | { signedIn: true; person: Person; renewed?: IssuedSession; viaToken?: boolean; tokenId?: string }
  | { signedIn: false; retryAfter?: number; why?: string };

export interface AccessDeps {
  /** Keys the session cookies when SESSION_SECRET is not set. */
  installSecret: Pick<InstallSecret, 'key'>;
  /** Where revocation records are kept. */
  storage: { client: S3Client; bucket: string };
  /** https: session cookies are Secure even when the TLS proxy in front is not trusted (TRUST_PROXY). */
  publicUrl?: string;
  /** Where budgets and revocations are kept (Redis with REDIS_URL); memory and the bucket when absent. */
  limits?: SharedLimits;
  /** OIDC sign-in: sessions carry a person; their key is bound to the issuer and client, so changing them ends every session. */
  accounts?: { issuerUrl: string; clientId: string };
  /** POSTBOX_ADMINS: verified e-mails or `issuer|sub` (OIDC sessions are checked against it on every request). */
  admins?: readonly string[];
  /** Personal API tokens (server/people/api-tokens.ts): a bearer token found there is its person. */
  personalTokens?: Pick<ApiTokens, 'lookup'>;
  now?: () => number;
}

const PAUSED = 'Too many failed sign-ins on this Postbox: sign-in is paused for everyone. Wait and try again.';
const WRONG_TOKENS = 'Too many wrong API tokens from this client. Wait a minute and try again.';

/**
 * Who may upload, list and delete. Open when no password and no API token is configured; otherwise
 * a request needs a session cookie (from signing in with the password) or `Authorization: Bearer`.
 * Session cookies are signed (every instance with the same key accepts them) and end at the first
 * of: their absolute end, their idle end (re-issued on use), sign-out (a revocation record in the
 * bucket), a changed password or key.
 */
export class Access {
  readonly required: boolean;
  readonly mode: AccessMode;
  private readonly password?: Buffer;
  private readonly tokens: Buffer[];
  private keyLoading?: Promise<Buffer>;
  private readonly revocations: Revocations;
  private readonly wrongTokens: Budget;
  private readonly failures: SignInFailures;
  private readonly isAdmin: (person: SessionPerson) => boolean;

  constructor(
    private readonly config: Config['access'],
    private readonly deps: AccessDeps,
  ) {
    this.mode = deps.accounts ? 'oidc' : config.password ? 'password' : 'open';
    this.required = this.mode !== 'open' || config.apiTokens.length > 0;
    this.password = config.password ? digest(config.password) : undefined;
    this.tokens = config.apiTokens.map(digest);
    this.isAdmin = adminMatcher(deps.admins ?? []);
    const limits = deps.limits ?? new SharedLimits();
    this.wrongTokens = limits.budget('wrong-tokens', WRONG_TOKENS_PER_MINUTE, 60_000);
    this.failures = limits.failedSignIns(config.failedSignInsPerMinute, deps.now);
    this.revocations = limits.revocations(deps.storage, {
      cacheMs: REVOCATION_CACHE_MS,
      maxAgeSeconds: config.sessionMaxAgeSeconds,
      now: deps.now,
    });
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** Whether there is a password to sign in with (the password mode). */
  get signInEnabled(): boolean {
    return this.password !== undefined;
  }

  /** Whether session cookies are issued and read: the password and OIDC modes. */
  private get sessionsEnabled(): boolean {
    return this.mode !== 'open';
  }

  /**
   * Compares the password unless sign-in is paused for everyone (too many failures across all
   * clients: `retryAfter`, nothing compared). A wrong one counts against that budget.
   */
  async checkPassword(password: string): Promise<{ ok: boolean; retryAfter?: number }> {
    if (!this.password) return { ok: false };
    const paused = await this.failures.retryAfter();
    if (paused > 0) return { ok: false, retryAfter: paused };
    const ok = sameSecret(password, this.password);
    if (!ok) await this.failures.fail();
    return { ok };
  }

  /** A new session: for the local person after the password, for `person` after OIDC sign-in. */
  async issueSession(person?: SessionPerson): Promise<IssuedSession> {
    const now = Math.floor(this.now() / 1000);
    const expiresAt = now + this.config.sessionMaxAgeSeconds;
    const claims = { id: newSessionId(), expiresAt, idleUntil: Math.min(now + this.config.sessionIdleSeconds, expiresAt), person };
    return { value: signSession(await this.sessionKey(), claims), maxAgeMs: this.config.sessionMaxAgeSeconds * 1000 };
  }

  /** Whether the request is signed in: by bearer token when it sends one, else by session cookie. */
  async check(req: Request): Promise<Verdict> {
    const bearer = bearerToken(req);
    // Open: everyone is the local person, and a personal token says who else it is.
    if (!this.required) return (bearer !== undefined && (await this.personalToken(bearer))) || { signedIn: true, person: LOCAL_PERSON };
    return bearer === undefined ? this.checkCookie(req) : this.checkToken(req, bearer);
  }

  /**
   * A wrong API token counts against its client: one that sent 10 in a minute has its tokens
   * refused uncompared until the minute is over, so that a weak token cannot be guessed at the
   * speed of the API; and against everyone's failed sign-in budget. Session cookies are not limited
   * (they are HMACs: nothing to guess), so guessing does not lock out people already signed in.
   */
  private async checkToken(req: Request, bearer: string): Promise<Verdict> {
    const client = clientOf(req);
    const wait = await this.wrongTokens.retryAfter(client);
    if (wait > 0) return { signedIn: false, retryAfter: wait, why: WRONG_TOKENS };
    const paused = await this.failures.retryAfter();
    if (paused > 0) return { signedIn: false, retryAfter: paused, why: PAUSED };
    // Global API tokens exist only in the single-person modes (config refuses them with OIDC).
    if (this.tokens.some((token) => sameSecret(bearer, token))) return { signedIn: true, person: LOCAL_PERSON, viaToken: true };
    const personal = await this.personalToken(bearer);
    if (personal) return personal;
    await Promise.all([this.wrongTokens.fail(client), this.failures.fail()]);
    return { signedIn: false };
  }

  private async personalToken(bearer: string): Promise<Verdict | undefined> {
    const found = await this.deps.personalTokens?.lookup(bearer);
    // A token the local person made before accounts were switched on names no one now: with OIDC the
    // local person (admin of its own Postbox, owner of every file from before) is no one's to act as.
    if (!found || (this.mode === 'oidc' && found.person.id === LOCAL_PERSON.id)) return undefined;
    return { signedIn: true, person: found.person, viaToken: true, tokenId: found.tokenId };
  }

  private async checkCookie(req: Request): Promise<Verdict> {
    const claims = await this.liveSession(req);
    if (!claims || (await this.revocations.isRevoked(claims.id))) return { signedIn: false };
    const person = claims.person ? personOfSession(claims.person, this.isAdmin) : LOCAL_PERSON;
    return { signedIn: true, person, renewed: await this.renewal(claims) };
  }

  /** The request's session cookie, when its MAC is right and it has not ended by time. */
  private async liveSession(req: Request): Promise<SessionClaims | undefined> {
    const value = parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];
    if (!this.sessionsEnabled || !looksLikeSession(value)) return undefined;
    const claims = readSession(await this.sessionKey(), value);
    // A session is for a person exactly in the OIDC mode (the keys differ too).
    if (!claims || Boolean(claims.person) !== (this.mode === 'oidc')) return undefined;
    return isLive(claims, this.now()) ? claims : undefined;
  }

  /**
   * The cookie again with its idle end pushed forward, at most once a minute (not on every request);
   * it keeps its id and absolute end.
   */
  private async renewal(claims: SessionClaims): Promise<IssuedSession | undefined> {
    const idle = this.config.sessionIdleSeconds;
    const now = Math.floor(this.now() / 1000);
    if (claims.idleUntil >= claims.expiresAt || claims.idleUntil - now > idle - Math.min(60, idle / 2)) return undefined;
    const renewed = { ...claims, idleUntil: Math.min(now + idle, claims.expiresAt) };
    return { value: signSession(await this.sessionKey(), renewed), maxAgeMs: (claims.expiresAt - now) * 1000 };
  }

  /** Sign-out: the session is recorded as ended in the bucket, for every instance. */
  async endSession(req: Request): Promise<void> {
    const claims = await this.liveSession(req);
    if (claims) await this.revocations.revoke(claims.id);
  }

  /**
   * With SESSION_SECRET: HMAC of the password under it. Without: scrypt of the password salted with
   * the per-install key from the bucket, so that every instance of this install shares it, another
   * install does not, and a stolen cookie is no cheap oracle for the password. Either way the
   * password is in it: changing the password ends every session.
   */
  private sessionKey(): Promise<Buffer> {
    this.keyLoading ??= this.deriveSessionKey().catch((err: unknown) => {
      this.keyLoading = undefined; // storage down: the next request tries again
      throw err;
    });
    return this.keyLoading;
  }

  private async deriveSessionKey(): Promise<Buffer> {
    const accounts = this.deps.accounts;
    const password = accounts ? `oidc\n${accounts.issuerUrl}\n${accounts.clientId}` : (this.config.password ?? '');
    if (this.config.sessionSecret) return createHmac('sha256', this.config.sessionSecret).update(password).digest();
    return scryptAsync(password, await this.deps.installSecret.key('session'), 32);
  }

  cookieOptions(req: Request): CookieOptions {
    return {
      httpOnly: true,
      sameSite: 'strict',
      // Secure when the page is https (the request, or PUBLIC_URL behind a TLS proxy that is not
      // trusted); browsers keep Secure cookies on http://localhost and 127.0.0.1 too.
      secure: req.secure || this.deps.publicUrl?.startsWith('https:') || ['127.0.0.1', 'localhost', '[::1]'].includes(req.hostname),
      path: '/',
    };
  }

  setSessionCookie(req: Request, res: Response, session: IssuedSession): void {
    res.cookie(SESSION_COOKIE, session.value, { ...this.cookieOptions(req), maxAge: session.maxAgeMs });
  }

  /** Middleware: 401 unless signed in (or access is open); 429 while tokens are refused uncompared. */
  readonly requireSignIn: RequestHandler = async (req, res, next) => {
    const verdict = await this.check(req);
    if (verdict.signedIn) {
      if (verdict.renewed) this.setSessionCookie(req, res, verdict.renewed);
      setPerson(res, verdict.person);
      if (verdict.viaToken) markViaToken(res, verdict.tokenId);
      return next();
    }
    if (verdict.retryAfter !== undefined) return next(rateLimited(res, verdict.retryAfter, verdict.why ?? PAUSED));
    res.setHeader('WWW-Authenticate', 'Bearer realm="postbox"');
    next(new AppError('unauthorized', 'Sign in to use Postbox.'));
  };
}

/** Whether the request signed in with an API token (not a browser session), and which personal token. */
export function viaToken(res: Response): { tokenId?: string } | undefined {
  return (res.locals as { viaToken?: { tokenId?: string } }).viaToken;
}

function markViaToken(res: Response, tokenId: string | undefined): void {
  (res.locals as { viaToken?: { tokenId?: string } }).viaToken = { tokenId };
}

/** A 429 with its Retry-After. */
export function rateLimited(res: Response, retryAfterSeconds: number, message: string): AppError {
  res.setHeader('Retry-After', String(retryAfterSeconds));
  return new AppError('rate_limited', message);
}

export const SIGN_IN_PAUSED = PAUSED;
