// The world the API-server fault tests share (api-trouble, api-restart, leader-failover): one
// PostgreSQL system `db` with its credentials, and the role `staff` there for every User labelled
// team: a. Each test then adds its Users and breaks the API server its own way.
import { accessBinding, accessRole, credentialsSecret, manifestsYaml, postgresSystem, user, type SpecOf } from '../helpers/manifests.ts';
import type { PostgresServer } from '../servers/postgres.ts';

export function teamAPostgres(namespace: string, postgres: PostgresServer): string {
  return manifestsYaml([
    credentialsSecret({ name: 'db-credentials', namespace }, { username: postgres.adminUser, password: postgres.adminPassword }),
    postgresSystem({ name: 'db', namespace }, postgres, { deprovision: { policy: 'delete' }, orphans: 'report' }),
    accessRole({ name: 'staff', namespace }, { db: ['staff'] }),
    accessBinding({ name: 'staff', namespace }, { userSelector: { matchLabels: { team: 'a' } } }),
  ]);
}

/** A User of team a, so the role `staff` is theirs. */
export function teamAUser(namespace: string, name: string, state: SpecOf<'User'>['state'] = 'active'): string {
  return manifestsYaml([user({ name, namespace, labels: { team: 'a' } }, { state })]);
}
