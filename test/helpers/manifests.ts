// Typed manifests for tests: the objects a person writes in YAML (User, AccessRole, AccessBinding,
// AccessReview, ConnectedSystem, IdentitySource, Secret, ConfigMap), built from src/api's schemas,
// so a misspelt or mistyped field fails `tsc` instead of being refused at run time. Defaults are
// what most tests want (namespace acme, userName = name, a test server reached over plaintext on
// loopback); anything else is an override. `manifestsYaml` writes them as `kubectl apply -f` reads them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { z } from 'zod';
import { API_VERSION, type KINDS, type KindName } from '../../src/api/index.ts';
import type { ConfigMapObject } from '../../src/manifests/load.ts';
import type { PostgresServer } from '../servers/postgres.ts';
import type { ScimServer } from '../servers/scim.ts';
import type { SlapdServer } from '../servers/slapd.ts';

/** A resource as written in a manifest: fields with a default may be left out. */
export type ManifestOf<K extends KindName> = z.input<(typeof KINDS)[K]['resource']>;
export type SpecOf<K extends KindName> = ManifestOf<K>['spec'];
type SystemSpec = SpecOf<'ConnectedSystem'>;

export interface SecretManifest {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: Metadata;
  stringData: Record<string, string>;
}

/** A ConfigMap is written as the loader reads it: data as plain strings. */
export type ConfigMapManifest = ConfigMapObject;

export type Manifest = { [K in KindName]: ManifestOf<K> }[KindName] | SecretManifest | ConfigMapManifest;

/** Where an object lives; a bare string is its name in namespace acme (the unit tests' namespace). */
export type Meta = string | Metadata;
// A type, not an interface: only a type alias fits objectMeta's open index signature.
type Metadata = {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set by the API server; standalone mode keeps a manifest's, so a test can date a User's creation. */
  creationTimestamp?: string;
};

export const DEFAULT_NAMESPACE = 'acme';

function metadata(meta: Meta): Metadata & { namespace: string } {
  return typeof meta === 'string' ? { name: meta, namespace: DEFAULT_NAMESPACE } : { ...meta, namespace: meta.namespace ?? DEFAULT_NAMESPACE };
}

const nameOf = (meta: Meta) => (typeof meta === 'string' ? meta : meta.name);

export function user(meta: Meta, spec: Partial<SpecOf<'User'>> = {}): ManifestOf<'User'> {
  return { apiVersion: API_VERSION, kind: 'User', metadata: metadata(meta), spec: { userName: nameOf(meta), ...spec } };
}

/** `grants` maps each ConnectedSystem's name to the entitlements the role gives there. */
export function accessRole(meta: Meta, grants: Record<string, string[]>, spec: Partial<SpecOf<'AccessRole'>> = {}): ManifestOf<'AccessRole'> {
  const list = Object.entries(grants).map(([system, entitlements]) => ({ system, entitlements }));
  return { apiVersion: API_VERSION, kind: 'AccessRole', metadata: metadata(meta), spec: { grants: list, ...spec } };
}

/** The role defaults to the binding's own name (a binding `staff` of the role `staff`). */
export function accessBinding(meta: Meta, spec: Omit<SpecOf<'AccessBinding'>, 'role'> & { role?: string }): ManifestOf<'AccessBinding'> {
  return { apiVersion: API_VERSION, kind: 'AccessBinding', metadata: metadata(meta), spec: { role: nameOf(meta), ...spec } };
}

export function identitySource(meta: Meta, spec: SpecOf<'IdentitySource'>): ManifestOf<'IdentitySource'> {
  return { apiVersion: API_VERSION, kind: 'IdentitySource', metadata: metadata(meta), spec };
}

export function accessReview(meta: Meta, spec: SpecOf<'AccessReview'>): ManifestOf<'AccessReview'> {
  return { apiVersion: API_VERSION, kind: 'AccessReview', metadata: metadata(meta), spec };
}

export function connectedSystem(meta: Meta, spec: SystemSpec): ManifestOf<'ConnectedSystem'> {
  return { apiVersion: API_VERSION, kind: 'ConnectedSystem', metadata: metadata(meta), spec };
}

/** Overrides of a typed system: its own block (spec.ldap, ...) is merged field by field into the one built from the server. */
type SystemOverrides<T extends 'ldap' | 'postgres' | 'scim'> = Partial<Omit<SystemSpec, T>> & { [B in T]?: Partial<NonNullable<SystemSpec[B]>> };

/** The Secret a test server's system `meta` names: `<name>-credentials`, in the system's namespace. */
function credentialsMeta(meta: Meta): Metadata {
  return { name: `${nameOf(meta)}-credentials`, namespace: typeof meta === 'string' ? DEFAULT_NAMESPACE : meta.namespace };
}

