import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import {
  SHARE_MAX_DOWNLOADS,
  SHARE_NOTE_MAX_CHARS,
  SHARE_PASSWORD_MAX_CHARS,
  SHARE_PASSWORD_MIN_CHARS,
  type ShareLink,
  type ShareRequest,
  type StoredFile,
} from '../../contract/api.ts';
import { useCreateShare, useRevokeShare, useShares } from '../hooks/shares.ts';
import { CopyableUrl } from './CopyableUrl.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { QrCode } from './QrCode.tsx';
import { dateTime } from './dates.ts';

const DAY = 24 * 3600;
const EXPIRY_CHOICES: { value: string; label: string }[] = [
  { value: String(3600), label: '1 hour' },
  { value: String(DAY), label: '1 day' },
  { value: String(7 * DAY), label: '7 days' },
  { value: String(30 * DAY), label: '30 days' },
  { value: String(90 * DAY), label: '90 days' },
  { value: String(365 * DAY), label: '1 year' },
  { value: 'never', label: 'Never' },
];
const DEFAULT_EXPIRY = String(30 * DAY);

const count = (n: number, one: string, many: string) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

function CreateShareForm({ file, onCreated, onCancel }: { file: StoredFile; onCreated: (link: ShareLink) => void; onCancel: () => void }) {
  const createShare = useCreateShare(file.key);
  return (
    <ShareOptionsForm
      label={`New share link for ${file.name}`}
      create={(request) => createShare.mutate(request, { onSuccess: onCreated })}
      pending={createShare.isPending}
      error={createShare.isError ? createShare.error : undefined}
      onCancel={onCancel}
    />
  );
}

