// `kubectl rollcall ...`: the kubectl plugin (bin/kubectl-rollcall). kubectl passes no global flags
// to a plugin, so this one takes --namespace, --kubeconfig, --context, --as and --as-group itself and
// hands them to every kubectl call it makes. Who approves or decides is whoever kubectl
// authenticates as (kubectl auth whoami); the admission policy checks the rest.
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AccessBinding, AccessReview, AccessRole, User } from '../api/index.ts';
import { systemClock, type Clock } from '../clock/clock.ts';
import { approvalContent, approvalOf, describeContent, scopeOf } from '../engine/index.ts';
import { main as rollcall } from './main.ts';
import type { Output } from './output.ts';

const USAGE = `Usage: kubectl rollcall <command> [-n NS] [--kubeconfig PATH] [--context NAME] [--as USER] [--as-group GROUP]

Commands:
  status USER                           a User's accounts in every connected system
  plan [rollcall plan options]          what Rollcall would change (rollcall plan --kubeconfig)
  audit [rollcall audit options]        the access audit (rollcall audit --kubeconfig)
  approve BINDING                       approve an AccessBinding as it stands, as yourself
  review                                list access reviews
  review REVIEW                         the items of a review and their decisions
  review REVIEW keep|revoke USER BINDING [--comment TEXT]   decide, as yourself`;

export type Kubectl = (args: string[], input?: string) => { code: number; stdout: string; stderr: string };

const realKubectl: Kubectl = (args, input) => {
  const result = spawnSync('kubectl', args, { input, encoding: 'utf8' });
  return { code: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? result.error?.message ?? '' };
};

