// One live connector per ConnectedSystem, rebuilt when its spec or credentials change, with a
// per-system concurrency limit so a slow or broken system never holds the others' workers.
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { ConnectedSystem } from '../api/index.ts';
import { connectorFactory } from '../connectors/registry.ts';
import type { Connector, KubernetesReach } from '../connectors/types.ts';
import { keyOf, keyString, type Store } from '../store/store.ts';
import { Circuit } from './circuit.ts';
import { CredentialsMissingError, CredentialsRefusedError, credentialsRefusal } from './credentials.ts';

interface Entry {
  name: string;
  fingerprint: string;
  connector: Promise<Connector>;
  limit: PQueue;
  circuit: Circuit;
}

export interface ConnectionsOptions {
  store: Store;
  logger: Logger;
  kubeconfig?: KubeConfig;
  /** Concurrent calls into one system. */
  perSystemConcurrency?: number;
  timeoutMs?: number;
  /** Connectors only observe (rollcall plan, audits): they create nothing, not even their storage. */
  observeOnly?: boolean;
  /** What a cluster admin allows kubernetes systems of a namespace beyond it; default: nothing. */
  kubernetesReach?: (namespace: string) => KubernetesReach;
}

/**
 * How long a Secret read for a system's credentials is reused. Reading it on every call would be
 * one API request per account change; a rotated Secret is picked up within this time.
 */
export const CREDENTIALS_TTL_MS = 30_000;

export class Connections {
  readonly #entries = new Map<string, Entry>();
  readonly #credentialsRead = new Map<string, { atMs: number; credentials: Promise<Record<string, string>> }>();
  readonly #options: ConnectionsOptions;

  constructor(options: ConnectionsOptions) {
    this.#options = options;
  }

  /**
   * Runs `fn` with the system's connector, within the system's concurrency limit. While the
   * system is failing, calls fail fast (see Circuit) instead of waiting for a timeout each.
   */
  async use<T>(system: ConnectedSystem, fn: (connector: Connector) => Promise<T>): Promise<T> {
    const entry = await this.#entry(system);
    entry.circuit.guard(entry.name);
    return entry.limit.add(async () => {
      entry.circuit.guard(entry.name);
      try {
        const result = await fn(await entry.connector);
        entry.circuit.succeeded();
        return result;
      } catch (error) {
        entry.circuit.failed(error);
        throw error;
      }
    }) as Promise<T>;
  }

  /** Closes the connector of a system that changed or went away. */
  async release(name: string): Promise<void> {
    const entry = this.#entries.get(name);
    if (!entry) return;
    this.#entries.delete(name);
    for (const key of this.#credentialsRead.keys()) if (key.startsWith(`${name}|`)) this.#credentialsRead.delete(key);
    await entry.connector.then((c) => c.close()).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#entries.keys()].map((name) => this.release(name)));
  }

  async #entry(system: ConnectedSystem): Promise<Entry> {
    const name = keyString(keyOf(system));
    const credentials = await this.#cachedCredentials(name, system);
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([system.spec, credentials]))
      .digest('hex');
    const current = this.#entries.get(name);
    if (current?.fingerprint === fingerprint) return current;
    if (current) await this.release(name);
    const { logger, kubeconfig, timeoutMs } = this.#options;
    const connector = connectorFactory(system.spec.type).then((create) =>
      create({
        system: name,
        namespace: keyOf(system).namespace,
        spec: system.spec,
        credentials,
        logger: logger.child({ system: name }),
        kubeconfig,
        ...(system.spec.type === 'kubernetes' && this.#options.kubernetesReach ? { kubernetesReach: this.#options.kubernetesReach(keyOf(system).namespace) } : {}),
        timeoutMs,
        observeOnly: this.#options.observeOnly,
      }),
    );
    // A failed connect must not be cached: the next call tries again.
    connector.catch(() => {
      if (this.#entries.get(name)?.connector === connector) this.#entries.delete(name);
    });
    const entry = { name, fingerprint, connector, limit: new PQueue({ concurrency: this.#options.perSystemConcurrency ?? 4 }), circuit: new Circuit() };
    this.#entries.set(name, entry);
    return entry;
  }

  /** The system's credentials, read again once CREDENTIALS_TTL_MS has passed or its references changed. */
  #cachedCredentials(name: string, system: ConnectedSystem): Promise<Record<string, string>> {
    const refs = JSON.stringify([system.spec.credentialsSecretRef, system.spec.ldap?.caSecretRef]);
    const key = `${name}|${refs}`;
    const cached = this.#credentialsRead.get(key);
    if (cached && performance.now() - cached.atMs < CREDENTIALS_TTL_MS) return cached.credentials;
    for (const other of this.#credentialsRead.keys()) if (other.startsWith(`${name}|`)) this.#credentialsRead.delete(other);
    const credentials = this.#credentials(system);
    this.#credentialsRead.set(key, { atMs: performance.now(), credentials });
    // A failed read (a Secret not there yet) is not kept: the next call reads again.
    credentials.catch(() => this.#credentialsRead.delete(key));
    return credentials;
  }

  /**
   * The credentials Secret's data, if it opts in for this system (controllers/credentials.ts), plus
   * the key ca.crt of spec.ldap.caSecretRef: a CA is not a secret, and only that key is read.
   */
  async #credentials(system: ConnectedSystem): Promise<Record<string, string>> {
    const { namespace } = keyOf(system);
    const out: Record<string, string> = {};
    const ref = system.spec.credentialsSecretRef;
    if (ref) {
      const key = { namespace, name: ref.name };
      const metadata = await this.#options.store.getSecretMetadata(key);
      const data = metadata === undefined ? undefined : await this.#options.store.getSecret(key);
      if (metadata === undefined || data === undefined) throw new CredentialsMissingError(`Secret ${namespace}/${ref.name} named by ConnectedSystem ${system.metadata.name} does not exist yet`);
      const refusal = credentialsRefusal(ref.name, 'spec.credentialsSecretRef', metadata, system.metadata.name);
      if (refusal) throw new CredentialsRefusedError(`ConnectedSystem ${system.metadata.name}: ${refusal}`);
      Object.assign(out, data);
    }
    const caRef = system.spec.ldap?.caSecretRef;
    if (caRef) {
      const data = await this.#options.store.getSecret({ namespace, name: caRef.name });
      if (!data) throw new CredentialsMissingError(`Secret ${namespace}/${caRef.name} named by ConnectedSystem ${system.metadata.name} (spec.ldap.caSecretRef) does not exist yet`);
      if (data['ca.crt'] === undefined) throw new CredentialsMissingError(`Secret ${namespace}/${caRef.name} (spec.ldap.caSecretRef) has no key ca.crt`);
      out['ca.crt'] = data['ca.crt'];
    }
    return out;
  }
}