/**
 * What every test server needs: they speak plaintext on loopback, which a ConnectedSystem must allow
 * explicitly, and credentials from the Secret `<name>-credentials` (see credentialsSecret, and
 * slapdCredentials, postgresCredentials and scimCredentials for the one a test server takes).
 */
function testServerSpec(meta: Meta) {
  return { insecure: true, allowPrivateNetwork: true, credentialsSecretRef: { name: credentialsMeta(meta).name } };
}

export function sqliteSystem(meta: Meta, path: string, spec: Partial<SystemSpec> = {}): ManifestOf<'ConnectedSystem'> {
  return connectedSystem(meta, { type: 'sqlite', sqlite: { path }, ...spec });
}

export function postgresSystem(
  meta: Meta,
  server: Pick<PostgresServer, 'host' | 'port'>,
  spec: SystemOverrides<'postgres'> = {},
): ManifestOf<'ConnectedSystem'> {
  const { postgres, ...rest } = spec;
  const block = { host: server.host, port: server.port, database: 'postgres', ssl: 'disable' as const, ...postgres };
  return connectedSystem(meta, { type: 'postgres', ...testServerSpec(meta), postgres: block, ...rest });
}

export function ldapSystem(
  meta: Meta,
  server: Pick<SlapdServer, 'url' | 'peopleDN' | 'groupsDN'>,
  spec: SystemOverrides<'ldap'> = {},
): ManifestOf<'ConnectedSystem'> {
  const { ldap, ...rest } = spec;
  const block = { url: server.url, peopleDN: server.peopleDN, groupsDN: server.groupsDN, ...ldap };
  return connectedSystem(meta, { type: 'ldap', ...testServerSpec(meta), ldap: block, ...rest });
}

export function scimSystem(meta: Meta, server: Pick<ScimServer, 'baseUrl'>, spec: SystemOverrides<'scim'> = {}): ManifestOf<'ConnectedSystem'> {
  const { scim, ...rest } = spec;
  return connectedSystem(meta, { type: 'scim', ...testServerSpec(meta), scim: { baseUrl: server.baseUrl, auth: 'bearer', ...scim }, ...rest });
}

/** The Secret `<name>-credentials` the system `meta` (ldapSystem) names: slapd's admin. */
export function slapdCredentials(meta: Meta, slapd: Pick<SlapdServer, 'adminDN' | 'adminPassword'>): SecretManifest {
  return credentialsSecret(credentialsMeta(meta), { bindDN: slapd.adminDN, password: slapd.adminPassword });
}

/** The Secret `<name>-credentials` the system `meta` (postgresSystem) names: PostgreSQL's admin. */
export function postgresCredentials(meta: Meta, postgres: Pick<PostgresServer, 'adminUser' | 'adminPassword'>): SecretManifest {
  return credentialsSecret(credentialsMeta(meta), { username: postgres.adminUser, password: postgres.adminPassword });
}

/** The Secret `<name>-credentials` the system `meta` (scimSystem) names: scim2-server's bearer token. */
export function scimCredentials(meta: Meta, scim: Pick<ScimServer, 'token'>): SecretManifest {
  return credentialsSecret(credentialsMeta(meta), { token: scim.token });
}

export function secret(meta: Meta, stringData: Record<string, string>): SecretManifest {
  return { apiVersion: 'v1', kind: 'Secret', metadata: metadata(meta), stringData };
}

/** An identity source's feed (spec.configMapRef) must carry the label rollcall.dev/source-data. */
export function configMap(meta: Meta, data: Record<string, string>): ConfigMapManifest {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(meta), data };
}

/**
 * A Secret a ConnectedSystem may use: labelled rollcall.dev/credentials, and (unless `allowInsecure`
 * is false) consenting to the plaintext transport of the test servers.
 */
export function credentialsSecret(meta: Meta, stringData: Record<string, string>, { allowInsecure = true } = {}): SecretManifest {
  const { labels, annotations, ...rest } = metadata(meta);
  const consent = allowInsecure ? { 'rollcall.dev/allow-insecure': 'true', ...annotations } : annotations;
  return secret({ ...rest, labels: { 'rollcall.dev/credentials': 'true', ...labels }, ...(consent ? { annotations: consent } : {}) }, stringData);
}

/**
 * One YAML stream, documents separated by `---`. Written as YAML 1.1, so strings such as "true" or
 * "yes" come out quoted for kubectl's YAML 1.1 reader as well as for the yaml library's 1.2 one.
 */
export function manifestsYaml(manifests: readonly Manifest[]): string {
  return manifests.map((manifest) => stringify(manifest, { version: '1.1', lineWidth: 0 })).join('---\n');
}

/** Writes `manifests` into `dir/file` (replacing it), as a person edits a manifest directory. */
export function writeManifests(dir: string, file: string, manifests: readonly Manifest[]): void {
  writeFileSync(join(dir, file), manifestsYaml(manifests));
}
