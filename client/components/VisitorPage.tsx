import { useQuery } from '@tanstack/react-query';
import { useCallback, useRef, useState } from 'react';
import { formatBytes, isTypeAccepted, type FileRequestPublic } from '../../contract/api.ts';
import { ApiError, describeError } from '../api/errors.ts';
import { postFile, requestsApi } from '../api/requests.ts';
import { DropZone } from './DropZone.tsx';
import { PageFrame } from './PageFrame.tsx';
import { ProgressBar } from './ProgressBar.tsx';
import { dateTime } from './dates.ts';

type ItemState = 'refused' | 'waiting' | 'uploading' | 'done' | 'failed';
interface Item {
  id: number;
  file: File;
  state: ItemState;
  loaded: number;
  message?: string;
  key?: string;
  doneAt?: Date;
}

/** Codes whose server sentences say exactly why a file was refused. */
const SAY_AS_IS = new Set([
  'request_closed',
  'request_full',
  'file_too_large',
  'unsupported_type',
  'invalid_credentials',
  'unauthorized',
  'rate_limited',
]);
const sentenceOf = (error: unknown) => (error instanceof ApiError && SAY_AS_IS.has(error.code) ? error.message : describeError(error));
const typeOf = (file: File) => file.type || 'application/octet-stream';

/** Why the browser can already tell a file will be refused, before anything is sent; undefined if it cannot. */
function refusal(info: FileRequestPublic, file: File, left: { files: number; bytes: number | null }): string | undefined {
  if (info.state === 'closed' || info.state === 'expired') return 'This request link no longer takes files.';
  if (file.size > info.limits.maxFileBytes) return `Too large: this link takes files of at most ${formatBytes(info.limits.maxFileBytes)}.`;
  const types = info.limits.allowedTypes;
  if (types.length && !isTypeAccepted(typeOf(file), { allowedTypes: types, deniedTypes: [] })) {
    return `Not accepted: this link takes only ${types.join(', ')}.`;
  }
  if (left.files <= 0) return 'The limit is reached: this link takes no more files.';
  if (left.bytes !== null && file.size > left.bytes) return `Does not fit: the link has ${formatBytes(left.bytes)} left.`;
  return undefined;
}

/** The page at /r/<id>: someone without an account sends files to the person who made the link. */
export function VisitorPage({ id }: { id: string }) {
  const info = useQuery({
    queryKey: ['request-public', id],
    queryFn: () => requestsApi.open(id),
    retry: false,
    refetchOnWindowFocus: false,
  });
  if (info.isPending)
    return (
      <PageFrame>
        <p className="placeholder">Loading…</p>
      </PageFrame>
    );
  if (info.isError) {
    const missing = info.error instanceof ApiError && info.error.code === 'not_found';
    return (
      <PageFrame>
        <section className="card" data-testid="request-gone">
          <h1 className="card__title">{missing ? 'There is no such request link' : 'This page could not be loaded'}</h1>
          <p>{missing ? 'Check the address you were given, or ask the person who sent it.' : describeError(info.error)}</p>
        </section>
      </PageFrame>
    );
  }
  if (info.data.state === 'closed' || info.data.state === 'expired') {
    return (
      <PageFrame>
        <section className="card" data-testid="request-gone">
          <h1 className="card__title">This request link {info.data.state === 'closed' ? 'was closed' : 'has expired'}</h1>
          <p>It no longer takes files. If you still need to send something, ask the person who sent you the link for a new one.</p>
        </section>
      </PageFrame>
    );
  }
  return <Visit info={info.data} />;
}

