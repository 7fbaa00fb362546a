// A JSON HR feed served over HTTP (a small server in this test, with ETags) drives `rollcall run`
// against the real API server: hires, a transfer and a leaver, read with conditional GETs; then a
// leaving date a few seconds ahead (computed from the clock, never a fixed date) ends the account at
// that second and not before.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/clock.ts';
import { describeDirectory } from '../../src/connectors/sqlite/directory.ts';
import { createNamespace, kubectlOk } from './kube.ts';
import { until } from '../helpers/eventually.ts';
import { startRollcall, type RollcallRun } from './rollcall-run.ts';

interface Person {
  id: string;
  login: string;
  dept: string;
  lastDay?: string;
}

/** The HR system's export: GET /people.json with a strong ETag; If-None-Match answers 304. */
class FeedServer {
  people: Person[] = [];
  readonly seen = { full: 0, notModified: 0, conditional: 0 };
  readonly #server: Server;

  constructor() {
    this.#server = createServer((request, response) => {
      if (request.url !== '/people.json') return void response.writeHead(404).end();
      const body = JSON.stringify({
        data: { people: this.people.map((p) => ({ ...p, email: `${p.login}@acme.example`, name: { first: p.login, last: 'Doe' } })) },
      });
      const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
      if (request.headers['if-none-match'] !== undefined) this.seen.conditional++;
      if (request.headers['if-none-match'] === etag) {
        this.seen.notModified++;
        return void response.writeHead(304, { etag }).end();
      }
      this.seen.full++;
      response.writeHead(200, { 'content-type': 'application/json', etag }).end(body);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/people.json`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function manifests(namespace: string, dbPath: string, url: string): string {
  const role = (dept: string) => `---
apiVersion: rollcall.dev/v1alpha1
kind: AccessRole
metadata: {name: ${dept}, namespace: ${namespace}}
spec: {grants: [{system: directory, entitlements: [${dept}]}]}
---
apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: ${dept}, namespace: ${namespace}}
spec: {role: ${dept}, userSelector: {matchLabels: {department: ${dept}}}}
`;
  return `apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: directory, namespace: ${namespace}}
spec: {type: sqlite, sqlite: {path: ${JSON.stringify(dbPath)}}, deprovision: {policy: disable}, resyncInterval: 10s}
${role('sales')}${role('finance')}---
apiVersion: rollcall.dev/v1alpha1
kind: IdentitySource
metadata: {name: workday, namespace: ${namespace}}
spec:
  type: json
  url: ${JSON.stringify(url)}
  allowPrivateNetwork: true # the test's feed server listens on loopback
  jsonPath: data.people
  idField: id
  interval: 1s
  mapping:
    - {to: userName, from: login}
    - {to: displayName, from: name.first, transforms: [{op: concat, fields: [name.last]}]}
    - {to: email, from: email}
    - {to: labels/department, from: dept, transforms: [{op: lower}]}
  terminationDate: {field: lastDay, format: iso}
  missingPolicy: terminate
