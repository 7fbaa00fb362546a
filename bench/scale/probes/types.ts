// Each system read (and, for the out-of-band changes, written) as its administrator, never through
// a connector: what the benchmark reports is what the systems themselves hold.
import type { AccountView, SystemKind } from '../world.ts';

export interface SystemProbe {
  readonly kind: SystemKind;
  /** Creates the scope: LDAP OUs and groups, PostgreSQL group roles (and marker), SCIM groups. */
  prepare(groups: string[]): Promise<void>;
  /** Every account in the scope: enabled, and its groups among the scope's. */
  accounts(): Promise<Map<string, AccountView>>;
  /** Which of these users are disabled (or gone) right now. */
  disabled(userNames: string[]): Promise<Set<string>>;
  /** The users in one group right now. */
  members(group: string): Promise<Set<string>>;
  /** A version per written object (entry, role, membership, resource): equal maps mean no write. */
  versions(): Promise<Map<string, string>>;
  /** An out-of-band change, as a person with admin rights would make it. */
  grantByHand(userName: string, group: string): Promise<void>;
  close(): Promise<void>;
}

/** Compares one system with the declared model; returns a readable line per mismatch (at most `limit`). */
export function mismatches(expected: Map<string, AccountView>, actual: Map<string, AccountView>, limit = 10): { count: number; examples: string[] } {
  const examples: string[] = [];
  let count = 0;
  const show = (line: string) => {
    count++;
    if (examples.length < limit) examples.push(line);
  };
  for (const [name, want] of expected) {
    const got = actual.get(name);
    if (!got) show(`${name}: missing`);
    else if (got.enabled !== want.enabled || got.groups.join(',') !== want.groups.join(',')) {
      show(
        `${name}: ${got.enabled ? 'enabled' : 'disabled'} [${got.groups.join(',')}], declared ${want.enabled ? 'enabled' : 'disabled'} [${want.groups.join(',')}]`,
      );
    }
  }
  for (const name of actual.keys()) if (!expected.has(name)) show(`${name}: not declared`);
  return { count, examples };
}

/** How many declared accounts a system already holds exactly as declared. */
export function matching(expected: Map<string, AccountView>, actual: Map<string, AccountView>): number {
  let n = 0;
  for (const [name, want] of expected) {
    const got = actual.get(name);
    if (got && got.enabled === want.enabled && got.groups.join(',') === want.groups.join(',')) n++;
  }
  return n;
}
