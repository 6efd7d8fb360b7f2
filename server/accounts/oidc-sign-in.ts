import { personIdOf } from '../people/person.ts';
import * as oidc from 'openid-client';
import type { OidcConfig } from '../config/config.ts';
import type { SessionPerson } from '../sessions/session-token.ts';

/** The exact path the provider returns to, under PUBLIC_URL: operators register `<PUBLIC_URL>/auth/callback`. */
export const CALLBACK_PATH = '/auth/callback';

/** What one sign-in must remember between /auth/login and the callback (kept in a signed cookie, not in memory). */
export interface FlowState {
  verifier: string;
  state: string;
  nonce: string;
}

export type SignInFailure = 'unavailable' | 'provider_unreachable' | 'denied' | 'provider_refused' | 'untrusted_answer' | 'stale';

/** A sign-in that did not work, with a sentence for the person (no provider internals, no stack). */
export class SignInError extends Error {
  constructor(
    readonly kind: SignInFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SignInError';
  }
}

const DISCOVERY_TIMEOUT_SECONDS = 5;
const MAX_CLAIM_CHARS = 200;

const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim().slice(0, MAX_CLAIM_CHARS) : undefined);

/**
 * Sign-in with an OpenID Connect provider through openid-client: discovery, then the authorization
 * code flow with PKCE, state and nonce. Discovery runs on first use and again after a failure, so a
 * provider that is down when Postbox starts only delays sign-in.
 */
export class OidcSignIn {
  private discovering?: Promise<oidc.Configuration>;
  private readonly redirectUri: string;

  constructor(
    private readonly config: OidcConfig,
    publicUrl: string,
  ) {
    this.redirectUri = `${publicUrl}${CALLBACK_PATH}`;
  }

  private configuration(): Promise<oidc.Configuration> {
    this.discovering ??= oidc
      .discovery(new URL(this.config.issuerUrl), this.config.clientId, this.config.clientSecret, undefined, {
        // An http:// issuer is the operator's choice (a provider on the same host, tests).
        execute: this.config.issuerUrl.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
        timeout: DISCOVERY_TIMEOUT_SECONDS,
      })
      .catch((err: unknown) => {
        this.discovering = undefined; // the next sign-in tries again
        throw new SignInError('provider_unreachable', 'The identity provider cannot be reached right now.', { cause: err });
      });
    return this.discovering;
  }

  /** Where to send the browser, and what the callback must check. */
  async start(): Promise<{ url: string; flow: FlowState }> {
    const configuration = await this.configuration();
    const flow = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: this.config.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    return { url: url.href, flow };
  }

  /**
   * Checks the provider's answer (state, code exchange with PKCE, ID token signature, issuer,
   * audience, nonce, times) and says who signed in. `query` is the callback's query string.
   */
  async finish(query: string, flow: FlowState): Promise<SessionPerson> {
    const configuration = await this.configuration();
    const claims: Record<string, unknown> & { iss: string; sub: string } = await oidc
      .authorizationCodeGrant(configuration, new URL(`${this.redirectUri}${query}`), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      })
      .then(async (tokens) => withEmailFromOneSource(await this.userInfo(configuration, tokens), tokens.claims()!))
      .catch((err: unknown) => {
        throw failureOf(err);
      });
    return {
      id: personIdOf(claims.iss, claims.sub),
      email: claims.email_verified === true ? text(claims.email) : undefined,
      name: text(claims.name) ?? text(claims.preferred_username),
    };
  }

  /** Providers may keep e-mail and name out of the ID token (oidc-provider does by default): ask the userinfo endpoint. */
  private async userInfo(configuration: oidc.Configuration, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers) {
    const sub = tokens.claims()?.sub;
    if (!configuration.serverMetadata().userinfo_endpoint || !sub) return {};
    return oidc.fetchUserInfo(configuration, tokens.access_token, sub).catch(() => ({})); // the ID token alone is enough
  }

  /** The provider's end-session URL, when discovery has found one (else undefined, also while it is unreachable). */
  async endSessionUrl(postLogoutRedirect: string): Promise<string | undefined> {
    const configuration = await this.configuration().catch(() => undefined);
    if (!configuration?.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(configuration, { post_logout_redirect_uri: postLogoutRedirect }).href;
  }
}

/** What went wrong, in words a person can act on; the cause stays for the log. */
function failureOf(err: unknown): SignInError {
  if (err instanceof SignInError) return err;
  if (err instanceof oidc.AuthorizationResponseError) {
    if (err.error === 'access_denied')
      return new SignInError('denied', 'Sign-in was cancelled or refused at the identity provider.', { cause: err });
    return new SignInError('provider_refused', `The identity provider refused the sign-in (${err.error}).`, { cause: err });
  }
  if (err instanceof oidc.ResponseBodyError) {
    if (err.error === 'invalid_client') {
      return new SignInError(
        'provider_refused',
        'The identity provider does not accept this Postbox (its client id or secret is wrong): tell whoever runs Postbox.',
        { cause: err },
      );
    }
    if (err.error === 'invalid_grant') return new SignInError('stale', 'This sign-in expired or was already used.', { cause: err });
    return new SignInError('provider_refused', `The identity provider refused the sign-in (${err.error}).`, { cause: err });
  }
  const code = (err as { code?: string }).code;
  if (code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') {
    return new SignInError(
      'untrusted_answer',
      "The identity provider's answer is outside its validity time: a clock (here or there) is wrong.",
      { cause: err },
    );
  }
  if (typeof code === 'string' && code.startsWith('OAUTH_')) {
    return new SignInError(
      'untrusted_answer',
      "The identity provider's answer did not pass Postbox's checks (issuer, audience, nonce, state or signature).",
      { cause: err },
    );
  }
  return new SignInError('provider_unreachable', 'The identity provider cannot be reached right now.', { cause: err });
}

/**
 * The ID token's claims over userinfo's, but `email` and `email_verified` always from one source
 * (the ID token when it has an e-mail): an e-mail from one paired with another's "verified" could
 * make an admin of an address nobody verified.
 */
export function withEmailFromOneSource<T extends Record<string, unknown>>(userinfo: Record<string, unknown>, idToken: T): T {
  const source = idToken.email !== undefined ? idToken : userinfo;
  return { ...userinfo, ...idToken, email: source.email, email_verified: source.email_verified };
}
