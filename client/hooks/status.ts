import { queryOptions, useQuery } from '@tanstack/react-query';
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
