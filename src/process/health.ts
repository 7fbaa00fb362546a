// The probes and the scrape endpoint Kubernetes and Prometheus expect: /healthz (the process
// answers and its watches are alive), /readyz (caches synced and, when elected, this replica may
// serve), /metrics. A failing probe says why in its body.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.ts';

export interface HealthServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  metrics: Metrics;
  isReady: () => boolean;
  /**
   * What keeps this process from working that a restart may cure: a watch that delivers nothing and
   * cannot be re-listed leaves a cache that no longer follows the cluster. Fails both probes.
   */
  problems?: () => readonly string[];
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      reply(response, 500, `error: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  // Probes use short-lived connections; do not let idle keep-alive sockets delay close().
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, options: HealthServerOptions): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    reply(response, 405, 'method not allowed\n');
    return;
  }
  switch (path) {
    case '/healthz': {
      const problems = options.problems?.() ?? [];
      if (problems.length) reply(response, 503, `unhealthy:\n${problems.map((p) => `  ${p}\n`).join('')}`);
      else reply(response, 200, 'ok\n');
      return;
    }
    case '/readyz': {
      const problems = options.problems?.() ?? [];
      if (problems.length) reply(response, 503, `not ready:\n${problems.map((p) => `  ${p}\n`).join('')}`);
      else if (options.isReady()) reply(response, 200, 'ok\n');
      else reply(response, 503, 'not ready: controllers not started\n');
      return;
    }
    case '/metrics':
      reply(response, 200, await options.metrics.text(), options.metrics.contentType);
      return;
    default:
      reply(response, 404, 'not found\n');
  }
}

function reply(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
