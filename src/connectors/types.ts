// The connector contract: observe and apply, no policy. One folder per system type implements it.
import type { Logger } from 'pino';
import type { EgressPolicy } from './egress/guard.ts';
import type { AccountChange, Capabilities, ConnectedSystemSpec, ObservedAccount, RefusedEntitlement } from '../api/index.ts';

/**
 * Calls into one system at once: Connections lets this many run, and a connector that pools its
 * connections (PostgreSQL) keeps as many. Eight, not four: a burst of 100 leavers at 10,000 Users was
 * cut off about a third sooner (p50 1.78 s against 1.12 s in the scale benchmark), and convergence
 * took no longer; the systems, not the calls in flight, set the pace beyond that.
 */
export const SYSTEM_CONCURRENCY = 8;

export interface Connector {
  readonly capabilities: Capabilities;
  /** Proves the connection and credentials work (the `Connected` condition). Throws RetryableError or PermanentError. */
  check(signal: AbortSignal): Promise<void>;
  /** Every account in the managed scope, and nothing outside it. */
  listAccounts(signal: AbortSignal): AsyncIterable<ObservedAccount>;
  /**
   * The account of `userName`. One outside the managed scope (legacy marker, no marker, another
   * system's) comes back with `owner` set, so the engine can adopt it or report a conflict.
   */
  getAccount(userName: string, signal: AbortSignal): Promise<ObservedAccount | undefined>;
  /**
   * Optional: the userName of every account in the system, whoever's it is (this system's, another
   * system's, legacy-marked, unmarked), read beside each listing in O(pages). A name not among them
   * has no account at all, so a joiner's create needs no getAccount first. Names are as getAccount
   * matches them: a name it would find is listed.
   */
  listUserNames?(signal: AbortSignal): AsyncIterable<string>;
  /**
   * Optional: which of `entitlements` this system never grants whatever the roles say (PostgreSQL:
   * anything but a group role no system manages: accounts, markers, predefined and elevated roles),
   * each with its reason. The caller refuses them: never granted,
   * revoked if held.
   */
  refusedEntitlements?(entitlements: readonly string[], signal: AbortSignal): Promise<RefusedEntitlement[]>;
  /**
   * Optional: a short value that changes whenever the system's accounts, memberships or attributes
   * may have changed, whoever changed them (PostgreSQL: the catalogs' row versions; LDAP: Active
   * Directory's highestCommittedUSN or OpenLDAP's contextCSN), or undefined when this server cannot
   * say. Cheap to ask: the system controller asks every few seconds between listings and lists again
   * when it changed while Rollcall wrote nothing there, so a hand-made change is corrected in seconds,
   * not at the next resync.
   */
  changeToken?(signal: AbortSignal): Promise<string | undefined>;
  /** `adopt` takes a legacy-marked or unmanaged account into the scope; never another system's. */
  /**
   * One idempotent step: applying it twice leaves the system as applying it once. A connector that
   * finds the change already made (and writes nothing) may say so with `{ skipped: why }`; what is
   * reported as done is then what was written, not what was planned.
   */
  apply(change: AccountChange, signal: AbortSignal): Promise<ApplyResult | void>;
  close(): Promise<void>;
  /**
   * Why this connector will not grant the entitlement (it reaches beyond what the operator allows
   * this system), or undefined. The engine leaves a refused entitlement out of the plan, and a
   * grant of it fails all the same.
   */
  refusal?(entitlement: string): string | undefined;
}

/** apply() found nothing to write: the system already held what the change asks for. */
export interface ApplyResult {
  skipped: string;
}

/**
 * How far a kubernetes ConnectedSystem may bind beyond its own namespace, set by a cluster admin
 * (`rollcall run --kubernetes-allow`, Helm value kubernetesConnector.allow). Without one it binds
 * only inside its own namespace.
 */
export interface KubernetesReach {
  /** ClusterRoleBindings (cluster-wide). */
  cluster: boolean;
  /** Other namespaces it may create RoleBindings in; '*' for any. */
  namespaces: readonly string[];
  /**
   * ClusterRoles it may bind, by name, wherever it binds (--kubernetes-bindable-cluster-roles, Helm
   * value kubernetesConnector.bindableClusterRoles). Default: view only (kubernetes/bindable.ts).
   */
  bindableClusterRoles?: readonly string[];
  /** The operator's own roles (ClusterRole/NAME, Role/NAME@NAMESPACE): never bound (--kubernetes-operator-roles). */
  operatorRoles?: readonly string[];
}

export interface ConnectorContext {
  /** `namespace/name` of the ConnectedSystem: in messages, and in the marker that draws its managed scope. */
  system: string;
  spec: ConnectedSystemSpec;
  /** The data of the Secret named by spec.credentialsSecretRef (decoded), or empty. Never log it. */
  credentials: Record<string, string>;
  logger: Logger;
  /** Only for the kubernetes type: a kubeconfig for the cluster Rollcall runs in. */
  kubeconfig?: import('@kubernetes/client-node').KubeConfig;
  /** Namespace of the ConnectedSystem (the kubernetes type binds inside it by default). */
  namespace: string;
  /** Only for the kubernetes type: what a cluster admin allows systems of this namespace beyond it. */
  kubernetesReach?: KubernetesReach;
  /**
   * The operator's egress policy (cluster-internal ranges, the resolver): connectors refuse
   * loopback, link-local and those addresses unless spec.allowPrivateNetwork (connectors/egress/).
   * Absent: the same refusals, without cluster ranges.
   */
  egress?: EgressPolicy;
  /** Upper bound for one remote call; past it the call fails with a RetryableError. Default 10 s. */
  timeoutMs?: number;
  /**
   * Only observe (rollcall plan, audits): the connector must create nothing, not even its own
   * storage; apply() is never called.
   */
  observeOnly?: boolean;
}

export type ConnectorFactory = (context: ConnectorContext) => Promise<Connector>;
