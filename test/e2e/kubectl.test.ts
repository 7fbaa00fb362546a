// What a person sees with kubectl: printer columns, field descriptions, the rollcall category.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl, kubectlOk } from './kube.ts';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

describe('kubectl against the installed CRDs', () => {
  let namespace: string;
  beforeAll(() => {
    namespace = createNamespace('kubectl');
    // Every example, moved into this test's namespace.
    const files = readdirSync(EXAMPLES, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'));
    for (const file of files) {
      const text = readFileSync(join(EXAMPLES, file), 'utf8').replace(/namespace: \S+/g, `namespace: ${namespace}`);
      kubectlOk(['apply', '-f', '-'], text);
    }
  });

  it('kubectl get users shows STATE (in effect, from the status the controller writes), READY, SYSTEMS and AGE; -o wide the declared state', () => {
    // What the User controller writes (test/unit/controllers/user-effective-state.test.ts): no controller runs here.
    const setState = (name: string, state: string) =>
      kubectlOk(['patch', 'user', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { state } })]);
    setState('alice', 'active');
    setState('erin', 'terminated');
    setState('bob', 'expired');
    const out = kubectlOk(['get', 'users', '-n', namespace]);
    expect(out.split('\n')[0]).toMatch(/^NAME\s+STATE\s+READY\s+SYSTEMS\s+AGE/);
    expect(out).toMatch(/alice\s+active/);
    expect(out).toMatch(/erin\s+terminated/);
    // Declared active, but past its validUntil: the list says expired, not active.
    expect(out).toMatch(/bob\s+expired/);
    const wide = kubectlOk(['get', 'user', 'bob', '-n', namespace, '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/^NAME\s+USERNAME\s+STATE\s+DECLARED\s+READY/);
    expect(wide).toMatch(/bob\s+bob\s+expired\s+active\s/);
    // The schema takes only the states the controller writes.
    expect(kubectl(['patch', 'user', 'bob', '-n', namespace, '--subresource=status', '--type=merge', '-p', '{"status":{"state":"retired"}}']).stderr).toMatch(
      /status\.state/,
    );
  });

  it('dates ahead print as dates, not as an age (which kubectl shows as <invalid> for the future)', () => {
    kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: rollcall.dev/v1alpha1
kind: AccessBinding
metadata: {name: far-future, namespace: ${namespace}}
spec: {role: engineer, users: [alice], validUntil: "2999-01-31T17:00:00Z"}
`,
    );
    const bindings = kubectlOk(['get', 'abind', 'far-future', '-n', namespace]);
    expect(bindings.split('\n')[0]).toMatch(/\bUNTIL\b/);
    expect(bindings).toMatch(/far-future\s+engineer\s+\S*\s*2999-01-31T17:00:00Z/);
    kubectlOk(['patch', 'user', 'alice', '-n', namespace, '--subresource=status', '--type=merge', '-p', '{"status":{"accessEndsAt":"2999-01-31T17:00:00Z"}}']);
    const users = kubectlOk(['get', 'user', 'alice', '-n', namespace, '-o', 'wide']);
    expect(users.split('\n')[0]).toMatch(/\bACCESS-ENDS\b/);
    expect(users).toMatch(/2999-01-31T17:00:00Z/);
    expect(users).not.toMatch(/<invalid>/);
  });

  it('short names work', () => {
    expect(kubectlOk(['get', 'usr', '-n', namespace])).toMatch(/alice/);
    expect(kubectlOk(['get', 'csys', '-n', namespace])).toMatch(/directory\s+sqlite/);
    expect(kubectlOk(['get', 'arole', '-n', namespace])).toMatch(/engineer/);
    expect(kubectlOk(['get', 'abind', '-n', namespace])).toMatch(/bob-on-call\s+production-admin/);
  });

  it('kubectl explain shows the field descriptions', () => {
    const out = kubectlOk(['explain', 'user.spec']);
    expect(out).toMatch(/userName.*\n.*Login name in every connected system/);
    expect(out).toMatch(/active gets access/);
  });

  it('kubectl get rollcall lists every kind', () => {
    const out = kubectlOk(['get', 'rollcall', '-n', namespace, '-o', 'name']);
    for (const kind of ['connectedsystem', 'user', 'accessrole', 'accessbinding']) {
      expect(out).toMatch(new RegExp(`^${kind}\\.rollcall\\.dev/`, 'm'));
    }
  });
});
