/**
 * The probes' server, bound before anything else happens: `/healthz` answers 200 while the process lives,
 * `/readyz` 200 only once Kata is installed, verified and the node labelled, 503 otherwise (installing,
 * stopping, failed). Anything else is 404. A request must arrive whole within 5 s.
 */
import { createServer, type Server } from 'node:http';
import { UsageError } from '../errors/index.js';

export type HealthState = 'installing' | 'ready' | 'stopping' | 'failed';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export function answer(path: string, state: HealthState): { status: number; body: string } {
  const route = path.split('?')[0];
  if (route === '/healthz') return { status: 200, body: `ok ${state}\n` };
  if (route === '/readyz')
    return state === 'ready'
      ? { status: 200, body: 'ready\n' }
      : { status: 503, body: `not_ready ${state}\n` };
  return { status: 404, body: 'not found\n' };
}

export function startHealthServer(port: number, state: () => HealthState): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const { status, body } = answer(req.url ?? '/', state());
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.requestTimeout = 5000;
  server.headersTimeout = 5000;
  server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? new UsageError(
              `HEALTH_PORT ${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : 'not allowed'} (${error.message})`,
              {
                input: 'HEALTH_PORT',
                hint: "on the host network every install on a node needs a port of its own: set HEALTH_PORT and the probes' port to a free one; nothing was changed",
                cause: error,
              },
            )
          : error,
      ),
    );
    server.listen(port, () => {
      server.removeAllListeners('error');
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address !== null ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
