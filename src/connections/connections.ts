// One live connector per ConnectedSystem, rebuilt when its spec or credentials change, with a
// per-system concurrency limit so a slow or broken system never holds the others' workers, and a
// circuit that only a failure of the whole system opens, never one account's.
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { RetryableError, failureScope, type ConnectedSystem } from '../api/index.ts';
import { connectorFactory } from '../connectors/registry.ts';
import type { EgressPolicy } from '../connectors/egress/guard.ts';
import { SYSTEM_CONCURRENCY, type Connector, type KubernetesReach } from '../connectors/types.ts';
import { keyOf, keyString, type Store } from '../store/store.ts';
import { Circuit } from './circuit.ts';
import { CredentialsMissingError, CredentialsRefusedError, credentialsRefusal } from './credentials.ts';
import { systemCredentialsUse } from './credentials-use.ts';
import { ldapCaFromSecret } from './ldap-ca.ts';

interface Entry {
  name: string;
  fingerprint: string;
  connector: Promise<Connector>;
  limit: PQueue;
  circuit: Circuit;
  /** Retries of one account's ambiguous failure, one at a time, each with the system to itself. */
  alone: PQueue;
  /** The check in flight, shared by every call that asks whether the system answers. */
  probe: Promise<unknown> | undefined;
}

/** A call made for one account's sake (a User's sync), so a failure can be blamed on that account. */
export interface AccountUse {
  /** The account's userName, for messages. */
  account: string;
  /** A leaver's: it goes ahead of the other calls waiting for the system (a slow one may have many). */
  urgent?: boolean;
  /**
   * The rest of an urgent call, after the writes that cut access off (sync-account.ts): ahead of the
   * ordinary calls, behind every urgent one waiting, so a burst of leavers is cut off before any of
   * them is read back.
   */
  followUp?: boolean;
}

/** Who goes first among the calls waiting for a system (p-queue runs the highest priority first, in order within one). */
function priorityOf(use: AccountUse | undefined): number {
  if (use?.urgent) return use.followUp ? 1 : 2;
  return 0;
}

export interface ConnectionsOptions {
  store: Store;
  logger: Logger;
  kubeconfig?: KubeConfig;
  /** Concurrent calls into one system (default SYSTEM_CONCURRENCY). */
  perSystemConcurrency?: number;
  timeoutMs?: number;
  /** Connectors only observe (rollcall plan, audits): they create nothing, not even their storage. */
  observeOnly?: boolean;
  /** What a cluster admin allows kubernetes systems of a namespace beyond it; default: nothing. */
  kubernetesReach?: (namespace: string) => KubernetesReach;
  /** Cluster-internal ranges and the resolver every connector's egress guard uses (connectors/egress/). */
  egress?: EgressPolicy;
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
   *
   * Only a failure of the system opens the circuit. The connector says which failures are whose
   * (`FailureScope`); for an account's call it cannot tell about (a dropped connection, a timeout),
   * the system is asked first (`check`): if it does not answer, the circuit opens; if it does, `fn`
   * runs once more with the system to itself. Another account's request that killed a shared
   * connection cannot hurt it there, so a bystander succeeds; a request that fails again on its own
   * is this account's failure, retried later by the work queue without opening the circuit.
   */
  async use<T>(system: ConnectedSystem, fn: (connector: Connector) => Promise<T>, forAccount?: AccountUse): Promise<T> {
    const entry = await this.#entry(system);
    entry.circuit.guard(entry.name);
    try {
      const result = (await entry.limit.add(
        async () => {
          entry.circuit.guard(entry.name);
          return fn(await entry.connector);
        },
        { priority: priorityOf(forAccount) },
      )) as T;
      entry.circuit.succeeded();
      return result;
    } catch (error) {
      if (forAccount && isAmbiguous(error)) return this.#isolate(entry, fn, error, forAccount);
      throw this.#failed(entry, error, !forAccount);
    }
  }

