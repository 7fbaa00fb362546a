// A real Keycloak for tests: keycloak-quarkus-dist, installed and built once by
// scripts/install/keycloak.sh into ~/.cache/rollcall/keycloak-<version>, started ONCE per vitest run
// (every test file of the run shares it; each test takes a fresh realm, see createRealm) with
// `start --optimized`, an in-memory H2 (dev-mem) and a local cache, on a free loopback port.
//
// Start time, from launch to `GET /realms/master` answering, measured on this 2-core machine while
// other builds and test runs shared it (load average 17 to 32): 149 s, 174 s and 236 s; most of it
// creating the schema and the master realm (test/servers notes saw Quarkus start in ~11 s on an idle
// machine). Hence one server per run, not per file. The build (`kc.sh build`, ~1.5 to 2.5 min here)
// is done once by the install script and cached.
//
// One per run across vitest's worker processes: the first worker to claim the run's directory
// (keyed by the vitest main process) launches Keycloak detached, with a watchdog that stops it
// and removes the directory when that process exits; every worker reads the URL from the directory.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { freePort } from './test-server.ts';

export const KEYCLOAK_VERSION = '26.7.3';
const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const INSTALL = join(process.env['ROLLCALL_CACHE'] ?? join(homedir(), '.cache', 'rollcall'), `keycloak-${KEYCLOAK_VERSION}`);
/** Generous: the measured start under load was up to 236 s. */
const READY_TIMEOUT_MS = 540_000;

export interface Keycloak {
  /** e.g. http://127.0.0.1:PORT, without a trailing slash. */
  url: string;
  /** The bootstrap admin of the master realm (random per run). */
  admin: { username: string; password: string };
  /** How long the launch took until the server answered, in ms (for the record). */
  startedInMs: number;
}

/** Installs and builds Keycloak through the project's script when the cache lacks it. */
export function ensureKeycloak(): void {
  if (existsSync(join(INSTALL, '.rollcall-built'))) return;
  const result = spawnSync('bash', [join(REPO, 'scripts', 'install', 'keycloak.sh')], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`scripts/install/keycloak.sh failed (exit ${result.status})`);
}

let shared: Promise<Keycloak> | undefined;

/** The run's one Keycloak: started by the first caller in any worker, shared by all. */
export function sharedKeycloak(): Promise<Keycloak> {
  return (shared ??= running() ?? startOrJoin());
}

/** A Keycloak already running (ROLLCALL_KEYCLOAK_URL and ROLLCALL_KEYCLOAK_ADMIN_PASSWORD), to iterate on tests without waiting for a start. */
function running(): Promise<Keycloak> | undefined {
  const url = process.env['ROLLCALL_KEYCLOAK_URL'];
  const password = process.env['ROLLCALL_KEYCLOAK_ADMIN_PASSWORD'];
  return url && password ? Promise.resolve({ url, admin: { username: 'admin', password }, startedInMs: 0 }) : undefined;
}

async function startOrJoin(): Promise<Keycloak> {
  ensureKeycloak();
  // The vitest main process: a forked worker's parent, or this process when tests run in threads.
  const owner = isMainThread ? process.ppid : process.pid;
  const dir = join(tmpdir(), `rollcall-keycloak-run-${owner}`);
  let claimed = false;
  try {
    mkdirSync(dir);
    claimed = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (claimed) await launch(dir, owner);
  return waitForServer(dir);
}

async function launch(dir: string, owner: number): Promise<void> {
  // Its own home, so `data/` (transaction logs, temp files) is this run's; the built installation
  // is shared read-only through symlinks (`--optimized` never rebuilds it).
  const home = join(dir, 'home');
  mkdirSync(home);
  cpSync(join(INSTALL, 'bin'), join(home, 'bin'), { recursive: true });
  for (const part of ['lib', 'conf', 'providers', 'themes', 'version.txt']) symlinkSync(join(INSTALL, part), join(home, part));
  const port = await freePort();
  const admin = { username: 'admin', password: randomBytes(16).toString('hex') };
  const log = openSync(join(dir, 'server.log'), 'a');
  const args = ['start', '--optimized', '--http-enabled=true', '--http-host=127.0.0.1', `--http-port=${port}`, '--hostname-strict=false', '--cache=local'];
  const launchedAt = performance.now();
  const child = spawn(join(home, 'bin', 'kc.sh'), args, {
    cwd: dir,
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, KC_BOOTSTRAP_ADMIN_USERNAME: admin.username, KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password },
  });
  closeSync(log);
  child.unref();
  // Outlives this worker (other files still use the server); ends with the run.
  const watchdog = 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; kill -TERM -- "-$2" 2>/dev/null; sleep 15; kill -KILL -- "-$2" 2>/dev/null; rm -rf "$3"';
  spawn('bash', ['-c', watchdog, 'keycloak-watchdog', String(owner), String(child.pid), dir], { detached: true, stdio: 'ignore' }).unref();
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(url, () => child.exitCode !== null, dir);
  } catch (error) {
    writeFileSync(join(dir, 'failed'), (error as Error).message);
    throw error;
  }
  const server: Keycloak = { url, admin, startedInMs: Math.round(performance.now() - launchedAt) };
  writeFileSync(join(dir, 'server.json'), JSON.stringify(server), { mode: 0o600 });
  console.log(`Keycloak ${KEYCLOAK_VERSION} answered ${server.startedInMs} ms after launch (${url})`);
}

async function waitForServer(dir: string): Promise<Keycloak> {
  const until = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < until) {
    if (existsSync(join(dir, 'failed'))) throw new Error(`Keycloak did not start: ${readFileSync(join(dir, 'failed'), 'utf8')}`);
    if (existsSync(join(dir, 'server.json'))) return JSON.parse(readFileSync(join(dir, 'server.json'), 'utf8')) as Keycloak;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Keycloak not ready within ${READY_TIMEOUT_MS} ms; see ${join(dir, 'server.log')}`);
}

async function waitUntilAnswering(url: string, exited: () => boolean, dir: string): Promise<void> {
  const until = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < until) {
    if (exited()) throw new Error(`kc.sh exited; see ${join(dir, 'server.log')}`);
    try {
      const response = await fetch(`${url}/realms/master`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Keycloak not ready within ${READY_TIMEOUT_MS} ms; see ${join(dir, 'server.log')}`);
}

/** An admin client logged in to the master realm as the bootstrap admin, working in `realm`. */
export async function masterAdmin(keycloak: Keycloak, realm = 'master'): Promise<KcAdminClient> {
  const client = new KcAdminClient({ baseUrl: keycloak.url, realmName: 'master' });
  await client.auth({ grantType: 'password', clientId: 'admin-cli', username: keycloak.admin.username, password: keycloak.admin.password });
  client.setConfig({ realmName: realm });
  return client;
}

/** A fresh, enabled realm named `<prefix>-<random>`: each test file or test works in its own. */
export async function createRealm(keycloak: Keycloak, prefix: string): Promise<string> {
  const realm = `${prefix}-${randomBytes(4).toString('hex')}`;
  const admin = await masterAdmin(keycloak);
  await admin.realms.create({ realm, enabled: true });
  return realm;
}
