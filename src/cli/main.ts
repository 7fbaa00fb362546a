// The `rollcall` command.
import { parseArgs } from 'node:util';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../process/logger.ts';
import { consoleOutput, type Output } from './output.ts';
import { VERSION } from './version.ts';

const HELP: Record<string, string> = {
  main: `rollcall ${VERSION} — keeps accounts in LDAP, PostgreSQL, SCIM and Kubernetes equal to what is declared

Usage: rollcall <command> [options]

Commands:
  run       run the controller (in a cluster, from a kubeconfig, or --manifests DIR with no cluster)
  plan      show what would change in each connected system, from files or a cluster (exit 0: nothing, 2: changes, 1: error)
  audit     report orphans, access creep, missing, expired and expiring access, separation-of-duties conflicts and pending approvals
  version   print the version

Run "rollcall <command> --help" for a command's options.`,
  run: `Usage: rollcall run [--manifests DIR [--once] [--state FILE]] [--kubeconfig PATH] [--namespace NS]...

Options:
  --manifests DIR     no cluster: read Users, roles, bindings and systems from DIR (watched for changes)
  --once              with --manifests: converge once, print the result, exit
  --state FILE        with --manifests: where status, finalizers and deletions are kept between runs,
                      so a User removed from DIR while Rollcall was stopped is still deprovisioned
                      (default: .rollcall/<name of DIR>.state.json in the working directory)
  --kubeconfig PATH   cluster to use (default: in-cluster, then KUBECONFIG, then ~/.kube/config)
  --namespace NS      (repeatable) serve these namespaces only (default: all); with the Helm chart's
                      watchNamespaces, the ServiceAccount may read Secrets and ConfigMaps only there
  --health-port N     serve /healthz, /readyz and /metrics on port N (no authentication: per-system
                      metrics are one sum, labelled system="all")
  --metrics-system-labels  label per-system metrics with each system's NAMESPACE/NAME instead; whoever
                      reaches the port then learns every tenant's systems (Helm value metrics.systemLabels)
  --scim-port N       serve inbound SCIM 2.0 (IdentitySources of type scim) at /scim/v2 on port N
  --scim-tls-cert FILE, --scim-tls-key FILE  PEM certificate and key: serve SCIM over HTTPS
  --kubernetes-allow NAMESPACE=GRANT  (repeatable) let kubernetes ConnectedSystems of NAMESPACE bind beyond
                      it: GRANT is "cluster" (ClusterRoleBindings) or "namespaces:NS[,NS...]" ("*": any).
                      Without it a kubernetes system binds only inside its own namespace; for cluster
                      admins only (Helm value kubernetesConnector.allow)
  --kubernetes-bindable-cluster-roles NAME[,NAME...]  (repeatable) the ClusterRoles kubernetes systems may
                      bind (default: view only); Helm value kubernetesConnector.bindableClusterRoles
  --kubernetes-operator-roles ClusterRole/NAME,Role/NAME@NS  Rollcall's own roles: never bound, whatever
                      the list says (the chart passes the roles it creates)
  --cluster-cidr CIDR[,CIDR...]  (repeatable) the cluster's Service and Pod ranges, e.g. 10.96.0.0/12:
                      ConnectedSystems and IdentitySources reach them (as loopback and link-local
                      addresses, always refused) only with spec.allowPrivateNetwork: true
                      (Helm value egress.clusterCIDRs)
  --feed-max-bytes N  the largest feed body an IdentitySource reads over HTTP (default 33554432, 32 MiB)
  --request-timeout SECONDS  the deadline of each call to the API server (default 30); a call that
                      takes longer fails and is retried
  --watch-silent-after SECONDS  re-list a watch from which nothing arrived for this long (default 20;
                      the API server ends each watch every 10 s, so a healthy one is never silent);
                      /healthz and /readyz fail while nothing arrived for twice that
  --no-leader-elect   run without a Lease (a single replica only)
  --lease-namespace NS  namespace of the leader-election Lease (default: the first --namespace, or default)
  --leader-pod NAME   label this pod (in the Lease's namespace) rollcall.dev/leader: "true" while it
                      leads, so a Service selecting the label reaches the replica serving --scim-port
  --log-level LEVEL   trace, debug, info (default; warn with --manifests), warn, error, fatal or silent
  --log-format FORMAT json (default: one JSON object a line) or text (one short line a record)
                      Logs go to stderr; stdout carries only what the command prints.`,
  plan: `Usage: rollcall plan -f DIR [--state FILE] [-o text|json]
       rollcall plan --kubeconfig PATH [-f DIR] [--namespace NS] [--context NAME] [--as USER [--as-group GROUP]] [-o text|json]

Observes every connected system and prints, per system, the changes Rollcall would make. Changes
nothing: not the systems, not the cluster, not the state file.

Options:
  -f, --file DIR       the manifests to plan
  --state FILE         without --kubeconfig: the state file of "rollcall run --manifests DIR" (statuses,
                       finalizers, deletions), read when it exists, never written
                       (default: .rollcall/<name of DIR>.state.json in the working directory)
  --kubeconfig PATH    plan against this cluster: what it holds, status included, with the manifests in
                       DIR laid over it as "kubectl diff" would (the files' spec; labels and annotations
                       merged as kubectl apply merges them; objects only in the cluster kept). Secrets
                       not in DIR are read from the cluster. Only list and get calls are made.
  --namespace NS       with --kubeconfig: this namespace only
  --context NAME, --as USER, --as-group GROUP  with --kubeconfig: as kubectl's, the context to use and
                       whom to impersonate; the API server allows only what that identity may read
  --kubernetes-allow NAMESPACE=GRANT  as for "rollcall run": plan what run, given the same flags, does
  --kubernetes-bindable-cluster-roles, --kubernetes-operator-roles  as for "rollcall run"
  --cluster-cidr CIDR[,CIDR...]  as for "rollcall run"
  -o, --output FORMAT  text (default) or json

-o json prints one document (format rollcall.dev/plan/v1; fields are only ever added):
  {"format", "exitCode", "totals": {systems, planned, suspended, errors, changes, held, orphans},
   "systems": [{namespace, name, type, status: "planned"|"suspended"|"error", error?,
                changes: [{op, userName, entitlement?, attributes?, held?: true}],
                orphans: [userName], guard: {tripped, count, limit|null, message?} | null}]}
  op is create, update, grant, revoke, disable, enable or delete; held: true marks a change the
  deletion guard holds until approved; guard is null unless status is "planned".

Exit status: 0 nothing to change, 2 changes pending (held ones included), 1 error (invalid manifest,
unreachable system or cluster, missing Secret).`,
  audit: `Usage: rollcall audit -f DIR [--state FILE] [options]
       rollcall audit --kubeconfig PATH [-f DIR] [options]

Observes every connected system (read only, like "rollcall plan") and reports, per system:
  orphan           accounts no User declares
  creep            access held beyond what is declared (entitlements or whole accounts)
  missing          declared access the system does not hold
  expired          access still held after the binding or the User ended
  expiring         grants ending within --expiring-within
  conflict         a User holding two roles that AccessRole.spec.conflictsWith forbids together
  pendingApproval  bindings waiting for an approval, or whose approval was voided

Options:
  -f, --file DIR            the manifests (standalone, or laid over the cluster as in "rollcall plan")
  --state FILE              without --kubeconfig: the state file of "rollcall run --manifests DIR"
  --kubeconfig PATH         audit what this cluster holds
  --namespace NS            this namespace only
  --context NAME, --as USER, --as-group GROUP  with --kubeconfig: as kubectl's (see "rollcall plan --help")
  --system NAME             this ConnectedSystem only (NAME or NAMESPACE/NAME)
  --expiring-within DUR     how far ahead expiring looks, e.g. 7d, 12h (default 7d)
  -o, --output FORMAT       table (default), json, csv or markdown
  --fail-on N               exit 2 when there are more than N findings
  --kubernetes-allow, --kubernetes-bindable-cluster-roles, --kubernetes-operator-roles, --cluster-cidr
                            as for "rollcall run": observe only what run, given the same flags, reaches

-o json prints one document (format rollcall.dev/audit/v1; fields are only ever added):
  {"format", "generatedAt", "expiringWithinMs", "totals": {systems, errors, findings, <kind>: count},
   "systems": [{namespace, name, type, status: "audited"|"suspended"|"error", error?,
                findings: [{kind, userName?, entitlement?, role?, binding?, at?, detail}]}]}

Exit status: 0 done (within --fail-on), 2 more findings than --fail-on, 1 error.`,
  version: 'Usage: rollcall version',
};

