import { useState, type FormEvent } from 'react';
import { MiB, formatBytes, type CreateFileRequest, type FileRequestLink } from '../../contract/api.ts';
import { useCloseFileRequest, useCreateFileRequest, useFileRequests } from '../hooks/requests.ts';
import { CopyableUrl } from './CopyableUrl.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';
import { QrCode } from './QrCode.tsx';
import { dateTime } from './dates.ts';

const EXPIRIES: [label: string, seconds: number | null][] = [
  ['1 hour', 3600],
  ['1 day', 24 * 3600],
  ['7 days', 7 * 24 * 3600],
  ['30 days', 30 * 24 * 3600],
  ['1 year', 365 * 24 * 3600],
  ['Never', null],
];

const STATE_WORDS: Record<FileRequestLink['state'], string> = { open: 'Open', full: 'Full', expired: 'Expired', closed: 'Closed' };

function CreateForm() {
  const create = useCreateFileRequest();
  const [note, setNote] = useState('');
  const [expiry, setExpiry] = useState(2);
  const [maxFiles, setMaxFiles] = useState('10');
  const [maxMiB, setMaxMiB] = useState('');
  const [types, setTypes] = useState('');
  const [password, setPassword] = useState('');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const request: CreateFileRequest = {
      expiresIn: EXPIRIES[expiry]![1],
      note: note.trim() || undefined,
      maxFiles: Number(maxFiles) || undefined,
      maxFileBytes: maxMiB ? Math.round(Number(maxMiB) * MiB) : undefined,
      allowedTypes: types.trim()
        ? types
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
        : undefined,
      password: password || undefined,
    };
    create.mutate(request, { onSuccess: () => setNote('') });
  };

  return (
    <form className="request-form" onSubmit={submit} aria-label="New request link">
      <label className="request-form__wide">
        What you ask for
        <textarea
          value={note}
          maxLength={1000}
          rows={2}
          onChange={(e) => setNote(e.target.value)}
          placeholder="Please send the signed contract"
        />
      </label>
      <label>
        Open for
        <select value={expiry} onChange={(e) => setExpiry(Number(e.target.value))}>
          {EXPIRIES.map(([label], index) => (
            <option key={label} value={index}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Files at most
        <input type="number" min={1} max={500} value={maxFiles} onChange={(e) => setMaxFiles(e.target.value)} />
      </label>
      <label>
        MiB per file (empty: the server&apos;s limit)
        <input type="number" min={0.001} step="any" value={maxMiB} onChange={(e) => setMaxMiB(e.target.value)} />
      </label>
      <label>
        Types (e.g. application/pdf, image/*)
        <input value={types} onChange={(e) => setTypes(e.target.value)} />
      </label>
      <label>
        Password (optional)
        <input type="password" minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
      </label>
      <div className="request-form__wide">
        <button type="submit" className="button button--primary" disabled={create.isPending}>
          Make request link
        </button>
      </div>
      {create.isError && <ErrorNotice error={create.error} />}
    </form>
  );
}

function RequestRow({ request }: { request: FileRequestLink }) {
  const closeLink = useCloseFileRequest();
  const [showQr, setShowQr] = useState(false);
  const limit = request.limits;
  const open = request.state !== 'closed';
  return (
    <li className="file request" data-testid="request-row" data-state={request.state}>
      <div className="file__main">
        <span className="file__name" dir="auto">
          {request.note ?? 'Request link'}
        </span>
        <span className="file__meta">
          {STATE_WORDS[request.state]} · {request.files} of {limit.maxFiles} files · {formatBytes(request.bytes)}
          {request.lastUploadAt && ` · last ${dateTime.format(new Date(request.lastUploadAt))}`}
          {request.expiresAt ? ` · until ${dateTime.format(new Date(request.expiresAt))}` : ' · never expires'}
          {request.hasPassword && ' · password'}
        </span>
      </div>
      <div className="file__actions">
        {open && (
          <button
            type="button"
            className="button button--quiet"
            disabled={closeLink.isPending}
            onClick={() => closeLink.mutate(request.id)}
          >
            Close
          </button>
        )}
      </div>
      {open && (
        <>
          <div className="share__result request__link">
            <CopyableUrl key={request.url} url={request.url} label="Request link" copyText="Copy link" />
          </div>
          <div className="request__link request__qr">
            <button type="button" className="button button--quiet button--small" aria-expanded={showQr} onClick={() => setShowQr(!showQr)}>
              {showQr ? 'Hide QR code' : 'QR code'}
            </button>
            {showQr && <QrCode url={request.url} />}
          </div>
        </>
      )}
      {closeLink.isError && <ErrorNotice error={closeLink.error} />}
    </li>
  );
}

/** "Request files": make a link someone without an account can send files through; see what arrived. */
export function RequestPanel() {
  const requests = useFileRequests();
  return (
    <section className="card" aria-labelledby="request-files-title">
      <h2 className="card__title" id="request-files-title">
        Request files
      </h2>
      <p className="card__intro">Ask someone for files: they need no account, and what they send arrives in your files below.</p>
      <CreateForm />
      {requests.isError && <ErrorNotice error={requests.error} onRetry={() => requests.refetch()} quiet />}
      {requests.data && requests.data.requests.length > 0 && (
        <ul className="files" aria-label="Your request links">
          {requests.data.requests.map((request) => (
            <RequestRow key={request.id} request={request} />
          ))}
        </ul>
      )}
    </section>
  );
}
