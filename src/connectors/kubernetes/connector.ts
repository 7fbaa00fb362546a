// The kubernetes connector: a user's access in the cluster is the set of RoleBindings and
// ClusterRoleBindings Rollcall made for them. There is no account object, so an account exists
// exactly while it holds at least one managed binding (capabilities.implicitAccounts).
import type { Logger } from 'pino';
import { changeUserName, PermanentError, type AccountChange, type Capabilities, type ObservedAccount } from '../../api/index.ts';
import type { Connector, KubernetesReach } from '../types.ts';
import { desiredBinding, readBinding, sameContent, type ManagedBinding, type Scope } from './bindings.ts';
import { parseEntitlement } from './entitlement.ts';
import { managedSelector, SYSTEM_LABEL, USER_ANNOTATION, userKey } from './names.ts';
import { describeRef, refOf, type RbacClient } from './rbac.ts';
import { outOfReach } from './reach.ts';
import type { SubjectLookup } from './subjects.ts';

export interface KubernetesConnectorOptions {
  scope: Scope;
  rbac: RbacClient;
  subjectFor: SubjectLookup;
  logger: Logger;
  /** The ConnectedSystem's namespace: it binds inside it, and beyond only as far as `reach` allows. */
  home: string;
  reach: KubernetesReach;
}

export class KubernetesConnector implements Connector {
  readonly capabilities: Capabilities = { disable: false, entitlements: true, attributes: [], implicitAccounts: true };
  readonly #options: KubernetesConnectorOptions;

  constructor(options: KubernetesConnectorOptions) {
    this.#options = options;
  }

  async check(signal: AbortSignal): Promise<void> {
    // Listing the managed scope is what every resync does, so it proves exactly the access needed.
    await this.#options.rbac.list(managedSelector(this.#options.scope.systemLabel), signal, 1);
  }

  async *listAccounts(signal: AbortSignal): AsyncIterable<ObservedAccount> {
    const byUser = new Map<string, ManagedBinding[]>();
    for (const binding of await this.#managed(managedSelector(this.#options.scope.systemLabel), signal)) {
      byUser.set(binding.userName, [...(byUser.get(binding.userName) ?? []), binding]);
    }
    yield* [...byUser.values()].map(observed);
  }

  async getAccount(userName: string, signal: AbortSignal): Promise<ObservedAccount | undefined> {
    const held = await this.#bindingsOf(userName, signal);
    return held.length === 0 ? undefined : observed(held);
  }

  async apply(change: AccountChange, signal: AbortSignal): Promise<void> {
    const userName = changeUserName(change);
    let wrote = false;
    switch (change.op) {
      case 'create':
      case 'enable':
      case 'update':
        break; // nothing to create or switch on: the grants that follow are the account
      case 'disable':
      case 'delete':
        wrote = await this.#remove(await this.#bindingsOf(userName, signal), signal);
        break;
      case 'grant':
        wrote = await this.#grant(userName, change.entitlement, signal);
        break;
      case 'revoke': {
        parseEntitlement(change.entitlement); // a malformed string is a mistake to report, not a no-op
        const held = await this.#bindingsOf(userName, signal);
        wrote = await this.#remove(
          held.filter((binding) => binding.entitlement === change.entitlement),
          signal,
        );
        break;
      }
    }
    const { system } = this.#options.scope;
    this.#options.logger.debug({ system, op: change.op, userName, wrote }, wrote ? 'change applied' : 'change already in place');
  }

  /** A binding outside the system's namespace that no allowance covers. A malformed string is the grant's to report. */
  refusal(entitlement: string): string | undefined {
    let target;
    try {
      target = parseEntitlement(entitlement);
    } catch {
      return undefined;
    }
    const { scope, home, reach } = this.#options;
    return outOfReach(scope.system, home, reach, target);
  }

  async close(): Promise<void> {
    // Each call is one HTTP request; there is no session to end.
  }

  async #grant(userName: string, entitlement: string, signal: AbortSignal): Promise<boolean> {
    const { rbac, scope, subjectFor } = this.#options;
    const target = parseEntitlement(entitlement);
    // Checked here as well as in the plan: no path through this connector binds out of reach.
    const refused = outOfReach(scope.system, this.#options.home, this.#options.reach, target);
    if (refused !== undefined) throw new PermanentError(`kubernetes system ${scope.system}: grant to ${JSON.stringify(userName)} refused: ${refused}`);
    const subject = await subjectFor(userName, () => this.#bindingsOf(userName, signal), signal);
    const want = desiredBinding(scope, userName, subject, target);
    if (await rbac.create(want, signal)) return true;
    const have = await rbac.read(refOf(want), signal);
    if (have === undefined) return rbac.create(want, signal); // deleted in between
    if (have.metadata?.labels?.[SYSTEM_LABEL] !== scope.systemLabel || have.metadata?.annotations?.[USER_ANNOTATION] !== userName) {
      throw new PermanentError(
        `kubernetes system ${scope.system}: grant ${JSON.stringify(entitlement)} to ${JSON.stringify(userName)}: ${describeRef(refOf(want))} exists but is not managed by this system; rename or remove it`,
      );
    }
    if (sameContent(have, want)) return false;
    // roleRef cannot change in place; the name embeds the entitlement, so only labels and subjects can differ here.
    await rbac.replace({ ...want, metadata: { ...want.metadata, resourceVersion: have.metadata?.resourceVersion } }, signal);
    return true;
  }

  async #remove(bindings: readonly ManagedBinding[], signal: AbortSignal): Promise<boolean> {
    for (const binding of bindings) await this.#options.rbac.delete(binding, signal);
    return bindings.length > 0;
  }

  /** The user's bindings in the managed scope: selected by the hashed key, then matched on the exact userName. */
  async #bindingsOf(userName: string, signal: AbortSignal): Promise<ManagedBinding[]> {
    const { scope } = this.#options;
    const selector = managedSelector(scope.systemLabel, userKey(scope.system, userName));
    return (await this.#managed(selector, signal)).filter((binding) => binding.userName === userName);
  }

  async #managed(selector: string, signal: AbortSignal): Promise<ManagedBinding[]> {
    const { rbac, scope, logger } = this.#options;
    const out: ManagedBinding[] = [];
    for (const binding of await rbac.list(selector, signal)) {
      const read = readBinding(scope, binding);
      if (read) out.push(read);
      else
        logger.warn(
          { system: scope.system, binding: describeRef(refOf(binding)) },
          'binding has Rollcall labels but no rollcall.dev/user or rollcall.dev/entitlement annotation: ignored',
        );
    }
    return out;
  }
}

/** One user's bindings as an account. Edited bindings keep the account present but hold no entitlement. */
function observed(bindings: readonly ManagedBinding[]): ObservedAccount {
  const intact = bindings.filter((binding) => binding.intact);
  const entitlements = [...new Set(intact.map((binding) => binding.entitlement))].sort();
  const first = bindings[0]!;
  return { userName: first.userName, id: (intact[0] ?? first).subjectName || first.userName, state: 'present', attributes: {}, entitlements };
}
