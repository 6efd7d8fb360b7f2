import { queryOptions, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { postboxApi } from '../api/postbox.ts';
import { queryKeys } from './query-keys.ts';

/** The server's upload settings: fixed while it runs. */
export const uploadSettingsQuery = queryOptions({ queryKey: queryKeys.settings(), queryFn: postboxApi.settings, staleTime: Infinity });

export function useUploadSettings() {
  return useQuery(uploadSettingsQuery);
}

/** Polled, so the page notices when storage goes away or comes back. */
export function useHealth() {
  return useQuery({ queryKey: queryKeys.health(), queryFn: postboxApi.health, refetchInterval: 15_000 });
}

/**
 * When storage is back, whatever failed meanwhile (the file list, share links) is asked again,
 * instead of showing its error under a header that says storage is online. Used once, by the
 * header's status: each call would refetch (and cancel the other's refetch).
 */
export function useRefetchFailedWhenStorageIsBack(health: ReturnType<typeof useHealth>) {
  const queryClient = useQueryClient();
  const storageUp = health.isSuccess && health.data.storage.reachable;
  useEffect(() => {
    if (storageUp) void queryClient.refetchQueries({ type: 'active', predicate: (query) => query.state.status === 'error' });
  }, [storageUp, queryClient]);
}
