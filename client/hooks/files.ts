import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
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
