// The test OpenID provider (server/testing/oidc-provider.ts) as a process, for Playwright's webServer:
// PORT to listen on (127.0.0.1), POSTBOX_URL of the Postbox that signs in with it (client `postbox`).
import { startTestProvider } from '../server/testing/oidc-provider.ts';

const port = Number(process.env.PORT);
const postboxUrl = process.env.POSTBOX_URL;
const clientSecret = process.env.OIDC_CLIENT_SECRET;
if (!port || !postboxUrl || !clientSecret) throw new Error('set PORT, POSTBOX_URL and OIDC_CLIENT_SECRET');
const provider = await startTestProvider(port, [{ clientId: 'postbox', clientSecret, postboxUrl }]);
console.log(`test OpenID provider at ${provider.issuer}`);