export async function main(argv: string[], out: Output = consoleOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    out.line(HELP.main!);
    return 0;
  }
  if (!command) {
    out.error(`rollcall: a command is required\n\n${HELP.main}`);
    return 1;
  }
  if (!(command in HELP) || command === 'main') {
    out.error(`rollcall: unknown command "${command}"\n\n${HELP.main}`);
    return 1;
  }
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        manifests: { type: 'string' },
        once: { type: 'boolean' },
        state: { type: 'string' },
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', multiple: true },
        context: { type: 'string' },
        as: { type: 'string' },
        'as-group': { type: 'string', multiple: true },
        'health-port': { type: 'string' },
        'metrics-system-labels': { type: 'boolean' },
        'scim-port': { type: 'string' },
        'scim-tls-cert': { type: 'string' },
        'scim-tls-key': { type: 'string' },
        'no-leader-elect': { type: 'boolean' },
        'lease-namespace': { type: 'string' },
        'leader-pod': { type: 'string' },
        'kubernetes-allow': { type: 'string', multiple: true },
        'kubernetes-bindable-cluster-roles': { type: 'string', multiple: true },
        'kubernetes-operator-roles': { type: 'string', multiple: true },
        'cluster-cidr': { type: 'string', multiple: true },
        'feed-max-bytes': { type: 'string' },
        'request-timeout': { type: 'string' },
        'watch-silent-after': { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        file: { type: 'string', short: 'f' },
        output: { type: 'string', short: 'o' },
        system: { type: 'string' },
        'expiring-within': { type: 'string' },
        'fail-on': { type: 'string' },
      },
    }));
  } catch (error) {
    out.error(`rollcall ${command}: ${(error as Error).message}\n\n${HELP[command]}`);
    return 1;
  }
  if (values.help) {
    out.line(HELP[command]!);
    return 0;
  }
  const flagProblem = problemWithFlags(values);
  if (flagProblem) {
    out.error(`rollcall ${command}: ${flagProblem}\n\n${HELP[command]}`);
    return 1;
  }
  // Repeatable for run (several namespaces served); plan and audit read one namespace or all.
  const namespaces = (values.namespace as string[] | undefined) ?? [];
  if (namespaces.length > 1 && command !== 'run') {
    out.error(`rollcall ${command}: --namespace can be given once, not ${namespaces.length} times\n\n${HELP[command]}`);
    return 1;
  }
  values.namespace = namespaces[0];
  try {
    switch (command) {
      case 'version':
        out.line(`rollcall ${VERSION}`);
        return 0;
      case 'plan': {
        const usage = (problem: string) => (out.error(`rollcall plan: ${problem}\n\n${HELP.plan}`), 1);
        const kubeconfig = values.kubeconfig as string | undefined;
        if (typeof values.file !== 'string' && kubeconfig === undefined)
          return usage('-f DIR is required (or --kubeconfig PATH, to plan what a cluster holds)');
        if (values.state !== undefined && kubeconfig !== undefined)
          return usage('--state FILE only goes without --kubeconfig (in a cluster, the API server keeps the state)');
        if (values.namespace !== undefined && kubeconfig === undefined) return usage('--namespace NS only goes with --kubeconfig');
        const identity = identityOf(values, kubeconfig);
        if (typeof identity === 'string') return usage(identity);
        const output = (values.output as string | undefined) ?? 'text';
        if (output !== 'text' && output !== 'json') return usage(`-o must be text or json, not "${output}"`);
        const { planCommand } = await import('./plan.ts');
        return await planCommand(
          {
            dir: values.file as string | undefined,
            kubeconfig,
            identity,
            namespace: values.namespace as string | undefined,
            state: values.state as string | undefined,
            output,
            kubernetesAllow: (values['kubernetes-allow'] as string[] | undefined) ?? [],
            kubernetesBindableClusterRoles: values['kubernetes-bindable-cluster-roles'] as string[] | undefined,
            kubernetesOperatorRoles: values['kubernetes-operator-roles'] as string[] | undefined,
            clusterCidrs: (values['cluster-cidr'] as string[] | undefined) ?? [],
          },
          out,
        );
      }
      case 'audit': {
        const usage = (problem: string) => (out.error(`rollcall audit: ${problem}\n\n${HELP.audit}`), 1);
        const kubeconfig = values.kubeconfig as string | undefined;
        if (typeof values.file !== 'string' && kubeconfig === undefined)
          return usage('-f DIR is required (or --kubeconfig PATH, to audit what a cluster holds)');
        if (values.state !== undefined && kubeconfig !== undefined) return usage('--state FILE only goes without --kubeconfig');
        const identity = identityOf(values, kubeconfig);
        if (typeof identity === 'string') return usage(identity);
        const output = (values.output as string | undefined) ?? 'table';
        const { AUDIT_OUTPUTS } = await import('./audit-report.ts');
        if (!(AUDIT_OUTPUTS as readonly string[]).includes(output)) return usage(`-o must be one of ${AUDIT_OUTPUTS.join(', ')}, not "${output}"`);
        const { parseDuration } = await import('../engine/index.ts');
        const within = (values['expiring-within'] as string | undefined) ?? '7d';
        if (!/^([0-9]+(ms|s|m|h|d))+$/.test(within)) return usage(`--expiring-within must be a duration such as 7d or 12h, not "${within}"`);
        const failOnText = values['fail-on'] as string | undefined;
        if (failOnText !== undefined && !/^[0-9]+$/.test(failOnText)) return usage(`--fail-on must be a whole number, not "${failOnText}"`);
        const { auditCommand } = await import('./audit.ts');
        return await auditCommand(
          {
            dir: values.file as string | undefined,
            kubeconfig,
            identity,
            namespace: values.namespace as string | undefined,
            system: values.system as string | undefined,
            state: values.state as string | undefined,
            expiringWithinMs: parseDuration(within),
            output: output as import('./audit-report.ts').AuditOutput,
            failOn: failOnText === undefined ? undefined : Number(failOnText),
            kubernetesAllow: (values['kubernetes-allow'] as string[] | undefined) ?? [],
            kubernetesBindableClusterRoles: values['kubernetes-bindable-cluster-roles'] as string[] | undefined,
            kubernetesOperatorRoles: values['kubernetes-operator-roles'] as string[] | undefined,
            clusterCidrs: (values['cluster-cidr'] as string[] | undefined) ?? [],
          },
          out,
        );
      }
      case 'run': {
        if (values.context !== undefined || values.as !== undefined || values['as-group'] !== undefined) {
          out.error(`rollcall run: --context, --as and --as-group go with plan and audit; run acts as the kubeconfig's own identity\n\n${HELP.run}`);
          return 1;
        }
        if (values['leader-pod'] !== undefined && values.manifests !== undefined) {
          out.error(`rollcall run: --leader-pod only goes with a cluster, not with --manifests DIR\n\n${HELP.run}`);
          return 1;
        }
        if (values.state !== undefined && values.manifests === undefined) {
          out.error(`rollcall run: --state FILE only goes with --manifests DIR (in a cluster, the API server keeps the state)\n\n${HELP.run}`);
          return 1;
        }
        const feedMaxBytes = values['feed-max-bytes'] === undefined ? undefined : Number(values['feed-max-bytes']);
        if (feedMaxBytes !== undefined && !(Number.isSafeInteger(feedMaxBytes) && feedMaxBytes > 0)) {
          out.error(`rollcall run: --feed-max-bytes must be a positive whole number of bytes, not "${String(values['feed-max-bytes'])}"\n\n${HELP.run}`);
          return 1;
        }
        const seconds = (flag: 'request-timeout' | 'watch-silent-after'): number | undefined => {
          if (values[flag] === undefined) return undefined;
          const value = Number(values[flag]);
          if (!(Number.isFinite(value) && value > 0)) throw new Error(`--${flag} must be a positive number of seconds, not "${String(values[flag])}"`);
          return value * 1000;
        };
        let requestTimeoutMs: number | undefined;
        let watchSilentAfterMs: number | undefined;
        try {
          requestTimeoutMs = seconds('request-timeout');
          watchSilentAfterMs = seconds('watch-silent-after');
        } catch (error) {
          out.error(`rollcall run: ${(error as Error).message}\n\n${HELP.run}`);
          return 1;
        }
        const { runCommand } = await import('./run.ts');
        return await runCommand(
          {
            manifests: values.manifests as string | undefined,
            state: values.state as string | undefined,
            kubeconfig: values.kubeconfig as string | undefined,
            namespaces,
            once: values.once === true,
            healthPort: values['health-port'] === undefined ? undefined : Number(values['health-port']),
            metricsSystemLabels: values['metrics-system-labels'] === true,
            scimPort: values['scim-port'] === undefined ? undefined : Number(values['scim-port']),
            scimTlsCert: values['scim-tls-cert'] as string | undefined,
            scimTlsKey: values['scim-tls-key'] as string | undefined,
            leaderElect: values['no-leader-elect'] !== true,
            leaseNamespace: values['lease-namespace'] as string | undefined,
            leaderPod: values['leader-pod'] as string | undefined,
            logLevel: values['log-level'] as string | undefined,
            logFormat: (values['log-format'] as LogFormat | undefined) ?? 'json',
            kubernetesAllow: (values['kubernetes-allow'] as string[] | undefined) ?? [],
            kubernetesBindableClusterRoles: values['kubernetes-bindable-cluster-roles'] as string[] | undefined,
            kubernetesOperatorRoles: values['kubernetes-operator-roles'] as string[] | undefined,
            clusterCidrs: (values['cluster-cidr'] as string[] | undefined) ?? [],
            feedMaxBytes,
            requestTimeoutMs,
            watchSilentAfterMs,
          },
          out,
        );
      }
    }
  } catch (error) {
    out.error(`rollcall ${command}: ${(error as Error).message}`);
    return 1;
  }
  return 1;
}

