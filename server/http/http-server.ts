import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Express } from 'express';

type IncomingMessageCall = (this: IncomingMessage, socket: Socket) => void;
type ServerResponseCall = (this: ServerResponse, req: IncomingMessage, options?: object) => void;

/**
 * The app's HTTP server, whose requests and responses are born with the app's prototypes.
 *
 * Express gives every req and res its own prototypes with Object.setPrototypeOf (app.handle). Done
 * to an object V8 made with another prototype, that kept every request in flight alive through the
 * young-generation GC: with 32 connections about 2 MB was promoted every 20 ms, an old-generation GC
 * ran about once a second, and its pauses made the API's p99 (npm run bench; a bare Node server
 * doing only the two setPrototypeOf calls fell from 78k to 33k req/s). Objects made here already
 * have those prototypes, and setPrototypeOf has nothing to change (expressjs/express#5998).
 *
 * Node's IncomingMessage and ServerResponse are plain constructor functions, called here on an
 * object that already has the right prototype (Reflect.construct with another new.target made V8
 * build a new hidden class per object, which was slower still).
 */
export function createAppServer(app: Express): Server {
  function AppRequest(this: IncomingMessage, socket: Socket) {
    (IncomingMessage as unknown as IncomingMessageCall).call(this, socket);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: ServerResponse, req: IncomingMessage, options?: object) {
    (ServerResponse as unknown as ServerResponseCall).call(this, req, options);
  }
  AppResponse.prototype = app.response;
  return createServer({ IncomingMessage: AppRequest as unknown as typeof IncomingMessage, ServerResponse: AppResponse as unknown as typeof ServerResponse }, app);
}
