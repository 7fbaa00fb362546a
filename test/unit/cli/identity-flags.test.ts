// rollcall plan/audit take kubectl's --context, --as and --as-group; what cannot be sent faithfully
// is refused before any request, naming the flag (never read as the kubeconfig's own identity).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';

function capture() {
  const errors: string[] = [];
  return { out: { line: () => undefined, error: (t: string) => errors.push(t) }, errors };
}

const KUBECONFIG = join(mkdtempSync(join(tmpdir(), 'rollcall-identity-')), 'kubeconfig');
writeFileSync(
  KUBECONFIG,
  `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: one, context: {cluster: c, user: u}}]
current-context: one
`,
);

describe('--context, --as and --as-group', () => {
  for (const [args, message] of [
    [['--as-group', 'g'], /--as-group needs --as USER/],
    [['--as', 'u', '--as-group', 'a', '--as-group', 'b'], /--as-group can be given once, not 2 times/],
    [['--context', 'nowhere'], /--context nowhere: no such context in the kubeconfig/],
  ] as const) {
    for (const command of ['plan', 'audit']) {
      it(`${command} ${args.join(' ')} is refused`, { timeout: 60_000 }, async () => {
        const { out, errors } = capture();
        expect(await main([command, '--kubeconfig', KUBECONFIG, ...args], out)).toBe(1);
        expect(errors.join('\n')).toMatch(message);
      });
    }
  }

  it('go only with --kubeconfig, and not with run', async () => {
    const { out, errors } = capture();
    expect(await main(['plan', '-f', '.', '--as', 'u'], out)).toBe(1);
    expect(await main(['run', '--as', 'u'], out)).toBe(1);
    expect(errors.join('\n')).toMatch(/only go with --kubeconfig[\s\S]*run acts as the kubeconfig's own identity/);
  });
});
