import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useLayoutEffect, useReducer, useRef } from 'react';
import { isTypeAccepted, type UploadPolicy, type UploadSettings, formatBytes } from '../../contract/api.ts';
import { acceptedTypesText } from '../api/accepted-types.ts';
import { ApiError } from '../api/errors.ts';
import { abandonMultipart, uploadMultipart } from '../api/multipart-upload.ts';
import { postForm } from '../api/post-form.ts';
import { postboxApi } from '../api/postbox.ts';
import { queryKeys } from './query-keys.ts';
import { uploadThumbnail } from '../api/thumbnails.ts';
import { uploadSettingsQuery } from './status.ts';

export type UploadPhase = 'rejected' | 'signing' | 'uploading' | 'done' | 'failed' | 'cancelled' | 'paused';

export interface Upload {
  id: string;
  file: File;
  phase: UploadPhase;
  loaded: number;
  /** Big files go through S3 multipart upload (parts in parallel, pause and resume). */
  multipart: boolean;
  /** When bytes started moving in this attempt, and how many storage already had then: for speed and time left. */
  startedAt?: number;
  startLoaded?: number;
  /** Set once signed: the page renders the presigned form from it. */
  policy?: UploadPolicy;
  /** Multipart: a part failed and is sent again, this attempt. */
  retryAttempt?: number;
  error?: unknown;
}

type Action =
  | { type: 'added'; uploads: Upload[] }
  | { type: 'rejected'; id: string; error: ApiError }
  | { type: 'signing'; id: string; multipart: boolean }
  | { type: 'signed'; id: string; policy: UploadPolicy }
  | { type: 'started'; id: string; loaded: number }
  | { type: 'progress'; id: string; loaded: number; retryAttempt?: number }
  | { type: 'done'; id: string }
  | { type: 'failed'; id: string; error: unknown }
  | { type: 'dismissed'; ids: string[] };

function reducer(uploads: Upload[], action: Action): Upload[] {
  if (action.type === 'added') return [...action.uploads, ...uploads];
  if (action.type === 'dismissed') return uploads.filter((u) => !action.ids.includes(u.id));
  return uploads.map((u) => {
    if (u.id !== action.id) return u;
    switch (action.type) {
      case 'rejected':
        return { ...u, phase: 'rejected', error: action.error };
      case 'signing':
        // A big upload going on keeps showing what storage had; its start says exactly.
        return {
          ...u,
          phase: 'signing',
          multipart: action.multipart,
          loaded: action.multipart ? u.loaded : 0,
          policy: undefined,
          error: undefined,
          retryAttempt: undefined,
        };
      case 'signed':
        return { ...u, phase: 'uploading', policy: action.policy, startedAt: Date.now(), startLoaded: 0 };
      case 'started':
        return { ...u, phase: 'uploading', loaded: action.loaded, startedAt: Date.now(), startLoaded: action.loaded };
      case 'progress':
        return { ...u, loaded: action.loaded, retryAttempt: action.retryAttempt };
      case 'done':
        return { ...u, phase: 'done', loaded: u.file.size, retryAttempt: undefined };
      case 'failed': {
        const code = action.error instanceof ApiError ? action.error.code : undefined;
        return {
          ...u,
          phase: code === 'cancelled' ? 'cancelled' : code === 'paused' ? 'paused' : 'failed',
          error: action.error,
          retryAttempt: undefined,
        };
      }
    }
  });
}

/** Refuses what the server would refuse anyway, before anything is sent. */
function checkLocally(file: File, settings: UploadSettings): ApiError | undefined {
  if (file.size > settings.maxUploadBytes) {
    return new ApiError('file_too_large', `This file is too large: the limit is ${formatBytes(settings.maxUploadBytes)} per file.`);
  }
  if (!isTypeAccepted(file.type || 'application/octet-stream', settings)) {
    return new ApiError(
      'unsupported_type',
      `Files of type ${file.type || 'unknown'} are not accepted here. ${acceptedTypesText(settings)}`.trim(),
    );
  }
  return undefined;
}

let nextId = 0;

/** How often progress reaches React: often enough to read as moving, rarely enough to cost little. */
const PROGRESS_INTERVAL_MS = 200;

