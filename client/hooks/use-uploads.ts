import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useReducer, useRef } from 'react';
import { flushSync } from 'react-dom';
import { isTypeAccepted, type UploadPolicy, type UploadSettings, formatBytes } from '../../contract/api.ts';
import { ApiError } from '../api/errors.ts';
import { abandonMultipart, uploadMultipart } from '../api/multipart-upload.ts';
import { postForm } from '../api/post-form.ts';
import { postboxApi } from '../api/postbox.ts';
import { queryKeys } from './query-keys.ts';
import { acceptedTypesText } from '../components/accepted-types.ts';
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
        return { ...u, phase: 'signing', multipart: action.multipart, loaded: action.multipart ? u.loaded : 0, policy: undefined, error: undefined, retryAttempt: undefined };
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
        return { ...u, phase: code === 'cancelled' ? 'cancelled' : code === 'paused' ? 'paused' : 'failed', error: action.error, retryAttempt: undefined };
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
    return new ApiError('unsupported_type', `Files of type ${file.type || 'unknown'} are not accepted here. ${acceptedTypesText(settings)}`.trim());
  }
  return undefined;
}

let nextId = 0;

/**
 * The upload queue: each file is signed (a presigned POST from the server), its form rendered,
 * then posted straight to storage with progress. Upload progress is page state, kept here;
 * the file list stays in TanStack Query and is invalidated when an upload lands.
 */
export function useUploads() {
  const [uploads, dispatch] = useReducer(reducer, []);
  const uploadsRef = useRef(uploads);
  uploadsRef.current = uploads;
  const queryClient = useQueryClient();
  const forms = useRef(new Map<string, HTMLFormElement>());
  const controllers = useRef(new Map<string, AbortController>());

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

  const { mutate: upload } = useMutation({
    mutationFn: async ({ upload: { id, file, multipart }, settings, controller }: { upload: Upload; settings: UploadSettings; controller: AbortController }) => {
      if (multipart) {
        await uploadMultipart(file, {
          concurrency: settings.multipartConcurrency,
          signal: controller.signal,
          onStart: (loaded) => dispatch({ type: 'started', id, loaded }),
          onProgress: ({ loaded, retryAttempt }) => dispatch({ type: 'progress', id, loaded, retryAttempt }),
        });
        return;
      }
      const policy = await postboxApi.signUpload(
        { name: file.name, size: file.size, type: file.type || 'application/octet-stream' },
        controller.signal,
      );
      // Render the form now, so the FormData below comes from the real <form> with its fields.
      flushSync(() => dispatch({ type: 'signed', id, policy }));
      const form = forms.current.get(id);
      if (!form) throw new ApiError('cancelled', 'The upload was removed.');
      await postForm(form, {
        signal: controller.signal,
        onProgress: ({ loaded }) => dispatch({ type: 'progress', id, loaded }),
      });
    },
    onMutate: ({ upload: { id, multipart } }) => dispatch({ type: 'signing', id, multipart }),
    onSuccess: async (_result, { upload: { id } }) => {
      dispatch({ type: 'done', id });
      // A first listing still on its way may predate this file, and invalidating a query that has
      // no data yet only waits for that listing: cancel it so that the list is fetched again.
      await queryClient.cancelQueries({ queryKey: queryKeys.files.all() });
      await queryClient.invalidateQueries({ queryKey: queryKeys.files.all() });
    },
    onError: (error, { upload: { id } }) => dispatch({ type: 'failed', id, error }),
    onSettled: (_result, _error, { upload: { id, multipart } }) => {
      controllers.current.delete(id);
      // A big upload resumed and completed, or cancelled, may have been in the unfinished list.
      if (multipart) void queryClient.invalidateQueries({ queryKey: queryKeys.multipartUploads.all() });
    },
  });

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
      /** Ends an upload that never reached storage. */
      const settle = (id: string, action: Action) => {
        controllers.current.delete(id);
        dispatch(action);
      };
      queryClient.query(uploadSettingsQuery).then(
        (settings) => {
          for (const item of starting) {
            const { id, file } = item;
            const controller = controllers.current.get(id)!;
            const rejection = checkLocally(file, settings);
            if (controller.signal.aborted) settle(id, { type: 'failed', id, error: new ApiError('cancelled', 'Upload cancelled.') });
            else if (rejection) settle(id, { type: 'rejected', id, error: rejection });
            else upload({ upload: { ...item, multipart: file.size > settings.multipartThresholdBytes }, settings, controller });
          }
        },
        (error: unknown) => {
          for (const { id } of starting) settle(id, { type: 'failed', id, error });
        },
      );
    },
    [queryClient, upload],
  );

  const add = useCallback(
    (files: File[]) => {
      const added: Upload[] = files.map((file) => ({ id: `upload-${++nextId}`, file, phase: 'signing', loaded: 0, multipart: false }));
      dispatch({ type: 'added', uploads: added });
      start(added);
    },
    [start],
  );

  const cancel = useCallback((id: string) => {
    const controller = controllers.current.get(id);
    if (controller) {
      controller.abort('cancel');
      return;
    }
    // A paused multipart upload: nothing runs, but storage keeps its parts until it is aborted.
    const item = uploadsRef.current.find((u) => u.id === id);
    if (item?.phase === 'paused') {
      dispatch({ type: 'failed', id, error: new ApiError('cancelled', 'Upload cancelled.') });
      void abandonMultipart(item.file);
    }
  }, []);
  /** Multipart only: stops sending and keeps what storage has; Resume (retry) continues from there. */
  const pause = useCallback((id: string) => controllers.current.get(id)?.abort('pause'), []);
  const retry = useCallback((item: Upload) => start([item]), [start]);
  const dismiss = useCallback((ids: string[]) => dispatch({ type: 'dismissed', ids }), []);

  /** Ref callback for each upload's form, so the mutation can read its FormData. */
  const registerForm = useCallback(
    (id: string) => (form: HTMLFormElement | null) => {
      if (form) forms.current.set(id, form);
      else forms.current.delete(id);
    },
    [],
  );

  return { uploads, add, cancel, pause, retry, dismiss, registerForm };
}
