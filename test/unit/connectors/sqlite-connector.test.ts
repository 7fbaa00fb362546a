// What the shared conformance suite does not ask but the sqlite connector promises: checked
// against the file itself (describeDirectory and a read-only connection), not through the connector.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectedSystemSpec, PermanentError, type DesiredAccount } from '../../../src/api/index.ts';
import { createSqliteConnector } from '../../../src/connectors/sqlite/index.ts';
import { createForeignAccount, describeDirectory } from '../../../src/connectors/sqlite/directory.ts';
import type { Connector } from '../../../src/connectors/types.ts';

const signal = () => AbortSignal.timeout(10_000);
const account = (userName: string, attributes: Record<string, string> = {}): DesiredAccount => ({
  system: 'test',
  userName,
  state: 'present',
  attributes,
  entitlements: [],
});

let dir: string;
let path: string;
const open: Connector[] = [];

async function connect(credentials: Record<string, string> = {}): Promise<Connector> {
  const spec = connectedSystemSpec.parse({ type: 'sqlite', sqlite: { path } });
  const connector = await createSqliteConnector({ system: 'default/directory', namespace: 'default', spec, credentials, logger: pino({ level: 'silent' }) });
  open.push(connector);
  return connector;
}

function groupsInFile(): string[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db
      .prepare('SELECT name FROM groups ORDER BY name')
      .all()
      .map((row) => String(row.name));
  } finally {
    db.close();
  }
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rollcall-sqlite-unit-'));
  path = join(dir, 'nested', 'directory.db');
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((connector) => connector.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('sqlite connector', () => {
  it('creates the file and its parent directory on first use', async () => {
    await (await connect()).check(signal());
    expect(existsSync(path)).toBe(true);
    expect(describeDirectory(path)).toEqual([]);
  });

  it('refuses to create over an account it does not manage, and leaves that account alone', async () => {
    const connector = await connect();
    await connector.check(signal());
    createForeignAccount(path, 'root');
    await expect(connector.apply({ op: 'create', account: account('root', { displayName: 'Mallory' }) }, signal())).rejects.toThrow(PermanentError);
    await expect(connector.apply({ op: 'create', account: account('root') }, signal())).rejects.toThrow(/taken by an account Rollcall does not manage/);
    expect(describeDirectory(path)).toEqual([{ userName: 'root', state: 'present', groups: [], managed: false }]);
  });

  it('removes an attribute updated to null, and stores only canonical attributes', async () => {
    const connector = await connect();
    await connector.apply({ op: 'create', account: account('alice', { displayName: 'Alice', email: 'alice@example.org', shoeSize: '38' }) }, signal());
    await connector.apply({ op: 'update', userName: 'alice', attributes: { email: null } }, signal());
    expect((await connector.getAccount('alice', signal()))?.attributes).toEqual({ displayName: 'Alice' });
  });

  it('creates a group the first time it is granted', async () => {
    const connector = await connect();
    await connector.apply({ op: 'create', account: account('alice') }, signal());
    await connector.apply({ op: 'grant', userName: 'alice', entitlement: 'on-call' }, signal());
    expect(groupsInFile()).toEqual(['on-call']);
    expect(describeDirectory(path)[0]?.groups).toEqual(['on-call']);
  });

  it('refuses changes to an account that does not exist', async () => {
    const connector = await connect();
    await expect(connector.apply({ op: 'disable', userName: 'ghost' }, signal())).rejects.toThrow(/has no account "ghost" that Rollcall manages/);
  });

  it('requires the passphrase a file was created with, and only then', async () => {
    await (await connect({ passphrase: 'correct-horse' })).check(signal());
    await (await connect({ passphrase: 'correct-horse' })).check(signal());
    for (const credentials of [{}, { passphrase: 'wrong' }] as Record<string, string>[]) {
      const error = await (await connect(credentials)).check(signal()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as Error).message).toBe(
        'wrong passphrase for sqlite system default/directory: set the passphrase key of its credentials Secret to the one the file was created with',
      );
    }
  });

  it('needs no passphrase for a file created without one', async () => {
    await (await connect()).check(signal());
    await (await connect({ passphrase: 'anything' })).check(signal());
  });
});