/** A share link's options (expiry, download limit, password, note), for one file or a bundle. */
export function ShareOptionsForm({
  label,
  create,
  pending,
  error,
  onCancel,
}: {
  label: string;
  create: (request: ShareRequest) => void;
  pending: boolean;
  error: Error | undefined;
  onCancel: () => void;
}) {
  const [expiry, setExpiry] = useState(DEFAULT_EXPIRY);
  const [password, setPassword] = useState('');
  const [maxDownloads, setMaxDownloads] = useState('');
  const [note, setNote] = useState('');
  const id = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const request: ShareRequest = { expiresIn: expiry === 'never' ? null : Number(expiry) };
    if (password) request.password = password;
    if (maxDownloads) request.maxDownloads = Number(maxDownloads);
    if (note.trim()) request.note = note;
    create(request);
  };

  return (
    <form className="links__form" onSubmit={submit} aria-label={label}>
      <div className="field">
        <label htmlFor={`${id}-expiry`}>Expires after</label>
        <select id={`${id}-expiry`} value={expiry} onChange={(event) => setExpiry(event.target.value)}>
          {EXPIRY_CHOICES.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-max`}>Download limit</label>
        <input
          id={`${id}-max`}
          type="number"
          inputMode="numeric"
          min={1}
          max={SHARE_MAX_DOWNLOADS}
          step={1}
          placeholder="No limit"
          value={maxDownloads}
          onChange={(event) => setMaxDownloads(event.target.value)}
        />
      </div>
      <div className="field field--wide">
        <label htmlFor={`${id}-password`}>Password</label>
        <input
          id={`${id}-password`}
          type="password"
          autoComplete="new-password"
          minLength={SHARE_PASSWORD_MIN_CHARS}
          maxLength={SHARE_PASSWORD_MAX_CHARS}
          placeholder="Optional"
          aria-describedby={`${id}-password-hint`}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <span className="field__hint" id={`${id}-password-hint`}>
          At least {SHARE_PASSWORD_MIN_CHARS} characters. Send it separately from the link.
        </span>
      </div>
      <div className="field field--wide">
        <label htmlFor={`${id}-note`}>Note for the recipient</label>
        <textarea
          id={`${id}-note`}
          rows={2}
          maxLength={SHARE_NOTE_MAX_CHARS}
          placeholder="Optional, shown on the download page"
          aria-describedby={`${id}-note-hint`}
          value={note}
          onChange={(event) => setNote(event.target.value)}
        />
        <span className="field__hint" id={`${id}-note-hint`}>
          {note.length} / {SHARE_NOTE_MAX_CHARS}
        </span>
      </div>
      <div className="links__form-actions">
        <button type="submit" className="button button--primary" disabled={pending}>
          {pending ? 'Creating…' : 'Create share link'}
        </button>
        <button type="button" className="button button--quiet" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {error && <ErrorNotice error={error} />}
    </form>
  );
}

function stateBadge(link: ShareLink) {
  if (link.state === 'expired') return <span className="badge badge--off">Expired</span>;
  if (link.state === 'exhausted') return <span className="badge badge--off">Used up</span>;
  return <span className="badge badge--on">Active</span>;
}

function ShareLinkItem({ link, file, isNew }: { link: ShareLink; file: StoredFile; isNew: boolean }) {
  const [confirming, setConfirming] = useState(false);
  const [showQr, setShowQr] = useState(false);
  const revoke = useRevokeShare(file.key);
  const urlField = useRef<HTMLInputElement>(null);
  const revokeButton = useRef<HTMLButtonElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (isNew) urlField.current?.focus();
  }, [isNew]);
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);

  const active = link.state === 'active';
  const downloads =
    link.maxDownloads === null
      ? count(link.downloads, 'download', 'downloads')
      : `${link.downloads.toLocaleString()} of ${count(link.maxDownloads, 'download', 'downloads')}`;
  const expiry =
    link.expiresAt === null
      ? 'Never expires'
      : `${link.state === 'expired' ? 'Expired' : 'Expires'} ${dateTime.format(new Date(link.expiresAt))}`;

  return (
    <li className={`link${isNew ? ' link--new' : ''}${link.state === 'active' ? '' : ' link--off'}`} data-testid="share-link">
      <div className="link__row">
        <CopyableUrl
          url={link.url}
          label={`Share link for ${file.name}`}
          copyText="Copy"
          buttonLabels={{ copy: 'Copy share link', copied: 'Share link copied' }}
          fieldRef={urlField}
        />
      </div>
      <div className="link__meta">
        {stateBadge(link)}
        <span>Created {dateTime.format(new Date(link.createdAt))}</span>
        <span data-testid="share-downloads">{downloads}</span>
        <span>{expiry}</span>
        {link.hasPassword && <span className="badge">Password</span>}
        {(link.fileCount ?? 1) > 1 && <span className="badge">Bundle of {link.fileCount} files</span>}
        <button type="button" className="button button--quiet button--small" aria-expanded={showQr} onClick={() => setShowQr(!showQr)}>
          {showQr ? 'Hide QR code' : 'QR code'}
        </button>
      </div>
      {showQr && <QrCode url={link.url} />}
      {link.note && <p className="link__note">{link.note}</p>}
      {confirming ? (
        <div className="link__confirm" role="group" aria-label={active ? 'Revoke this link?' : 'Remove this link?'}>
          <p>
            {active
              ? 'Revoke this link? Anyone who opens it will see that it was turned off. This cannot be undone.'
              : 'Remove this link from the list? It no longer works either way; anyone who opens it will see that it was turned off.'}
          </p>
          <div className="link__confirm-actions">
            <button
              ref={confirmButton}
              type="button"
              className="button button--danger"
              disabled={revoke.isPending}
              onClick={() => revoke.mutate(link.id)}
            >
              {revoke.isPending ? (active ? 'Revoking…' : 'Removing…') : active ? 'Revoke link' : 'Remove link'}
            </button>
            <button
              type="button"
              className="button"
              onClick={() => {
                setConfirming(false);
                requestAnimationFrame(() => revokeButton.current?.focus());
              }}
            >
              Keep it
            </button>
          </div>
          {revoke.isError && <ErrorNotice error={revoke.error} />}
        </div>
      ) : (
        <button ref={revokeButton} type="button" className="button button--quiet link__revoke" onClick={() => setConfirming(true)}>
          {active ? 'Revoke' : 'Remove'}
        </button>
      )}
    </li>
  );
}

/**
 * Share links of one file: Postbox URLs (/s/<id>) that last as long as the owner chooses, can ask
 * for a password, count downloads and can be revoked. Shown next to the quick presigned link.
 */
export function ShareLinks({ file }: { file: StoredFile }) {
  const shares = useShares(file.key);
  const [creating, setCreating] = useState(false);
  const [newId, setNewId] = useState<string>();
  const newButton = useRef<HTMLButtonElement>(null);
  const headingId = useId();

  const links = shares.data?.shares ?? [];
  return (
    <section className="links" aria-labelledby={headingId}>
      <div className="links__header">
        <div>
          <h3 className="links__title" id={headingId}>
            Share links
          </h3>
          <p className="links__hint">
            A Postbox link that lasts as long as you choose, can ask for a password, and can be revoked at any time.
          </p>
        </div>
        {!creating && (
          <button ref={newButton} type="button" className="button" onClick={() => setCreating(true)}>
            New share link
          </button>
        )}
      </div>
      {creating && (
        <CreateShareForm
          file={file}
          onCreated={(link) => {
            setCreating(false);
            setNewId(link.id);
          }}
          onCancel={() => {
            setCreating(false);
            requestAnimationFrame(() => newButton.current?.focus());
          }}
        />
      )}
      {shares.isPending ? (
        <p className="placeholder">Loading share links…</p>
      ) : shares.isError && !shares.data ? (
        <ErrorNotice error={shares.error} onRetry={() => shares.refetch()} />
      ) : links.length === 0 ? (
        !creating && <p className="placeholder links__empty">No share links yet.</p>
      ) : (
        <ul className="links__list" aria-label={`Share links for ${file.name}`}>
          {links.map((link) => (
            <ShareLinkItem key={link.id} link={link} file={file} isNew={link.id === newId} />
          ))}
        </ul>
      )}
    </section>
  );
}
