// A real PostgreSQL 15 for tests: a copy of a cached initdb template in a temp dir, 127.0.0.1 on a
// free port, scram-sha-256, fsync off. It refuses to run as root, so it runs as the postgres OS user.
// The superuser gets a fresh random password per run, so a leaked secret is always recognisable.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { scramVerifier } from '../../src/connectors/postgres/scram.ts';
import { freePort, type ServerControl } from './test-server.ts';

const BIN = '/usr/lib/postgresql/15/bin';
const AS_POSTGRES = ['--reuid=postgres', '--regid=postgres', '--init-groups'];
/** The password baked into the cached template; replaced at every start. */
const TEMPLATE_PASSWORD = 'rollcall-template';

export interface PostgresServer extends ServerControl {
  host: string;
  port: number;
  adminUser: string;
  adminPassword: string;
}

export function installPostgres(): void {
  if (existsSync(`${BIN}/postgres`) && existsSync(`${BIN}/initdb`) && existsSync(`${BIN}/pg_isready`)) return;
  execFileSync('bash', [join(import.meta.dirname, '../../scripts/install/postgres.sh')], { stdio: 'inherit' });
}

const asPostgres = (command: string, args: string[]) => ['setpriv', [...AS_POSTGRES, command, ...args]] as const;

/** initdb costs ~0.8 s; copying its result costs ~0.15 s. Built once per machine, atomically. */
async function templateDir(): Promise<string> {
  const cache = process.env.ROLLCALL_CACHE ?? join(homedir(), '.cache', 'rollcall');
  const template = join(cache, 'pg-template-15');
  if (existsSync(join(template, 'PG_VERSION'))) return template;
  await mkdir(cache, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'rollcall-pg-initdb-'));
  try {
    await chmod(work, 0o755);
    execFileSync('chown', ['postgres:postgres', work]);
    await writeFile(join(work, 'pw'), TEMPLATE_PASSWORD, { mode: 0o644 });
    const [cmd, args] = asPostgres(`${BIN}/initdb`, [
      ...['-D', join(work, 'data'), '-U', 'postgres', `--pwfile=${join(work, 'pw')}`, '-A', 'scram-sha-256'],
      ...['-E', 'UTF8', '--no-locale', '--no-sync', '--no-instructions'],
    ]);
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    // Another test process may have finished first: the rename then fails and its copy wins.
    await rename(join(work, 'data'), template).catch(() => undefined);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return template;
}

async function waitUntilReady(port: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited while starting:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    try {
      execFileSync(`${BIN}/pg_isready`, ['-q', '-h', '127.0.0.1', '-p', String(port)]);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`postgres not ready on port ${port} within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Files of a certificate (test/servers/tls.ts) for the server to offer TLS with; plain connections still work. */
export interface PostgresTls {
  certFile: string;
  keyFile: string;
}

export async function startPostgres(tls?: PostgresTls): Promise<PostgresServer> {
  installPostgres();
  const template = await templateDir();
  const dir = await mkdtemp(join(tmpdir(), 'rollcall-pg-'));
  await chmod(dir, 0o755);
  const data = join(dir, 'data');
  await cp(template, data, { recursive: true });
  const tlsArgs: string[] = [];
  if (tls) {
    // The server reads its key only when the postgres user owns it and nobody else may read it.
    await cp(tls.certFile, join(dir, 'server.crt'));
    await cp(tls.keyFile, join(dir, 'server.key'));
    await chmod(join(dir, 'server.key'), 0o600);
    tlsArgs.push('-c', 'ssl=on', '-c', `ssl_cert_file=${join(dir, 'server.crt')}`, '-c', `ssl_key_file=${join(dir, 'server.key')}`);
  }
  execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const port = await freePort();
  const logFile = join(dir, 'postgres.log');
  let child: ChildProcess | undefined;

  // Only a server still running: one stopped by a test (or gone on its own) has no pid to kill.
  const killOnExit = () => {
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // It exited between the check and the kill.
    }
  };
  process.once('exit', killOnExit);

  async function launch(): Promise<void> {
    const log = openSync(logFile, 'a');
    const [cmd, args] = asPostgres(`${BIN}/postgres`, [
      ...['-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', dir],
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=100', ...tlsArgs],
    ]);
    // detached: its own process group, so freeze() stops the backends too, not just the postmaster.
    child = spawn(cmd, args, { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    await waitUntilReady(port, child, logFile);
  }

  async function stop(): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    process.kill(-running.pid!, 'SIGCONT'); // a frozen server cannot shut down
    running.kill('SIGINT'); // fast shutdown: disconnects clients, no waiting for them
    await exited;
  }

  await launch();
  const adminPassword = randomBytes(18).toString('base64url');
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: TEMPLATE_PASSWORD, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`ALTER ROLE postgres PASSWORD ${admin.escapeLiteral(scramVerifier(adminPassword))}`);
  } finally {
    await admin.end();
  }

  return {
    host: '127.0.0.1',
    port,
    adminUser: 'postgres',
    adminPassword,
    stop,
    restart: launch,
    freeze: () => {
      process.kill(-child!.pid!, 'SIGSTOP');
    },
    thaw: () => {
      process.kill(-child!.pid!, 'SIGCONT');
    },
    async close() {
      await stop();
      process.off('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One statement as the server's administrator, on a connection of its own: a probe that a stopped and
 * restarted server never leaves holding a dead connection.
 */
export async function adminQuery(server: PostgresServer, text: string, values?: unknown[]): Promise<pg.QueryResult> {
  const client = new pg.Client({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword, database: 'postgres' });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}