/**
 * Upload progress handed to React at most every PROGRESS_INTERVAL_MS: four parts in flight report
 * far more often than anyone reads, and each report re-renders the list (once per animation frame
 * still cost the page about as much CPU as sending; docs/performance.md, issue 24). `flush` gives
 * what is pending at once, before a phase changes (done, failed, started), so no late tick follows it.
 */
function useThrottledProgress(dispatch: (action: Action) => void) {
  const pending = useRef(new Map<string, { loaded: number; retryAttempt?: number }>());
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const flush = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = undefined;
    for (const [id, progress] of pending.current) dispatch({ type: 'progress', id, ...progress });
    pending.current.clear();
  }, [dispatch]);
  const report = useCallback(
    (id: string, loaded: number, retryAttempt?: number) => {
      pending.current.set(id, { loaded, retryAttempt });
      timer.current ??= setTimeout(flush, PROGRESS_INTERVAL_MS);
    },
    [flush],
  );
  useEffect(() => () => clearTimeout(timer.current), []);
  return { report, flush };
}

/**
 * The upload queue. A small file is signed (a presigned POST from the server); its policy goes into
 * the upload's state; the row renders the policy as a real <form> and, once React has mounted it,
 * hands that form to `sendForm`, which posts its FormData to storage with progress. The form is the
 * product's shape (the boto3 guide's HTML form), and a form exists only once React commits it: so
 * the send starts from the form's mount, the one moment it certainly exists, instead of this hook
 * forcing a render and reading the DOM back. Big files go up in parts (no form). Upload progress is
 * page state, kept here; the file list stays in TanStack Query and is invalidated when an upload lands.
 */
