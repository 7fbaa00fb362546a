// The egress check at the root: every connection a connector or a feed reader opens resolves its
// host through `lookup` here, which refuses private addresses before the socket connects. So a name
// that resolves to 127.0.0.1, a DNS answer that changes between a check and the connect (rebinding),
// and every redirect hop (a new connection) pass the same check. A literal IP skips DNS, so
// net.connect never calls `lookup` for it: `refusalFor` checks it before connecting.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP, Socket, type LookupFunction } from 'node:net';
import { RetryableError } from '../../api/index.ts';
import { privateAddressKind } from './addresses.ts';

/** dns.lookup's shape, so a test can inject a resolver that maps a name to any address without sending a packet. */
export type Resolver = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** What the operator configured for the whole process (rollcall run --cluster-cidr), and the resolver. */
export interface EgressPolicy {
  clusterRanges?: BlockList;
  resolve?: Resolver;
}

/** One object's view: which field names the host (for messages) and whether it may reach private addresses. */
export interface EgressTarget {
  /** The spec field the host comes from, e.g. spec.scim.baseUrl. */
  field: string;
  allowPrivateNetwork: boolean;
}

/**
 * A connection refused because its address is private. Retryable (DNS may change) and the
 * system's: every account of the system would meet the same refusal.
 */
export class PrivateNetworkRefusedError extends RetryableError {
  override name = 'PrivateNetworkRefusedError';
  constructor(message: string) {
    super(message, { scope: 'system' });
  }
}

/** The PrivateNetworkRefusedError somewhere in `error`'s cause chain (connectors wrap socket errors), or undefined. */
export function privateNetworkRefusal(error: unknown): PrivateNetworkRefusedError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    if (current instanceof PrivateNetworkRefusedError) return current;
    if (current instanceof AggregateError) {
      const inner = current.errors.map(privateNetworkRefusal).find(Boolean);
      if (inner) return inner;
    }
  }
  return undefined;
}

export class EgressGuard {
  readonly #policy: EgressPolicy;
  readonly #target: EgressTarget;

  constructor(policy: EgressPolicy, target: EgressTarget) {
    this.#policy = policy;
    this.#target = target;
  }

  /** The same policy for another field (a redirect hop names where it came from). */
  forField(field: string): EgressGuard {
    return new EgressGuard(this.#policy, { ...this.#target, field });
  }

  /** The refusal for `address`, or undefined when it may be reached. `resolved`: it came from DNS, not the URL. */
  refusalFor(address: string, resolved = false): PrivateNetworkRefusedError | undefined {
    const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
    if (this.#target.allowPrivateNetwork || !isIP(bare)) return undefined;
    const kind = privateAddressKind(bare, this.#policy.clusterRanges);
    if (!kind) return undefined;
    const how = resolved ? 'resolves to' : 'is';
    return new PrivateNetworkRefusedError(`${this.#target.field} ${how} ${bare}, a ${kind} address; set spec.allowPrivateNetwork: true to allow it`);
  }

  /** For net.connect / tls.connect: resolves, and refuses the connection if any address is private. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const resolve = this.#policy.resolve ?? (dnsLookup as unknown as Resolver);
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      // Any private answer refuses the whole name: a round-robin of one public and one private
      // address must not reach the private one on the second try.
      const refusal = addresses.map((a) => this.refusalFor(a.address, true)).find(Boolean);
      if (refusal) return callback(refusal, '', 0);
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };

  /**
   * An unconnected socket whose connect(port, host) goes through this guard: for clients that
   * take a socket factory and call connect themselves (pg), keeping their TLS host checks as they are.
   */
  socket(): Socket {
    const socket = new Socket();
    const connect = socket.connect.bind(socket) as (options: { port: number; host: string; lookup: LookupFunction }) => Socket;
    socket.connect = ((port: number, host: string) => {
      const refusal = this.refusalFor(host);
      if (!refusal) return connect({ port, host, lookup: this.lookup });
      process.nextTick(() => socket.destroy(refusal));
      return socket;
    }) as Socket['connect'];
    return socket;
  }

  /**
   * Opens a socket with `connect` unless `host` is a refused literal address; then a socket that
   * fails at once with the refusal, so callers that expect a socket handle it as any connect error.
   */
  connect<T extends Socket>(host: string, connect: () => T): T | Socket {
    const refusal = this.refusalFor(host);
    if (!refusal) return connect();
    const socket = new Socket();
    // Still "connecting" to whoever checks (ldapts would otherwise take a fresh socket for an open
    // one and write to it), until it fails with the refusal.
    Object.defineProperty(socket, 'connecting', { value: true, configurable: true, writable: true });
    process.nextTick(() => socket.destroy(refusal));
    return socket;
  }
}
