// Everything the connector needs from the ConnectedSystem and its Secret, checked once up front so
// a misconfiguration fails with a message about the resource, not later with a server error.
import { createHash } from 'node:crypto';
import { PermanentError, plaintextRefusal } from '../../api/index.ts';
import { EgressGuard } from '../egress/guard.ts';
import { DEFAULT_TIMEOUT_MS } from '../timeout.ts';
import type { ConnectorContext } from '../types.ts';
import { MARKER_TAG_PREFIX } from './catalog.ts';
import { roleNameProblem } from './names.ts';

export interface PostgresSettings {
  system: string;
  host: string;
  port: number;
  database: string;
  /** false only with spec.insecure; otherwise the certificate and host name are always verified. */
  ssl: false | { rejectUnauthorized: true; ca?: string };
  /** Marker role: its direct, non-superuser members are the managed scope. */
  managedRole: string;
  /** The comment the marker role must carry: Rollcall created it for this system. */
  markerTag: string;
  onDelete: 'drop' | 'reassign';
  /** Receives a dropped leaver's objects: spec.postgres.reassignTo, else the role Rollcall connects as. */
  reassignTo: string;
  username: string;
  /** Never log it, never put it in a message. */
  password: string;
  timeoutMs: number;
  /** Every connection to host passes it (spec.allowPrivateNetwork). */
  egress: EgressGuard;
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
  const onDelete = pg.onDelete ?? 'reassign';
  const reassignTo = pg.reassignTo ?? username;
  const ownerProblem = roleNameProblem(reassignTo);
  if (ownerProblem) throw new PermanentError(`${system}: spec.postgres.reassignTo ${ownerProblem}`);
  const plaintext = plaintextRefusal(system, spec);
  if (plaintext) throw new PermanentError(plaintext);
  // require verifies as verify-full does: TLS without verification protects from nobody on the path.
  const ca = credentials['ca.crt'];
  const ssl = pg.ssl === 'disable' ? false : { rejectUnauthorized: true as const, ...(ca ? { ca } : {}) };
  return {
    system,
    host: pg.host,
    port: pg.port ?? 5432,
    database: pg.database ?? 'postgres',
    ssl,
    managedRole,
    markerTag: `${MARKER_TAG_PREFIX}${system}`,
    onDelete,
    reassignTo,
    username,
    password,
    timeoutMs: context.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    egress: new EgressGuard(context.egress ?? {}, { field: 'spec.postgres.host', allowPrivateNetwork: spec.allowPrivateNetwork === true }),
  };
}

/** `rollcall:<namespace>/<name>`, or a hash of it when that is longer than a role name may be (63 bytes). */
export function defaultMarkerRole(system: string): string {
  const name = `rollcall:${system}`;
  if (Buffer.byteLength(name) <= 63) return name;
  return `rollcall:${createHash('sha256').update(system).digest('hex').slice(0, 40)}`;
}
