import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/App.tsx';
import { VisitorPage } from './components/VisitorPage.tsx';
import { ApiError, isRetryable } from './api/errors.ts';
import { queryKeys } from './hooks/query-keys.ts';
import './styles.css';

/** A 401 anywhere means the session ended: re-read it, and the page shows the sign-in form. */
const onError = (error: unknown) => {
  if (error instanceof ApiError && error.code === 'unauthorized') {
    void queryClient.invalidateQueries({ queryKey: queryKeys.session() });
  }
};

const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: { retry: (failures, error) => failures < 2 && isRetryable(error), refetchOnWindowFocus: true },
    mutations: { retry: false },
  },
});

// A request link (/r/<id>) is its own small page: no session, no file list, nothing but sending.
const requestId = /^\/r\/([A-Za-z0-9_-]{1,64})\/?$/.exec(window.location.pathname)?.[1];

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>{requestId ? <VisitorPage id={requestId} /> : <App />}</QueryClientProvider>
  </StrictMode>,
);
