// A directory file written before markers named their system (schema version 1: one `managed` flag
// for every system) opens under version 2: its managed rows carry the legacy marker until a system
// claims them, and observing it writes nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectedSystemSpec, type ObservedAccount } from '../../../src/api/index.ts';
import { createSqliteConnector } from '../../../src/connectors/sqlite/index.ts';
import type { Connector } from '../../../src/connectors/types.ts';

const signal = () => AbortSignal.timeout(10_000);
const VERSION_1 = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  CREATE TABLE accounts (
    user_name TEXT PRIMARY KEY, managed INTEGER NOT NULL DEFAULT 0, disabled INTEGER NOT NULL DEFAULT 0,
    attributes TEXT NOT NULL DEFAULT '{}', password_hash TEXT, version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT;
  CREATE TABLE groups (name TEXT PRIMARY KEY) STRICT;
  CREATE TABLE memberships (user_name TEXT NOT NULL REFERENCES accounts (user_name), group_name TEXT NOT NULL REFERENCES groups (name),
    PRIMARY KEY (user_name, group_name)) STRICT;
  INSERT INTO accounts (user_name, managed, created_at, updated_at) VALUES ('old', 1, 'x', 'x'), ('hand', 0, 'x', 'x');
  PRAGMA user_version = 1;
`;

let dir: string;
let path: string;
const open: Connector[] = [];

async function connect(system: string, observeOnly = false): Promise<Connector> {
  const spec = connectedSystemSpec.parse({ type: 'sqlite', sqlite: { path } });
  const connector = await createSqliteConnector({
    system,
    namespace: system.split('/')[0]!,
    spec,
    credentials: {},
    logger: pino({ level: 'silent' }),
    observeOnly,
  });
  open.push(connector);
  return connector;
}

function fileVersion(): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number(db.prepare('PRAGMA user_version').get()?.user_version);
  } finally {
    db.close();
  }
}

const names = async (connector: Connector) => {
  const out: ObservedAccount[] = [];
  for await (const account of connector.listAccounts(signal())) out.push(account);
  return out.map((a) => a.userName);
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rollcall-sqlite-v1-'));
  path = join(dir, 'directory.db');
  const db = new DatabaseSync(path);
  db.exec(VERSION_1);
  db.close();
});

afterEach(async () => {
  for (const connector of open.splice(0)) await connector.close();
  await rm(dir, { recursive: true, force: true });
});

describe('sqlite directory from before per-system markers', () => {
  it('observing reads a version 1 file as it is: its managed rows are legacy-marked, and nothing is written', async () => {
    const observer = await connect('team-a/directory', true);
    expect(await names(observer)).toEqual([]);
    expect(await observer.getAccount('old', signal())).toMatchObject({ userName: 'old', owner: 'legacy' });
    expect(await observer.getAccount('hand', signal())).toMatchObject({ owner: 'unmanaged' });
    expect(fileVersion()).toBe(1);
  });

  it("a writer migrates the file; the first system to adopt a legacy row owns it, the other sees it as another system's", async () => {
    const a = await connect('team-a/directory');
    const b = await connect('team-b/directory');
    expect(await a.getAccount('old', signal())).toMatchObject({ owner: 'legacy' });
    expect(fileVersion()).toBe(2);
    await a.apply({ op: 'adopt', userName: 'old' }, signal());
    expect(await names(a)).toEqual(['old']);
    expect(await names(b)).toEqual([]);
    expect(await b.getAccount('old', signal())).toMatchObject({ owner: 'foreign' });
    await expect(b.apply({ op: 'adopt', userName: 'old' }, signal())).rejects.toThrow(/belongs to ConnectedSystem team-a\/directory/);
  });
});
