import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { MultipartRef, StaleUploads } from '../../contract/api.ts';
import { ApiError } from '../api/errors.ts';
import { forgetResumable } from '../api/multipart-upload.ts';
import { postboxApi } from '../api/postbox.ts';
import { queryKeys } from './query-keys.ts';

/**
 * Big uploads count as abandoned once they are a day old: one still going in another tab (or
 * paused there for a while) must not be offered for discarding.
 */
export const UNFINISHED_AFTER_SECONDS = 24 * 3600;

/** Multipart uploads started more than a day ago and never completed or aborted. */
export function useUnfinishedUploads() {
  return useQuery({
    queryKey: queryKeys.multipartUploads.stale(UNFINISHED_AFTER_SECONDS),
    queryFn: () => postboxApi.staleMultipartUploads(UNFINISHED_AFTER_SECONDS),
    // A full listing of the bucket's multipart uploads: not on every focus of the window.
    staleTime: 5 * 60_000,
  });
}

/** Aborts one upload on storage, which frees its parts. One that is already gone counts as discarded. */
export function useDiscardUpload() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (ref: MultipartRef) => {
      try {
        await postboxApi.abortMultipart(ref);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'not_found')) throw err;
      }
    },
    onSuccess: (_result, ref) => {
      forgetResumable(ref);
      queryClient.setQueriesData<StaleUploads>({ queryKey: queryKeys.multipartUploads.all() }, (list) =>
        list ? { uploads: list.uploads.filter((u) => !(u.key === ref.key && u.uploadId === ref.uploadId)) } : list,
      );
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.multipartUploads.all() }),
  });
}
