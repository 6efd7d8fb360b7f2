import { useId, useState } from 'react';
import { useSignIn } from '../hooks/session.ts';
import { ErrorNotice } from './ErrorNotice.tsx';

export function SignIn({
  passwordEnabled,
  signInUrl,
  providerSignOutUrl,
  sessionEnded,
  onSubmit,
}: {
  passwordEnabled: boolean;
  /** OIDC: where the sign-in button goes (the server's /auth/login, then the identity provider). */
  signInUrl: string | null;
  /** Just signed out of Postbox: the identity provider's own sign-out, to offer. */
  providerSignOutUrl: string | null;
  sessionEnded: boolean;
  onSubmit: () => void;
}) {
  const [password, setPassword] = useState('');
  const signIn = useSignIn();
  const inputId = useId();

  return (
    <section className="card signin">
      <h1 className="card__title">Sign in to Postbox</h1>
      {sessionEnded && (
        <p className="signin__ended" role="status">
          Your session has ended. Sign in again: uploads that were stopped are kept on this page, ready to retry.
        </p>
      )}
      {providerSignOutUrl && (
        <p className="signin__note" role="status">
          You are signed out of Postbox. <a href={providerSignOutUrl}>Sign out of your identity provider too</a>
        </p>
      )}
      {signInUrl ? (
        <div className="signin__form">
          <p className="signin__lead">Sign in with your organisation&apos;s account: each person sees and shares only their own files.</p>
          <a className="button button--primary" href={signInUrl}>
            Sign in
          </a>
        </div>
      ) : passwordEnabled ? (
        <form
          className="signin__form"
          onSubmit={(event) => {
            event.preventDefault();
            onSubmit();
            signIn.mutate(password);
          }}
        >
          <label htmlFor={inputId}>Password</label>
          <input
            id={inputId}
            type="password"
            autoComplete="current-password"
            autoFocus
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
          <button type="submit" className="button button--primary" disabled={signIn.isPending || !password}>
            {signIn.isPending ? 'Signing in…' : 'Sign in'}
          </button>
          {signIn.isError && <ErrorNotice error={signIn.error} />}
        </form>
      ) : (
        <p className="placeholder">This Postbox is used through API tokens only. Ask whoever runs it for access.</p>
      )}
    </section>
  );
}