export function useUploads() {
  const [uploads, dispatch] = useReducer(reducer, []);
  const { report, flush } = useThrottledProgress(dispatch);
  // The latest list for `cancel`, which stays the same function across renders. Kept up to date in a
  // layout effect (not during render): it runs at commit, before any click on what was rendered.
  const uploadsRef = useRef(uploads);
  useLayoutEffect(() => {
    uploadsRef.current = uploads;
  }, [uploads]);
  const queryClient = useQueryClient();
  /** One per upload from its start to its end: Cancel and Pause abort it. */
  const controllers = useRef(new Map<string, AbortController>());
  /** Uploads whose form is being posted: a form mounted twice (React's StrictMode) is posted once. */
  const posting = useRef(new Set<string>());

  // Leaving the page stops every upload: the browser asks first while any is running.
  const running = uploads.some((u) => u.phase === 'signing' || u.phase === 'uploading');
  useEffect(() => {
    if (!running) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = ''; // what browsers before 2023 (Chrome < 119) look for
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [running]);

  const landed = useCallback(
    async (id: string, key: string | undefined) => {
      controllers.current.delete(id);
      flush();
      dispatch({ type: 'done', id });
      // An image's thumbnail, drawn here and posted straight to storage (docs/previews.md); optional.
      const file = uploadsRef.current.find((u) => u.id === id)?.file;
      if (file && key) {
        void uploadThumbnail(file, key).then(async (stored) => {
          if (stored) await queryClient.invalidateQueries({ queryKey: queryKeys.thumbnails.all() });
        });
      }
      // A first listing still on its way may predate this file, and invalidating a query that has
      // no data yet only waits for that listing: cancel it so that the list is fetched again.
      await queryClient.cancelQueries({ queryKey: queryKeys.files.all() });
      await queryClient.invalidateQueries({ queryKey: queryKeys.files.all() });
    },
    [queryClient, flush],
  );
  const failed = useCallback(
    (id: string, error: unknown) => {
      controllers.current.delete(id);
      flush();
      dispatch({ type: 'failed', id, error });
    },
    [flush],
  );

  // Mutations, so that a 401 on the way reaches the client's global handler (the session is read again).
  const { mutate: sign } = useMutation({
    mutationFn: ({ file, signal }: { id: string; file: File; signal: AbortSignal }) =>
      postboxApi.signUpload({ name: file.name, size: file.size, type: file.type || 'application/octet-stream' }, signal),
    onSuccess: (policy, { id }) => dispatch({ type: 'signed', id, policy }),
    onError: (error, { id }) => failed(id, error),
  });
  const { mutate: sendInParts } = useMutation({
    mutationFn: ({ id, file, settings, signal }: { id: string; file: File; settings: UploadSettings; signal: AbortSignal }) =>
      uploadMultipart(file, {
        concurrency: settings.multipartConcurrency,
        signal,
        onStart: (loaded) => {
          flush();
          dispatch({ type: 'started', id, loaded });
        },
        onProgress: ({ loaded, retryAttempt }) => report(id, loaded, retryAttempt),
      }),
    onSuccess: (result, { id }) => landed(id, result.key),
    onError: (error, { id }) => failed(id, error),
    // A big upload resumed and completed, or cancelled, may have been in the unfinished list.
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.multipartUploads.all() }),
  });

  /** Called by the upload's form once mounted: posts it straight to storage. */
  const sendForm = useCallback(
    (id: string, form: HTMLFormElement) => {
      const controller = controllers.current.get(id);
      if (!controller || posting.current.has(id)) return;
      posting.current.add(id);
      postForm(form, { signal: controller.signal, onProgress: ({ loaded }) => report(id, loaded) })
        .then(
          () => landed(id, uploadsRef.current.find((u) => u.id === id)?.policy?.key),
          (error: unknown) => failed(id, error),
        )
        .finally(() => posting.current.delete(id));
    },
    [landed, failed, report],
  );

  /**
   * The settings decide what is refused here and which files go up in parts, so each start waits
   * for them: a file chosen before they have loaded would otherwise go up as one POST, however big.
   * Its controller exists from the start, so Cancel works while it waits, and a second start of
   * the same upload (Retry clicked twice) does nothing.
   */
  const start = useCallback(
    (items: Upload[]) => {
      const starting = items.filter((item) => !controllers.current.has(item.id));
      for (const item of starting) {
        controllers.current.set(item.id, new AbortController());
        dispatch({ type: 'signing', id: item.id, multipart: item.multipart });
      }
      queryClient.query(uploadSettingsQuery).then(
        (settings) => {
          for (const { id, file } of starting) {
            const { signal } = controllers.current.get(id)!;
            const rejection = checkLocally(file, settings);
            const multipart = file.size > settings.multipartThresholdBytes;
            if (signal.aborted) failed(id, new ApiError('cancelled', 'Upload cancelled.'));
            else if (rejection) {
              controllers.current.delete(id);
              dispatch({ type: 'rejected', id, error: rejection });
            } else {
              dispatch({ type: 'signing', id, multipart });
              if (multipart) sendInParts({ id, file, settings, signal });
              else sign({ id, file, signal });
            }
          }
        },
        (error: unknown) => {
          for (const { id } of starting) failed(id, error);
        },
      );
    },
    [queryClient, sign, sendInParts, failed],
  );

  const add = useCallback(
    (files: File[]) => {
      const added: Upload[] = files.map((file) => ({ id: `upload-${++nextId}`, file, phase: 'signing', loaded: 0, multipart: false }));
      dispatch({ type: 'added', uploads: added });
      start(added);
    },
    [start],
  );

  const cancel = useCallback(
    (id: string) => {
      const controller = controllers.current.get(id);
      if (controller) {
        controller.abort('cancel');
        return;
      }
      // A paused multipart upload: nothing runs, but storage keeps its parts until it is aborted.
      const item = uploadsRef.current.find((u) => u.id === id);
      if (item?.phase === 'paused') {
        dispatch({ type: 'failed', id, error: new ApiError('cancelled', 'Upload cancelled.') });
        // It may be in the unfinished list: that list changes once it is aborted on storage.
        void abandonMultipart(item.file).then(() => queryClient.invalidateQueries({ queryKey: queryKeys.multipartUploads.all() }));
      }
    },
    [queryClient],
  );
  /** Multipart only: stops sending and keeps what storage has; Resume (retry) continues from there. */
  const pause = useCallback((id: string) => controllers.current.get(id)?.abort('pause'), []);
  const retry = useCallback((item: Upload) => start([item]), [start]);
  const dismiss = useCallback((ids: string[]) => dispatch({ type: 'dismissed', ids }), []);

  return { uploads, add, cancel, pause, retry, dismiss, sendForm };
}
