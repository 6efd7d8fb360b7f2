import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The SPA lives in client/ and builds to dist/client, which the Express server serves.
// `npm run dev` proxies /api and /storage to a server started separately on PORT (default 8080).
export default defineConfig({
  root: 'client',
  plugins: [react()],
  build: { outDir: '../dist/client', emptyOutDir: true },
  server: {
    host: '127.0.0.1',
    // The Host header goes through unchanged: the app signs for the page's origin (5173) and serves the embedded store there.
    proxy: { '/api': `http://127.0.0.1:${process.env.PORT ?? 8080}`, '/storage': `http://127.0.0.1:${process.env.PORT ?? 8080}` },
  },
});