export async function pluginMain(argv: string[], out: Output, kubectl: Kubectl = realKubectl, clock: Clock = systemClock): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: false,
      allowPositionals: true,
      options: {
        namespace: { type: 'string', short: 'n' },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        as: { type: 'string' },
        'as-group': { type: 'string', multiple: true },
        comment: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    out.error(`kubectl rollcall: ${(error as Error).message}\n\n${USAGE}`);
    return 1;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  // Asked for: usage on stdout, success. Not given a command: usage on stderr, a failure.
  // plan and audit pass --help on to rollcall, whose own options it lists.
  if (values.help && command !== 'plan' && command !== 'audit') {
    out.line(USAGE);
    return 0;
  }
  if (!command) return usage(out, 'a command is required');
  // Whom every call acts as: plan and audit read the cluster as the same identity kubectl would.
  const identity = [
    ...(typeof values.context === 'string' ? ['--context', values.context] : []),
    ...(typeof values.as === 'string' ? ['--as', values.as] : []),
    ...((values['as-group'] as string[] | undefined) ?? []).flatMap((group) => ['--as-group', group]),
  ];
  const global = [...(typeof values.kubeconfig === 'string' ? ['--kubeconfig', values.kubeconfig] : []), ...identity];
  const ns = typeof values.namespace === 'string' ? ['-n', values.namespace] : [];
  const k = (args: string[], input?: string) => kubectl([...global, ...ns, ...args], input);
  const fail = (what: string, result: { stderr: string }) => (out.error(`kubectl rollcall ${command}: ${what}: ${result.stderr.trim()}`), 1);
  const getJson = <T>(args: string[]): T | { error: { stderr: string } } => {
    const result = k([...args, '-o', 'json']);
    return result.code === 0 ? (JSON.parse(result.stdout) as T) : { error: result };
  };
  const whoami = (): string | undefined => {
    const result = kubectl([...global, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    return result.code === 0 && result.stdout.trim() ? result.stdout.trim() : undefined;
  };

  switch (command) {
    case 'status': {
      const [name] = rest;
      if (!name) return usage(out, 'status needs a USER');
      const user = getJson<User>(['get', 'users.rollcall.dev', name]);
      if ('error' in user) return fail(`cannot read User ${name}`, user.error);
      const ready = user.status?.conditions?.find((c) => c.type === 'Ready');
      out.line(
        `User ${user.metadata.namespace}/${user.metadata.name} (${user.spec.userName}): ${user.status?.state ?? user.spec.state}, ready ${ready?.status ?? 'Unknown'}${ready ? ` (${ready.reason}: ${ready.message})` : ''}`,
      );
      if (user.status?.accessEndsAt) out.line(`access ends ${user.status.accessEndsAt}`);
      for (const account of user.status?.accounts ?? []) {
        out.line(
          `  ${account.system}: ${account.state}${account.entitlements?.length ? ` [${account.entitlements.join(', ')}]` : ''}${account.message ? ` — ${account.message}` : ''}`,
        );
      }
      return 0;
    }
    case 'plan':
    case 'audit': {
      const passThrough = withoutGlobalFlags(argv.slice(argv.indexOf(command) + 1));
      const kubeconfig =
        typeof values.kubeconfig === 'string' ? values.kubeconfig : process.env.KUBECONFIG?.split(':')[0] || join(homedir(), '.kube', 'config');
      return rollcall(
        [command, '--kubeconfig', kubeconfig, ...(typeof values.namespace === 'string' ? ['--namespace', values.namespace] : []), ...identity, ...passThrough],
        out,
      );
    }
    case 'approve': {
      const [name] = rest;
      if (!name) return usage(out, 'approve needs a BINDING');
      const binding = getJson<AccessBinding>(['get', 'accessbindings.rollcall.dev', name]);
      if ('error' in binding) return fail(`cannot read AccessBinding ${name}`, binding.error);
      const me = whoami();
      if (!me) return usage(out, 'cannot tell who you are (kubectl auth whoami failed)');
      // The content approved (the role's entitlements and maxDuration, the Users selected) as read
      // now: the digest pins it, and any change after this read voids the approval. Someone who may
      // not read it gets no digest, and the API server's refusal says why (the requester, no verb,
      // or the missing digest), with the read error beside it.
      const roles = getJson<{ items: AccessRole[] }>(['get', 'accessroles.rollcall.dev']);
      const users = getJson<{ items: User[] }>(['get', 'users.rollcall.dev']);
      const unreadable = 'error' in roles ? roles.error : 'error' in users ? users.error : undefined;
      const seen = 'error' in roles || 'error' in users ? undefined : { roles: roles.items, users: users.items };
      const content = seen && approvalContent(binding, seen.roles, seen.users);
      if (seen && !content) return usage(out, `AccessRole ${binding.spec.role} does not exist: nothing to approve`);
      const approvedAt = clock
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z');
      const approval = seen ? approvalOf(binding, seen.roles, seen.users, me, approvedAt) : { approvedBy: me, approvedAt, scope: scopeOf(binding) };
      // A JSON patch with a test on resourceVersion: the approval covers exactly the binding shown.
      const patch = [
        { op: 'test', path: '/metadata/resourceVersion', value: binding.metadata.resourceVersion },
        { op: 'add', path: '/spec/approval', value: approval },
      ];
      const result = k(['patch', 'accessbindings.rollcall.dev', name, '--type', 'json', '-p', JSON.stringify(patch)]);
      if (result.code !== 0) {
        const cause = unreadable ? ` (the content to approve could not be read: ${unreadable.stderr.trim()})` : '';
        return fail(`approval of ${name} refused`, { stderr: `${result.stderr.trim()}${cause}` });
      }
      out.line(
        `accessbinding ${name} approved by ${me}: role ${binding.spec.role}, users ${(binding.spec.users ?? []).join(', ') || '-'}${binding.spec.userSelector ? ', by selector' : ''}${binding.spec.validUntil ? `, until ${binding.spec.validUntil}` : ''}`,
      );
      if (content) out.line(`content approved (${approval.digest}): ${describeContent(content)}`);
      return 0;
    }
    case 'review': {
      const [name, decision, user, bindingName] = rest;
      if (!name) {
        const result = k(['get', 'accessreviews.rollcall.dev']);
        if (result.code !== 0) return fail('cannot list access reviews', result);
        out.line(result.stdout.trimEnd());
        return 0;
      }
      const review = getJson<AccessReview>(['get', 'accessreviews.rollcall.dev', name]);
      if ('error' in review) return fail(`cannot read AccessReview ${name}`, review.error);
      if (!decision) {
        out.line(
          `AccessReview ${review.metadata.namespace}/${name}: ${review.status?.phase ?? 'Pending'}, due ${review.spec.dueDate}, default ${review.spec.defaultDecision}`,
        );
        for (const item of review.status?.items ?? []) {
          out.line(
            `  ${item.user} ${item.binding} (${item.role}) granted ${item.grantedAt ?? '?'}${item.grantedBy ? ` by ${item.grantedBy}` : ''}: ${item.decision ? `${item.decision} by ${item.decidedBy}` : 'undecided'}`,
          );
        }
        return 0;
      }
      if ((decision !== 'keep' && decision !== 'revoke') || !user || !bindingName) return usage(out, 'review REVIEW keep|revoke USER BINDING');
      const me = whoami();
      if (!me) return usage(out, 'cannot tell who you are (kubectl auth whoami failed)');
      const entry = { user, binding: bindingName, decision, decidedBy: me, ...(typeof values.comment === 'string' ? { comment: values.comment } : {}) };
      const patch = review.spec.decisions ? [{ op: 'add', path: '/spec/decisions/-', value: entry }] : [{ op: 'add', path: '/spec/decisions', value: [entry] }];
      const result = k(['patch', 'accessreviews.rollcall.dev', name, '--type', 'json', '-p', JSON.stringify(patch)]);
      if (result.code !== 0) return fail(`decision refused`, result);
      out.line(`accessreview ${name}: ${me} decided ${decision} for ${user} (${bindingName})`);
      return 0;
    }
    default:
      return usage(out, `unknown command "${command}"`);
  }
}

const GLOBAL_FLAGS = new Set(['-n', '--namespace', '--kubeconfig', '--context', '--as', '--as-group']);

/** The arguments for rollcall itself: the plugin's own global flags (and their values) left out. */
function withoutGlobalFlags(args: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (GLOBAL_FLAGS.has(arg)) i++;
    else if (!GLOBAL_FLAGS.has(arg.split('=')[0]!)) kept.push(arg);
  }
  return kept;
}

function usage(out: Output, problem: string): number {
  out.error(`kubectl rollcall: ${problem}\n\n${USAGE}`);
  return 1;
}
