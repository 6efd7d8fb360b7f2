import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CreateFileRequest } from '../../contract/api.ts';
import { requestsApi } from '../api/requests.ts';

const REQUESTS_KEY = ['requests'] as const;
/** Files arrive while the page is open: poll gently. */
const REFRESH_MS = 15_000;

/** The person's request links with what each received (also marks received files in the file list). */
export function useFileRequests() {
  return useQuery({ queryKey: REQUESTS_KEY, queryFn: requestsApi.list, refetchInterval: REFRESH_MS });
}

export function useCreateFileRequest() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: CreateFileRequest) => requestsApi.create(request),
    onSettled: () => queryClient.invalidateQueries({ queryKey: REQUESTS_KEY }),
  });
}

export function useCloseFileRequest() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => requestsApi.close(id),
    onSettled: () => queryClient.invalidateQueries({ queryKey: REQUESTS_KEY }),
  });
}
