import { describe, expect, it } from 'vitest';
import type { RefusedEntitlement } from '../../../src/api/index.ts';
import { PassRefusals } from '../../../src/connectors/postgres/pass-refusals.ts';

/** A server that refuses `pg_monitor` and counts the questions it is asked. */
function server() {
  const asked: string[][] = [];
  const ask = async (names: string[]): Promise<RefusedEntitlement[]> => {
    asked.push(names);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return names.filter((name) => name === 'pg_monitor').map((entitlement) => ({ entitlement, reason: 'predefined' }));
  };
  return { asked, ask };
}

describe('PostgreSQL refusals, asked once per pass', () => {
  it('asks once for Users asking at the same moment, and only for names not answered yet', async () => {
    const refusals = new PassRefusals();
    const { asked, ask } = server();
    const answers = await Promise.all([
      refusals.refused(['staff', 'pg_monitor'], ask),
      refusals.refused(['staff', 'pg_monitor'], ask),
      refusals.refused(['staff'], ask),
    ]);
    expect(answers).toEqual([[{ entitlement: 'pg_monitor', reason: 'predefined' }], [{ entitlement: 'pg_monitor', reason: 'predefined' }], []]);
    expect(await refusals.refused(['staff', 'vpn'], ask)).toEqual([]);
    expect(asked).toEqual([['staff', 'pg_monitor'], ['vpn']]);
  });

  it('asks afresh after a listing starts a new pass', async () => {
    const refusals = new PassRefusals();
    const { asked, ask } = server();
    await refusals.refused(['staff'], ask);
    refusals.clear();
    await refusals.refused(['staff'], ask);
    expect(asked).toEqual([['staff'], ['staff']]);
  });

  it('gives every waiting User the failure, and keeps no failed answer', async () => {
    const refusals = new PassRefusals();
    const failing = async (): Promise<RefusedEntitlement[]> => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('connection refused');
    };
    const results = await Promise.allSettled([refusals.refused(['staff'], failing), refusals.refused(['staff'], failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const { asked, ask } = server();
    expect(await refusals.refused(['staff'], ask)).toEqual([]);
    expect(asked).toEqual([['staff']]);
  });
});
