import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

/** A person the test provider knows: their login is their `sub`; any password is accepted (devInteractions). */
export interface TestPerson {
  sub: string;
  email: string;
  name: string;
}

export const TEST_PEOPLE: TestPerson[] = [
  { sub: 'alice', email: 'alice@example.test', name: 'Alice Example' },
  { sub: 'bob', email: 'bob@example.test', name: 'Bob Example' },
];

export interface TestClient {
  clientId: string;
  clientSecret: string;
  /** Where Postbox runs: redirect URI `<url>/auth/callback`, post-logout `<url>/`. */
  postboxUrl: string;
}

export interface TestProvider {
  issuer: string;
  /** Answers a request instead of the provider while set (e.g. a token response for another audience). */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
  stop(): Promise<void>;
}

/**
 * oidc-provider (a certified OpenID Provider) on 127.0.0.1:`port`, with its own login page
 * (devInteractions), the people above, and a confidential client per `clients`. The first party
 * clients need no consent screen: a grant for their scopes is made at first sign-in.
 */
export async function startTestProvider(port: number, clients: TestClient[], people = TEST_PEOPLE): Promise<TestProvider> {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: [`${client.postboxUrl}/auth/callback`],
      post_logout_redirect_uris: [`${client.postboxUrl}/`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    findAccount(_ctx, id) {
      const person = people.find((p) => p.sub === id);
      if (!person) return Promise.resolve(undefined);
      return Promise.resolve({ accountId: id, claims: () => ({ sub: id, email: person.email, email_verified: true, name: person.name }) });
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    scopes: ['openid', 'email', 'profile'],
    pkce: { required: () => true },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    cookies: { keys: ['postbox-test-provider-cookie-key'] },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  const handle = provider.callback();
  const running: TestProvider = {
    issuer,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    if (running.intercept?.(req, res)) return;
    void handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return running;
}

/** Cookies by origin, as a browser keeps them (enough for these flows: no paths, no expiry but deletion). */
export class CookieJar {
  private readonly jars = new Map<string, Map<string, string>>();

  header(url: string): string {
    return [...(this.jars.get(new URL(url).origin) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** Forgets an origin's cookies (a session there that expired). */
  forget(url: string): void {
    this.jars.delete(new URL(url).origin);
  }

  get(url: string, name: string): string | undefined {
    return this.jars.get(new URL(url).origin)?.get(name);
  }

  keep(url: string, response: Response): void {
    const origin = new URL(url).origin;
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    this.jars.set(origin, jar);
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0\b/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
  }
}

/** One request with the jar's cookies, not following redirects. */
export async function visit(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as object), cookie: jar.header(url) } });
  jar.keep(url, response);
  return response;
}

/** Follows redirects from `url` until a page (not a redirect) answers, or one to `stopAt…`; at most 10. */
export async function follow(jar: CookieJar, url: string, stopAt?: string): Promise<{ url: string; response: Response }> {
  let at = url;
  for (let hop = 0; hop < 10; hop++) {
    if (stopAt && at.startsWith(stopAt)) return { url: at, response: new Response(null) };
    const response = await visit(jar, at);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return { url: at, response };
    await response.body?.cancel();
    at = new URL(location, at).href;
  }
  throw new Error(`more than 10 redirects from ${url}`);
}

/** Fills in the provider's login page (already loaded) as `login`, and follows where it leads. */
export async function submitLogin(jar: CookieJar, page: { url: string; response: Response }, login: string, stopAt?: string) {
  const html = await page.response.text();
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action || !html.includes('name="login"')) throw new Error(`not the provider's login page: ${page.url}\n${html.slice(0, 500)}`);
  const target = new URL(action.replace(/&amp;/g, '&'), page.url).href;
  const posted = await visit(jar, target, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ prompt: 'login', login, password: 'any password' }).toString(),
  });
  return follow(jar, new URL(posted.headers.get('location') ?? target, target).href, stopAt);
}

/**
 * Signs `login` in to Postbox at `postboxUrl` through the provider's own login page; answers the
 * last page reached (Postbox's `/` after a good sign-in) and the jar with the session cookie.
 */
export async function signInThroughProvider(postboxUrl: string, login: string, jar = new CookieJar()) {
  const loginPage = await follow(jar, `${postboxUrl}/auth/login`);
  if (new URL(loginPage.url).origin === postboxUrl) return { jar, ...loginPage }; // a Postbox page: an error, or a session already there
  return { jar, ...(await submitLogin(jar, loginPage, login)) };
}
