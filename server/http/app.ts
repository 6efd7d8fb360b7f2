import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Config } from '../config/config.ts';
import { errorHandler, notFoundHandler } from '../errors/error-handler.ts';
import type { Storage } from '../storage/storage.ts';
import { UploadsStore } from '../storage/uploads-store.ts';
import { requireJsonBody } from './require-json.ts';
import { fileRoutes } from './routes/files.ts';
import { statusRoutes } from './routes/status.ts';
import { uploadRoutes } from './routes/uploads.ts';

/** The built SPA (`npm run build`); absent in API-only test runs. */
export const CLIENT_DIR = path.resolve(import.meta.dirname, '../../dist/client');

export function createApp(deps: { config: Config; storage: Storage; logger: Logger; clientDir?: string }) {
  const { config, storage, logger, clientDir = CLIENT_DIR } = deps;
  const store = new UploadsStore(storage);
  const app = express();
  app.disable('x-powered-by');

  app.use(
    pinoHttp({
      logger,
      genReqId: () => randomUUID(),
      autoLogging: { ignore: (req) => !req.url?.startsWith('/api/') },
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
    }),
  );

  const apiRouter = express.Router();
  apiRouter.use(requireJsonBody, express.json({ limit: '16kb' }));
  apiRouter.use(statusRoutes(config, storage, store));
  apiRouter.use(uploadRoutes(config, storage));
  apiRouter.use(fileRoutes(storage, store));
  apiRouter.use(notFoundHandler);
  app.use('/api', apiRouter);

  if (existsSync(clientDir)) {
    app.use(express.static(clientDir, { index: false }));
    app.get('/{*path}', (_req, res) => {
      res.sendFile(path.join(clientDir, 'index.html'));
    });
  }

  app.use(errorHandler);
  return app;
}
