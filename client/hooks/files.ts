import { useInfiniteQuery, useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { PREVIEW_LINK_SECONDS, THUMBNAILS_PER_CALL } from '../../contract/api.ts';
import { postboxApi } from '../api/postbox.ts';
import { queryKeys } from './query-keys.ts';

/** Newest first, a page at a time (the server pages through the bucket listing). */
export function useFiles() {
  return useInfiniteQuery({
    queryKey: queryKeys.files.list(),
    queryFn: ({ pageParam }) => postboxApi.listFiles(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (lastPage) => lastPage.nextCursor ?? undefined,
  });
}

export function useDeleteFile() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (key: string) => postboxApi.deleteFile(key),
    // Its share links stop working with it: no cached list of them is worth keeping.
    onSuccess: (_result, key) => queryClient.removeQueries({ queryKey: queryKeys.shares.forFile(key) }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.files.all() }),
  });
}

export function useCreateLink() {
  return useMutation({
    mutationFn: ({ key, expiresIn }: { key: string; expiresIn: number }) => postboxApi.createLink(key, { expiresIn }),
  });
}

/** The inline preview of one of the person's files, signed when the row's preview opens. */
export function usePreview(key: string, enabled: boolean) {
  // Re-signed a minute before the URL expires, so a preview opened again never gets a dead URL.
  const fresh = (PREVIEW_LINK_SECONDS - 60) * 1000;
  return useQuery({
    queryKey: queryKeys.preview(key),
    queryFn: () => postboxApi.previewFile(key),
    enabled,
    staleTime: fresh,
    gcTime: fresh,
    retry: false,
  });
}

/**
 * Inline URLs of the thumbnails of the rows shown: one call per THUMBNAILS_PER_CALL rows, not one per
 * file. A URL may point at no thumbnail (none drawn): the row hides the image that fails to load.
 */
export function useThumbnails(keys: readonly string[]): Map<string, string> {
  const chunks: string[][] = [];
  for (let i = 0; i < keys.length; i += THUMBNAILS_PER_CALL) chunks.push(keys.slice(i, i + THUMBNAILS_PER_CALL));
  const fresh = (PREVIEW_LINK_SECONDS - 60) * 1000;
  const answers = useQueries({
    queries: chunks.map((chunk) => ({
      queryKey: queryKeys.thumbnails.forKeys(chunk),
      queryFn: () => postboxApi.thumbnails(chunk),
      staleTime: fresh,
      gcTime: fresh,
      retry: false,
    })),
  });
  return new Map(answers.flatMap((answer) => Object.entries(answer.data?.urls ?? {})));
}