/** The first flag value no command can use (a level or format pino lacks, a port that is no port), named. */
function problemWithFlags(values: Record<string, string | boolean | string[] | undefined>): string | undefined {
  const level = values['log-level'] as string | undefined;
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) return `--log-level must be one of ${LOG_LEVELS.join(', ')}, not "${level}"`;
  const format = values['log-format'] as string | undefined;
  if (format !== undefined && !(LOG_FORMATS as readonly string[]).includes(format)) return `--log-format must be json or text, not "${format}"`;
  for (const flag of ['health-port', 'scim-port']) {
    const port = values[flag] as string | undefined;
    if (port !== undefined && !(/^[0-9]{1,5}$/.test(port) && Number(port) <= 65535)) return `--${flag} must be a port number (0 to 65535), not "${port}"`;
  }
  return undefined;
}

/** --context, --as and --as-group for a command that reads a cluster, or the problem with them. */
function identityOf(
  values: Record<string, string | boolean | string[] | undefined>,
  kubeconfig: string | undefined,
): import('../store/kube-config.ts').KubeIdentity | string {
  const context = values.context as string | undefined;
  const as = values.as as string | undefined;
  const groups = (values['as-group'] as string[] | undefined) ?? [];
  if ((context !== undefined || as !== undefined || groups.length) && kubeconfig === undefined)
    return '--context, --as and --as-group only go with --kubeconfig';
  // client-node sends one value per header name; two groups would reach the API server as one.
  if (groups.length > 1) return `--as-group can be given once, not ${groups.length} times`;
  if (groups.length && as === undefined) return '--as-group needs --as USER';
  return { context, as, asGroup: groups[0] };
}
