// A TCP proxy that counts the requests a client sends, read off the wire, so the connector and a
// plain client are counted the same way and nothing in them is patched. LDAP: one LDAPMessage per
// operation, by its protocolOp tag. PostgreSQL: round trips (a simple Query, or a Sync ending an
// extended-protocol batch) and the statements inside them.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface WireCounter {
  port: number;
  /** Requests by kind since the last reset, e.g. { search: 3, modify: 2 } or { roundTrips: 4, statements: 5 }. */
  counts(): Record<string, number>;
  /** What was sent since the last reset, one line per request (its first words), to say where a count comes from. */
  sent(): string[];
  reset(): void;
  /** Holds each request whose bytes contain `text` for `ms` before passing it on (0: none), as a slow server would. */
  delay(text: string, ms: number): void;
  close(): Promise<void>;
}

type Parser = (chunk: Buffer, count: (kind: string, n?: number) => void, note: (line: string) => void) => void;

const LDAP_OPS: Record<number, string> = {
  0x60: 'bind',
  0x42: 'unbind',
  0x63: 'search',
  0x66: 'modify',
  0x68: 'add',
  0x4a: 'delete',
  0x6c: 'modifyDN',
  0x6e: 'compare',
  0x50: 'abandon',
  0x77: 'extended',
};

/** BER length at `at`: [length, bytes the length itself took], or undefined when not all there yet. */
function berLength(buffer: Buffer, at: number): [number, number] | undefined {
  if (at >= buffer.length) return undefined;
  const first = buffer[at]!;
  if (first < 0x80) return [first, 1];
  const size = first & 0x7f;
  if (at + 1 + size > buffer.length) return undefined;
  let length = 0;
  for (let i = 0; i < size; i++) length = length * 256 + buffer[at + 1 + i]!;
  return [length, 1 + size];
}

function ldapParser(): Parser {
  let pending = Buffer.alloc(0);
  return (chunk, count, note) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const outer = berLength(pending, 1);
      if (!outer || pending.length < 1 + outer[1] + outer[0]) return;
      const body = 1 + outer[1];
      const id = berLength(pending, body + 1)!; // messageID INTEGER
      const opTag = pending[body + 1 + id[1] + id[0]]!;
      const op = LDAP_OPS[opTag] ?? `op-0x${opTag.toString(16)}`;
      count(op);
      note(op);
      pending = pending.subarray(body + outer[0]);
    }
  };
}

/** Statements in a simple Query's text: semicolons outside quotes, identifiers and dollar quotes. */
function statementsIn(sql: string): number {
  let statements = 0;
  let content = false;
  for (let i = 0; i < sql.length; i++) {
    const char = sql[i]!;
    if (char === "'" || char === '"') {
      const end = sql.indexOf(char, i + 1);
      i = end < 0 ? sql.length : end; // a doubled quote is two quoted runs back to back
      content = true;
    } else if (char === ';') {
      if (content) statements++;
      content = false;
    } else if (!/\s/.test(char)) {
      content = true;
    }
  }
  return statements + (content ? 1 : 0);
}

function firstWords(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().slice(0, 80);
}

function postgresParser(): Parser {
  let pending = Buffer.alloc(0);
  let started = false;
  return (chunk, count, note) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (!started) {
        // Startup, or an SSLRequest before it: a length and no type byte.
        if (pending.length < 8) return;
        const length = pending.readInt32BE(0);
        if (pending.length < length) return;
        const code = pending.readInt32BE(4);
        if (code !== 80877103) started = true;
        pending = pending.subarray(length);
        continue;
      }
      if (pending.length < 5) return;
      const length = pending.readInt32BE(1);
      if (pending.length < 1 + length) return;
      const type = String.fromCharCode(pending[0]!);
      if (type === 'Q') {
        const text = pending.subarray(5, length).toString('utf8').replace(/\0$/, '');
        count('roundTrips');
        count('statements', statementsIn(text));
        note(firstWords(text));
      } else if (type === 'P') {
        // Parse: statement name, then the text.
        const body = pending.subarray(5, 1 + length);
        note(firstWords(body.subarray(body.indexOf(0) + 1).toString('utf8')));
      } else if (type === 'S') {
        count('roundTrips');
      } else if (type === 'E') {
        count('statements');
      }
      pending = pending.subarray(1 + length);
    }
  };
}

export async function startWireCounter(protocol: 'ldap' | 'postgres', upstream: { host: string; port: number }): Promise<WireCounter> {
  let counts: Record<string, number> = {};
  let sent: string[] = [];
  const note = (line: string) => {
    if (sent.length < 10_000) sent.push(line);
  };
  const count = (kind: string, n = 1) => {
    counts[kind] = (counts[kind] ?? 0) + n;
  };
  const sockets = new Set<Socket>();
  const delay = { text: '', ms: 0 };
  const server: Server = createServer((client) => {
    const server = connect(upstream);
    const parse = protocol === 'ldap' ? ldapParser() : postgresParser();
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    // Requests pass on in order: one held back holds back those after it on the same connection.
    let forwarded = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      parse(chunk, count, note);
      const held = delay.ms > 0 && chunk.includes(delay.text) ? delay.ms : 0;
      forwarded = forwarded.then(async () => {
        if (held) await new Promise((resolve) => setTimeout(resolve, held));
        server.write(chunk);
      });
    });
    server.pipe(client);
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('wire counter: no address');
  return {
    port: address.port,
    counts: () => ({ ...counts }),
    sent: () => [...sent],
    reset: () => {
      counts = {};
      sent = [];
    },
    delay: (text, ms) => Object.assign(delay, { text, ms }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
