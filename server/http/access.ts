import { createHash, createHmac, scryptSync, timingSafeEqual } from 'node:crypto';
import { parse as parseCookies } from 'cookie';
import type { CookieOptions, Request, RequestHandler } from 'express';
import type { Config } from '../config/config.ts';
import { AppError } from '../errors/app-error.ts';
import { clientKey, FixedWindowLimiter } from './rate-limiter.ts';

export const SESSION_COOKIE = 'postbox_session';

const WRONG_TOKENS_PER_MINUTE = 10;

const digest = (value: string) => createHash('sha256').update(value).digest();
const bearerToken = (req: Request) => /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
const sameSecret = (given: string, expected: Buffer) => timingSafeEqual(digest(given), expected);

/**
 * Who may upload, list and delete. Open when no password and no API token is configured; otherwise
 * a request needs a session cookie (from signing in with the password) or `Authorization: Bearer`.
 * Sessions are stateless signed tokens, so every instance behind a load balancer accepts them.
 */
export class Access {
  readonly required: boolean;
  private readonly password?: Buffer;
  private readonly tokens: Buffer[];
  private readonly sessionKey?: Buffer;
  private readonly maxAgeSeconds: number;
  private readonly wrongTokens = new FixedWindowLimiter({ limit: WRONG_TOKENS_PER_MINUTE, windowMs: 60_000 });

  constructor(config: Config['access']) {
    this.required = Boolean(config.password) || config.apiTokens.length > 0;
    this.password = config.password ? digest(config.password) : undefined;
    this.tokens = config.apiTokens.map(digest);
    this.maxAgeSeconds = config.sessionMaxAgeSeconds;
    // Without SESSION_SECRET the key comes from the password through a slow KDF: instances sharing
    // the password accept each other's sessions, changing it signs everyone out, and a stolen
    // cookie is no cheap oracle for guessing the password. With it, the password is mixed in, so
    // that changing the password still signs everyone out.
    if (config.sessionSecret) this.sessionKey = createHmac('sha256', config.sessionSecret).update(config.password ?? '').digest();
    else if (config.password) this.sessionKey = scryptSync(config.password, 'postbox-session-v1', 32);
  }

  get signInEnabled(): boolean {
    return this.sessionKey !== undefined && this.password !== undefined;
  }

  checkPassword(password: string): boolean {
    return this.password !== undefined && sameSecret(password, this.password);
  }

  issueSession(now = Date.now()): { value: string; maxAgeMs: number } {
    const expires = Math.floor(now / 1000) + this.maxAgeSeconds;
    return { value: `v1.${expires}.${this.mac(`v1.${expires}`)}`, maxAgeMs: this.maxAgeSeconds * 1000 };
  }

  /**
   * Whether the request is signed in. A wrong API token counts against its client: one that sent
   * 10 in a minute has its tokens refused uncompared until the minute is over (`retryAfter` says
   * how long), so that a weak token cannot be guessed at the speed of the API. Session cookies are
   * not limited (they are HMACs: nothing to guess), so one client guessing tokens does not lock
   * out people signed in behind the same address.
   */
  check(req: Request): { signedIn: boolean; retryAfter?: number } {
    if (!this.required) return { signedIn: true };
    const bearer = bearerToken(req);
    if (bearer === undefined) return { signedIn: this.validSession(parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE]) };
    const client = clientKey(req.ip);
    const wait = this.wrongTokens.retryAfter(client);
    if (wait > 0) return { signedIn: false, retryAfter: wait };
    const signedIn = this.tokens.some((token) => sameSecret(bearer, token));
    if (!signedIn) this.wrongTokens.hit(client);
    return { signedIn };
  }

  cookieOptions(req: Request): CookieOptions {
    return {
      httpOnly: true,
      sameSite: 'strict',
      // Browsers keep Secure cookies on http://localhost and 127.0.0.1 too; elsewhere plain HTTP needs TLS in front.
      secure: req.secure || ['127.0.0.1', 'localhost', '[::1]'].includes(req.hostname),
      path: '/',
    };
  }

  private validSession(value: string | undefined): boolean {
    if (!value || !this.sessionKey) return false;
    const match = /^v1\.(\d+)\.([0-9a-f]{64})$/.exec(value);
    if (!match) return false;
    const expected = Buffer.from(this.mac(`v1.${match[1]}`), 'hex');
    return timingSafeEqual(Buffer.from(match[2]!, 'hex'), expected) && Number(match[1]) * 1000 > Date.now();
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.sessionKey!).update(payload).digest('hex');
  }

  /** Middleware: 401 unless signed in (or access is open); 429 for a client past its wrong API tokens. */
  readonly requireSignIn: RequestHandler = (req, res, next) => {
    const { signedIn, retryAfter } = this.check(req);
    if (signedIn) return next();
    if (retryAfter !== undefined) {
      res.setHeader('Retry-After', String(retryAfter));
      return next(new AppError('rate_limited', 'Too many wrong API tokens from this client. Wait a minute and try again.'));
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="postbox"');
    next(new AppError('unauthorized', 'Sign in to use Postbox.'));
  };
}
