// Everything the connector needs from the ConnectedSystem and its Secret, checked once up front so
// a misconfiguration fails with a message about the resource, not later with a server error.
import { createHash } from 'node:crypto';
import { PermanentError } from '../../api/index.ts';
import { DEFAULT_TIMEOUT_MS } from '../timeout.ts';
import type { ConnectorContext } from '../types.ts';
import { MARKER_TAG_PREFIX } from './catalog.ts';
import { roleNameProblem } from './names.ts';

export interface PostgresSettings {
  system: string;
  host: string;
  port: number;
  database: string;
  ssl: false | { rejectUnauthorized: boolean };
  /** Marker role: its direct, non-superuser members are the managed scope. */
  managedRole: string;
  /** The comment the marker role must carry: Rollcall created it for this system. */
  markerTag: string;
  onDelete: 'drop' | 'reassign';
  reassignTo: string | undefined;
  username: string;
  /** Never log it, never put it in a message. */
  password: string;
  timeoutMs: number;
}

export function postgresSettings(context: ConnectorContext): PostgresSettings {
  const { system, spec, credentials } = context;
  const pg = spec.postgres;
  if (!pg) throw new PermanentError(`${system}: spec.postgres is required for type postgres`);
  const username = credentials.username;
  const password = credentials.password;
  if (!username || password === undefined) {
    throw new PermanentError(`${system}: the credentials Secret needs the keys username and password`);
  }
  const managedRole = pg.managedRole ?? defaultMarkerRole(system);
  const markerProblem = roleNameProblem(managedRole);
  if (markerProblem) throw new PermanentError(`${system}: spec.postgres.managedRole ${markerProblem}`);
  const onDelete = pg.onDelete ?? 'drop';
  if (onDelete === 'reassign' && !pg.reassignTo) {
    throw new PermanentError(`${system}: spec.postgres.reassignTo is required when onDelete is reassign`);
  }
  const ssl = pg.ssl ?? 'disable';
  return {
    system,
    host: pg.host,
    port: pg.port ?? 5432,
    database: pg.database ?? 'postgres',
    ssl: ssl === 'disable' ? false : { rejectUnauthorized: ssl === 'verify-full' },
    managedRole,
    markerTag: `${MARKER_TAG_PREFIX}${system}`,
    onDelete,
    reassignTo: pg.reassignTo,
    username,
    password,
    timeoutMs: context.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}

/** `rollcall:<namespace>/<name>`, or a hash of it when that is longer than a role name may be (63 bytes). */
export function defaultMarkerRole(system: string): string {
  const name = `rollcall:${system}`;
  if (Buffer.byteLength(name) <= 63) return name;
  return `rollcall:${createHash('sha256').update(system).digest('hex').slice(0, 40)}`;
}
