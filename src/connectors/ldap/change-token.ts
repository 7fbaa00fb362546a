// What tells, in one or two small reads, that anything in the directory may have changed: Active
// Directory's (and Samba's) highestCommittedUSN on the root DSE, which every write raises, or, on
// OpenLDAP with the syncprov overlay (any directory that replicates), the contextCSN of the naming
// context holding the people, which every write below it moves. A directory with neither cannot say:
// undefined, and drift waits for the resyncInterval.
import type { Client } from 'ldapts';
import { normalizeDN } from './dn.ts';
import type { LdapSettings } from './settings.ts';

export async function directoryChangeToken(client: Client, settings: Pick<LdapSettings, 'peopleDN'>): Promise<string | undefined> {
  const { searchEntries } = await client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['highestCommittedUSN', 'namingContexts'] });
  const root = searchEntries[0];
  const usn = root?.['highestCommittedUSN'];
  if (usn !== undefined && String(usn) !== '') return `usn:${String(usn)}`;
  const people = normalizeDN(settings.peopleDN);
  const context = values(root?.['namingContexts']).find((dn) => {
    const normalized = normalizeDN(dn);
    return people === normalized || people.endsWith(`,${normalized}`);
  });
  if (context === undefined) return undefined;
  const entry = (await client.search(context, { scope: 'base', filter: '(objectClass=*)', attributes: ['contextCSN'] })).searchEntries[0];
  const csn = values(entry?.['contextCSN']);
  return csn.length ? `csn:${csn.sort().join(',')}` : undefined;
}

function values(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}