function Visit({ info }: { info: FileRequestPublic }) {
  const [items, setItems] = useState<Item[]>([]);
  const [password, setPassword] = useState('');
  const [visitorName, setVisitorName] = useState('');
  const [passwordError, setPasswordError] = useState<string>();
  const [receipt, setReceipt] = useState<Item[]>([]);
  const nextId = useRef(1);
  // What the browser counts as left, so that several files dropped at once are checked against each other.
  const left = useRef({ files: info.filesLeft, bytes: info.bytesLeft });
  const abort = useRef(new AbortController());

  const update = (id: number, change: Partial<Item>) =>
    setItems((all) => all.map((item) => (item.id === id ? { ...item, ...change } : item)));

  const send = useCallback(
    async (batch: Item[]) => {
      const done: Item[] = [];
      for (const item of batch) {
        update(item.id, { state: 'uploading' });
        try {
          const policy = await requestsApi.sign(
            info.id,
            {
              name: item.file.name,
              size: item.file.size,
              type: typeOf(item.file),
              password: password || undefined,
              visitorName: visitorName || undefined,
            },
            abort.current.signal,
          );
          await postFile(policy, item.file, { signal: abort.current.signal, onProgress: (loaded) => update(item.id, { loaded }) });
          const finished = { ...item, state: 'done' as const, loaded: item.file.size, key: policy.key, doneAt: new Date() };
          update(item.id, finished);
          done.push(finished);
        } catch (error) {
          if (error instanceof ApiError && (error.code === 'invalid_credentials' || error.code === 'unauthorized'))
            setPasswordError(error.message);
          left.current = { files: left.current.files + 1, bytes: left.current.bytes === null ? null : left.current.bytes + item.file.size };
          update(item.id, {
            state: error instanceof ApiError && error.code.startsWith('upload') ? 'failed' : 'refused',
            message: sentenceOf(error),
          });
        }
      }
      if (done.length) {
        setReceipt((all) => [...all, ...done]);
        // One notification for the requester per batch; the server checks each key exists first.
        await requestsApi
          .visitDone(info.id, { keys: done.map((item) => item.key!), password: password || undefined })
          .catch(() => undefined);
      }
    },
    [info.id, password, visitorName],
  );

  const add = (files: File[]) => {
    setPasswordError(undefined);
    const batch: Item[] = files.map((file) => {
      const why = refusal(info, file, left.current);
      const item: Item = { id: nextId.current++, file, state: why ? 'refused' : 'waiting', loaded: 0, message: why };
      if (!why)
        left.current = { files: left.current.files - 1, bytes: left.current.bytes === null ? null : left.current.bytes - file.size };
      return item;
    });
    setItems((all) => [...all, ...batch]);
    void send(batch.filter((item) => item.state === 'waiting'));
  };

  return (
    <PageFrame>
      <section className="card" data-testid="request-visit">
        <h1 className="card__title">{info.requester ? `${info.requester} asks you for files` : 'You are asked for files'}</h1>
        {info.note && (
          <blockquote className="request__note" dir="auto">
            {info.note}
          </blockquote>
        )}
        <ul className="request__limits">
          {info.summary.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
        <div className="request__fields">
          <label>
            Your name (optional)
            <input value={visitorName} maxLength={100} onChange={(event) => setVisitorName(event.target.value)} autoComplete="name" />
          </label>
          {info.passwordRequired && (
            <label>
              Password
              <input
                type="password"
                value={password}
                onChange={(event) => setPassword(event.target.value)}
                aria-invalid={passwordError !== undefined}
              />
            </label>
          )}
        </div>
        {passwordError && (
          <p className="notice notice--error" role="alert">
            {passwordError}
          </p>
        )}
        <DropZone
          onFiles={add}
          title="Drop files here to send them"
          inputLabel="Choose files to send"
          inputTestId="request-file-input"
          accept={info.limits.allowedTypes.length ? info.limits.allowedTypes.join(',') : undefined}
        >
          <p className="dropzone__limit">Files go straight to storage. You cannot see or change what others sent.</p>
        </DropZone>
        {items.length > 0 && (
          <ul className="uploads uploads__list" aria-label="Your files">
            {items.map((item) => (
              <li key={item.id} className={`upload upload--${item.state}`} data-testid="request-item" data-state={item.state}>
                <div className="upload__main">
                  <span className="upload__name" dir="auto">
                    {item.file.name}
                  </span>
                  <span className="upload__meta">{formatBytes(item.file.size)}</span>
                </div>
                {(item.state === 'uploading' || item.state === 'waiting') && (
                  <ProgressBar value={item.loaded} max={Math.max(1, item.file.size)} label={`Sending ${item.file.name}`} tone="active" />
                )}
                <p className="upload__status" role={item.state === 'refused' || item.state === 'failed' ? 'alert' : undefined}>
                  {item.state === 'done'
                    ? 'Sent'
                    : item.state === 'waiting'
                      ? 'Waiting…'
                      : item.state === 'uploading'
                        ? 'Sending…'
                        : item.message}
                </p>
              </li>
            ))}
          </ul>
        )}
      </section>
      {receipt.length > 0 && (
        <section className="card" data-testid="request-receipt">
          <h2 className="card__title">Receipt</h2>
          <p>These files arrived. Keep this page or note it down: the person who asked has been told.</p>
          <ul className="receipt">
            {receipt.map((item) => (
              <li key={item.id}>
                <bdi>{item.file.name}</bdi> · {formatBytes(item.file.size)} · {dateTime.format(item.doneAt)}
              </li>
            ))}
          </ul>
        </section>
      )}
    </PageFrame>
  );
}
