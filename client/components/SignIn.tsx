import { useId, useState } from 'react';
import { useSignIn } from '../hooks/session.ts';
import { ErrorNotice } from './ErrorNotice.tsx';

export function SignIn({ passwordEnabled, sessionEnded, onSubmit }: { passwordEnabled: boolean; sessionEnded: boolean; onSubmit: () => void }) {
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
      {passwordEnabled ? (
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