  /** After an account's ambiguous failure: is the system down, or was it this request? */
  async #isolate<T>(entry: Entry, fn: (connector: Connector) => Promise<T>, first: unknown, { account }: AccountUse): Promise<T> {
    if (!(await this.#answers(entry))) throw this.#failed(entry, first, true);
    try {
      const result = await this.#alone(entry, async () => fn(await entry.connector));
      entry.circuit.succeeded();
      return result;
    } catch (error) {
      if (!isAmbiguous(error)) throw this.#failed(entry, error, false);
      if (!(await this.#answers(entry))) throw this.#failed(entry, error, true);
      this.#options.logger.warn(
        { system: entry.name, account, reason: (error as Error).message },
        "one account's request fails while the system answers others; the circuit stays closed",
      );
      const message = `${(error as Error).message} (only this account's request fails: ${entry.name} answers others)`;
      throw new RetryableError(message, { cause: error, scope: 'account' });
    }
  }

  /** Opens the circuit if `error` is the system's (an ambiguous one counts as such when `ambiguousIsSystem`); returns it. */
  #failed(entry: Entry, error: unknown, ambiguousIsSystem: boolean): unknown {
    if (failureScope(error) === 'system' || (ambiguousIsSystem && isAmbiguous(error))) entry.circuit.failed(error);
    return error;
  }

  /** Whether the system answers a check now. Calls that ask at the same time share one check. */
  async #answers(entry: Entry): Promise<boolean> {
    entry.probe ??= entry.connector
      .then((connector) => connector.check(new AbortController().signal))
      .finally(() => {
        entry.probe = undefined;
      });
    return entry.probe.then(
      () => true,
      () => false,
    );
  }

  /** Runs `task` once every call in the system's limit has finished and while none starts. */
  #alone<T>(entry: Entry, task: () => Promise<T>): Promise<T> {
    return entry.alone.add(async () => {
      entry.limit.pause();
      try {
        await entry.limit.onPendingZero();
        entry.circuit.guard(entry.name);
        return await task();
      } finally {
        entry.limit.start();
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
        ...(system.spec.type === 'kubernetes' && this.#options.kubernetesReach
          ? { kubernetesReach: this.#options.kubernetesReach(keyOf(system).namespace) }
          : {}),
        timeoutMs,
        egress: this.#options.egress,
        observeOnly: this.#options.observeOnly,
      }),
    );
    // A failed connect must not be cached: the next call tries again.
    connector.catch(() => {
      if (this.#entries.get(name)?.connector === connector) this.#entries.delete(name);
    });
    const entry: Entry = {
      name,
      fingerprint,
      connector,
      limit: new PQueue({ concurrency: this.#options.perSystemConcurrency ?? SYSTEM_CONCURRENCY }),
      circuit: new Circuit(),
      alone: new PQueue({ concurrency: 1 }),
      probe: undefined,
    };
    this.#entries.set(name, entry);
    return entry;
  }

  /** The system's credentials, read again once CREDENTIALS_TTL_MS has passed or its references changed. */
  #cachedCredentials(name: string, system: ConnectedSystem): Promise<Record<string, string>> {
    // The destination is part of the key: a system re-pointed elsewhere is checked again at once.
    const refs = JSON.stringify([system.spec.credentialsSecretRef, system.spec.ldap?.caSecretRef, systemCredentialsUse(system.spec)]);
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
   * The credentials Secret's data, if it opts in for this system and for where and how the system
   * would send it (connections/credentials.ts), plus the key ca.crt of spec.ldap.caSecretRef
   * (ldap-ca.ts; a system without a credentials Secret binds anonymously, and sends nothing to protect).
   */
  async #credentials(system: ConnectedSystem): Promise<Record<string, string>> {
    const { namespace } = keyOf(system);
    const out: Record<string, string> = {};
    const ref = system.spec.credentialsSecretRef;
    if (ref) {
      const key = { namespace, name: ref.name };
      const metadata = await this.#options.store.getSecretMetadata(key);
      const data = metadata === undefined ? undefined : await this.#options.store.getSecret(key);
      if (metadata === undefined || data === undefined)
        throw new CredentialsMissingError(`Secret ${namespace}/${ref.name} named by ConnectedSystem ${system.metadata.name} does not exist yet`);
      const refusal = credentialsRefusal(ref.name, 'spec.credentialsSecretRef', metadata, system.metadata.name, systemCredentialsUse(system.spec));
      if (refusal) throw new CredentialsRefusedError(`ConnectedSystem ${system.metadata.name}: ${refusal}`);
      Object.assign(out, data);
    }
    const ca = await ldapCaFromSecret(this.#options.store, namespace, `ConnectedSystem ${system.metadata.name}`, system.spec.ldap?.caSecretRef);
    if (ca !== undefined) out['ca.crt'] = ca;
    return out;
  }
}

/**
 * A failure that does not say whose it is: a RetryableError without a scope (a dropped connection,
 * a timeout, a 500). A call made for no account in particular (a listing, a check) counts it as the
 * system's, as before scopes existed.
 */
function isAmbiguous(error: unknown): boolean {
  return error instanceof RetryableError && error.scope === undefined;
}
