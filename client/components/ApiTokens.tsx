import { useState, type FormEvent } from 'react';
import { TOKEN_NAME_MAX_CHARS, type CreatedToken } from '../../contract/api.ts';
import { useCreateToken, useRevokeToken, useTokens } from '../hooks/accounts.ts';
import { CopyableUrl } from './CopyableUrl.tsx';
import { dateTime } from './dates.ts';
import { ErrorNotice } from './ErrorNotice.tsx';

/** The token just made: shown once, here, until the panel is left. */
function NewToken({ created }: { created: CreatedToken }) {
  return (
    <div className="notice" role="status">
      <p>Copy the token for “{created.name}” now: Postbox keeps only its hash and will not show it again.</p>
      <div className="tokens__new">
        <CopyableUrl key={created.token} url={created.token} label={`API token ${created.name}`} copyText="Copy token" />
      </div>
    </div>
  );
}

/** Personal API tokens: scripts send one as `Authorization: Bearer <token>` and act as this person. */
export function ApiTokens() {
  const tokens = useTokens();
  const create = useCreateToken();
  const revoke = useRevokeToken();
  const [name, setName] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(name.trim(), { onSuccess: () => setName('') });
  };
  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 className="card__title" id="tokens-title">
        API tokens
      </h2>
      <p className="card__intro">
        For scripts: send a token as “Authorization: Bearer …”. It can upload, list, share and delete your files.
      </p>
      <form className="tokens__form" onSubmit={submit}>
        <div className="field">
          <label htmlFor="token-name">Name</label>
          <input
            id="token-name"
            value={name}
            maxLength={TOKEN_NAME_MAX_CHARS}
            required
            placeholder="backup script"
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <button type="submit" className="button button--primary" disabled={create.isPending || !name.trim()}>
          Create token
        </button>
      </form>
      {create.data && <NewToken created={create.data} />}
      {create.isError && <ErrorNotice error={create.error} />}
      {revoke.isError && <ErrorNotice error={revoke.error} />}
      {tokens.isError ? (
        <ErrorNotice error={tokens.error} onRetry={() => tokens.refetch()} quiet />
      ) : tokens.data?.tokens.length === 0 ? (
        <p className="links__empty">No tokens yet.</p>
      ) : (
        <ul className="links__list" aria-label="Your API tokens">
          {tokens.data?.tokens.map((token) => (
            <li key={token.id} className="tokens__item">
              <span>
                <strong>{token.name}</strong> <span className="field__hint">made {dateTime.format(new Date(token.createdAt))}</span>
              </span>
              <button
                type="button"
                className="button"
                onClick={() => {
                  if (create.data?.id === token.id) create.reset(); // a revoked token is not worth copying
                  revoke.mutate(token.id);
                }}
                disabled={revoke.isPending}
                aria-label={`Revoke ${token.name}`}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