`;
}

describe('a JSON feed over HTTP against the real API server', () => {
  const feed = new FeedServer();
  let namespace: string;
  let dbPath: string;
  let rollcall: RollcallRun;

  const account = (userName: string) => describeDirectory(dbPath).find((row) => row.userName === userName);
  const user = (name: string) => JSON.parse(kubectlOk(['get', 'user', name, '-n', namespace, '-o', 'json']));
  const wait = <T>(what: string, probe: () => T | undefined, timeoutMs?: number) => until(what, probe, { timeoutMs, logs: () => rollcall.output() });

  beforeAll(async () => {
    feed.people = [
      { id: 'W1', login: 'alice', dept: 'Sales' },
      { id: 'W2', login: 'bob', dept: 'Sales' },
      { id: 'W3', login: 'carol', dept: 'Finance' },
      { id: 'W4', login: 'dave', dept: 'Finance' },
    ];
    const url = await feed.listen();
    namespace = createNamespace('sources-http');
    dbPath = join(mkdtempSync(join(tmpdir(), 'rollcall-sources-http-')), 'directory.db');
    kubectlOk(['apply', '-f', '-'], manifests(namespace, dbPath, url));
    rollcall = startRollcall(namespace);
  });

  afterAll(async () => {
    await rollcall?.stop();
    await feed.close();
  });

  it('hires: every person in the feed gets a User and an account with the access of their department', async () => {
    await wait('four accounts', () => (describeDirectory(dbPath).filter((r) => r.state === 'present').length === 4 ? true : undefined));
    expect(account('alice')).toMatchObject({ state: 'present', groups: ['sales'], displayName: 'alice Doe', email: 'alice@acme.example' });
    expect(account('carol')).toMatchObject({ state: 'present', groups: ['finance'] });
    expect(user('w1').metadata.labels).toMatchObject({ department: 'sales', 'rollcall.dev/source': 'workday' });
  });

  it('an unchanged feed is read with conditional GETs answered 304, and changes nothing', async () => {
    const before = { ...feed.seen };
    const version = user('w1').metadata.resourceVersion;
    await wait('three more reads', () => (feed.seen.notModified >= before.notModified + 3 ? true : undefined), 20_000);
    expect(feed.seen.full).toBe(before.full);
    expect(user('w1').metadata.resourceVersion).toBe(version);
  });

  it('a transfer moves the access and a person gone from the feed is terminated', async () => {
    const full = feed.seen.full;
    feed.people = feed.people.filter((p) => p.login !== 'carol').map((p) => (p.login === 'bob' ? { ...p, dept: 'Finance' } : p));
    await wait('bob in finance', () => (account('bob')?.groups.join() === 'finance' ? true : undefined));
    await wait('carol disabled', () => (account('carol')?.state === 'disabled' ? true : undefined));
    expect(feed.seen.full).toBeGreaterThan(full);
    expect(user('w3').spec.state).toBe('terminated');
    expect(account('alice')).toMatchObject({ state: 'present', groups: ['sales'] });
  });

  it('a leaving date a few seconds ahead ends the account at that second, not before', async () => {
    // Whole seconds, as HR writes them, far enough ahead for the feed to be read first.
    const leaveAt = Math.ceil(systemClock.now().getTime() / 1000) * 1000 + 8000;
    const lastDay = new Date(leaveAt).toISOString().replace('.000Z', 'Z');
    feed.people = feed.people.map((p) => (p.login === 'dave' ? { ...p, lastDay } : p));
    // Read now (a spec change triggers a read) and then not again for a minute: the next read would
    // find the date passed and terminate dave, so only validUntil can end his access on time.
    kubectlOk(['patch', 'idsrc', 'workday', '-n', namespace, '--type=merge', '-p', '{"spec": {"interval": "1m"}}']);
    await wait('validUntil on dave', () => (user('w4').spec.validUntil ? user('w4').spec.validUntil : undefined));
    expect(Date.parse(user('w4').spec.validUntil)).toBe(leaveAt);
    expect(systemClock.now().getTime()).toBeLessThan(leaveAt - 1000); // the test still has time to watch

    let lastSeenWorking = 0;
    let pokes = 0;
    const disabledAt = await until(
      'dave disabled',
      () => {
        const now = systemClock.now().getTime();
        // Changes to the User in the last seconds before the instant make Rollcall reconcile it
        // then: access must still not end early (not only the wake-up at validUntil decides).
        if (now > leaveAt - 2500 && now < leaveAt - 300)
          kubectlOk(['annotate', 'user', 'w4', '-n', namespace, '--overwrite', `e2e.rollcall.dev/poke=${++pokes}`]);
        const state = account('dave')?.state;
        if (state === 'present') lastSeenWorking = now;
        return state === 'disabled' ? now : undefined;
      },
      { timeoutMs: 20_000, everyMs: 50, logs: () => rollcall.output() },
    );
    expect(lastSeenWorking).toBeGreaterThan(leaveAt - 1000); // working until just before
    expect(disabledAt).toBeGreaterThanOrEqual(leaveAt); // never before the instant
    expect(disabledAt).toBeLessThan(leaveAt + 3000); // and promptly after it
    expect(pokes).toBeGreaterThanOrEqual(2);
    expect(account('alice')).toMatchObject({ state: 'present' });
    expect(user('w4').spec.state).toBe('active'); // ended by validUntil, not by a read of the feed
  });
});
