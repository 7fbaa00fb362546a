// A loopback HTTP proxy in front of a real server, for fault tests: it adds latency, resets
// connections, and answers 5xx or 429 (with Retry-After) instead of forwarding, as the test decides
// per request, and records every request it received and what it did with it.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../servers/test-server.ts';

/** What the proxy does with one request: pass it on, drop the connection, or answer for the server. */
export type Fault = { kind: 'forward' } | { kind: 'reset' } | { kind: 'status'; status: number; retryAfterSeconds?: number };

export interface ProxiedRequest {
  /** Epoch milliseconds (monotonic clock's origin + now), as count-connections.ts records them. */
  atMs: number;
  method: string;
  path: string;
  fault: Fault['kind'] | number;
}

export interface FaultRules {
  /** Added before each request is handled. */
  latencyMs?: number;
  /** Decides per request (n counts from 1 since the rules were set); default: forward. */
  fault?: (n: number, request: IncomingMessage) => Fault;
}

export class HttpFaultProxy {
  readonly requests: ProxiedRequest[] = [];
  #rules: FaultRules = {};
  #count = 0;
  readonly #server: Server;
  readonly #upstream: URL;
  port = 0;

  private constructor(upstream: string) {
    this.#upstream = new URL(upstream);
    this.#server = createServer((req, res) => void this.#handle(req, res));
    // Keep-alive connections would outlive close(); the client reconnects when it needs to.
    this.#server.keepAliveTimeout = 1000;
  }

  /** A proxy on 127.0.0.1 forwarding to the host and port of `upstream` (a URL). */
  static async start(upstream: string): Promise<HttpFaultProxy> {
    const proxy = new HttpFaultProxy(upstream);
    proxy.port = await freePort();
    await new Promise<void>((resolve) => proxy.#server.listen(proxy.port, '127.0.0.1', resolve));
    return proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string {
    const u = new URL(url);
    u.host = `127.0.0.1:${this.port}`;
    return u.toString().replace(/\/$/, '');
  }

  /** New rules from now on; the per-rule request count starts again. */
  set(rules: FaultRules): void {
    this.#rules = rules;
    this.#count = 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rules = this.#rules;
    const fault = rules.fault?.(++this.#count, req) ?? { kind: 'forward' };
    this.requests.push({
      atMs: performance.timeOrigin + performance.now(),
      method: req.method ?? '',
      path: req.url ?? '',
      fault: fault.kind === 'status' ? fault.status : fault.kind,
    });
    if (rules.latencyMs) await sleep(rules.latencyMs);
    if (fault.kind === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    if (fault.kind === 'status') {
      req.resume();
      const headers: Record<string, string> = { 'content-type': 'application/scim+json' };
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      res
        .writeHead(fault.status, headers)
        .end(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(fault.status), detail: 'injected by the test proxy' }));
      return;
    }
    const upstream = httpRequest(
      { host: this.#upstream.hostname, port: this.#upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: this.#upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(upstream);
  }
}
