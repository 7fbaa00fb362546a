// An HTTP proxy in front of the real kube-apiserver that misbehaves on demand, for the API-server
// fault tests: it can hold chosen requests unanswered forever, and freeze watches (the connection
// stays open, events stop arriving: what a dead connection behind a load balancer looks like).
// Rollcall talks plain HTTP to it (a kubeconfig without credentials; client-node wants
// insecure-skip-tls-verify for an http server); the proxy forwards over TLS
// with the control plane's admin certificate, so it sees every request and can pick one to break.
import { Agent, request as httpsRequest } from 'node:https';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export interface ApiProxy {
  /** A kubeconfig that points at the proxy. */
  kubeconfig: string;
  /** Hold every request `matches` accepts from now on: never answered, connection kept open. */
  hang(matches: (method: string, url: URL) => boolean): void;
  /** Stop holding requests; those already held stay held. */
  stopHanging(): void;
  /** From now on no watch event reaches the client, on open watches and new ones; connections stay open. */
  freezeWatches(): void;
  /** New watches work again; the frozen ones stay frozen (the client must notice and replace them). */
  thawWatches(): void;
  /** Requests seen, held and watch events dropped, for the figures. */
  counts(): { requests: number; held: number; droppedWatchChunks: number };
  close(): Promise<void>;
}

export async function startApiProxy(upstreamKubeconfig: string, dir: string): Promise<ApiProxy> {
  const upstream = new KubeConfig();
  upstream.loadFromFile(upstreamKubeconfig);
  const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  await upstream.applyToHTTPSOptions(tls as never);
  const target = new URL(upstream.getCurrentCluster()!.server);
  const agent = new Agent({ ...tls, keepAlive: true });

  let hangIf: ((method: string, url: URL) => boolean) | undefined;
  let frozen = false;
  const frozenStreams = new Set<IncomingMessage>();
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const counts = { requests: 0, held: 0, droppedWatchChunks: 0 };

  const server = createServer((req, res) => {
    counts.requests++;
    const url = new URL(req.url ?? '/', target);
    if (hangIf?.(req.method ?? 'GET', url)) {
      counts.held++;
      held.add(res);
      req.resume();
      return;
    }
    const isWatch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const { authorization: _, host: __, ...headers } = req.headers;
    const out = httpsRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      // A watch's headers go out at once, as the API server sends them, even if no event follows.
      if (isWatch) res.flushHeaders();
      if (!isWatch) {
        upstreamRes.pipe(res);
        return;
      }
      // A watch: chunks pass only while not frozen; a frozen stream drops them for good and never
      // ends, even when the API server ends it.
      let streamFrozen = frozen;
      if (streamFrozen) frozenStreams.add(upstreamRes);
      upstreamRes.on('data', (chunk: Buffer) => {
        if (frozen && !streamFrozen) {
          streamFrozen = true;
          frozenStreams.add(upstreamRes);
        }
        if (streamFrozen) counts.droppedWatchChunks++;
        else res.write(chunk);
      });
      upstreamRes.on('end', () => {
        if (!streamFrozen && !frozen) res.end();
      });
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const kubeconfig = join(dir, 'proxy-kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: proxy, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: proxy, user: {}}]
contexts: [{name: proxy, context: {cluster: proxy, user: proxy}}]
current-context: proxy
`,
  );
  return {
    kubeconfig,
    hang: (matches) => void (hangIf = matches),
    stopHanging: () => void (hangIf = undefined),
    freezeWatches: () => void (frozen = true),
    thawWatches: () => void (frozen = false),
    counts: () => ({ ...counts }),
    close: async () => {
      for (const res of held) res.destroy();
      for (const stream of frozenStreams) stream.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
