// The HR-feed world two tests share, one on the in-memory store (test/unit/controllers/identity-source.test.ts),
// one on the API server (test/e2e/sources.test.ts): an embedded sqlite `directory`, roles sales and
// finance bound by the department label, and a CSV IdentitySource `hr` reading the ConfigMap hr-feed.
import { accessBinding, accessRole, configMap, identitySource, sqliteSystem, type Manifest, type SpecOf } from './manifests.ts';

export interface HrFeedWorld {
  namespace: string;
  /** The sqlite file of the system. */
  db: string;
  /** More of the system's spec (deprovision: disable and a deletion guard of 50 are set). */
  system?: Partial<SpecOf<'ConnectedSystem'>>;
  /** More of the source's spec (its interval, a terminationDate, ...). */
  source?: Partial<SpecOf<'IdentitySource'>>;
  sourceAnnotations?: Record<string, string>;
}

export function hrFeedWorld({ namespace, db, system = {}, source = {}, sourceAnnotations }: HrFeedWorld): Manifest[] {
  const byDepartment = (department: string) => accessBinding({ name: department, namespace }, { userSelector: { matchLabels: { department } } });
  return [
    sqliteSystem({ name: 'directory', namespace }, db, { deprovision: { policy: 'disable' }, deletionGuard: { maxCount: 50 }, ...system }),
    accessRole({ name: 'sales', namespace }, { directory: ['sales'] }),
    accessRole({ name: 'finance', namespace }, { directory: ['finance'] }),
    byDepartment('sales'),
    byDepartment('finance'),
    identitySource(
      { name: 'hr', namespace, annotations: sourceAnnotations },
      {
        type: 'csv',
        configMapRef: { name: 'hr-feed', key: 'people.csv' },
        idField: 'employee_id',
        mapping: [
          { to: 'userName', from: 'login' },
          { to: 'givenName', from: 'first' },
          { to: 'familyName', from: 'last' },
          { to: 'email', from: 'email' },
          { to: 'labels/department', from: 'dept', transforms: [{ op: 'lower' }] },
        ],
        terminationField: { field: 'status', values: ['terminated'] },
        changeGuard: { maxCount: 2, maxPercent: 10 },
        ...source,
      },
    ),
  ];
}

/** The feed itself: a CSV file `people.csv` of a header and rows. */
export function hrFeed(namespace: string, header: string, rows: readonly string[]): Manifest {
  return configMap({ name: 'hr-feed', namespace, labels: { 'rollcall.dev/source-data': 'true' } }, { 'people.csv': [header, ...rows].join('\n') + '\n' });
}
