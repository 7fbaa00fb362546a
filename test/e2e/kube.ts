// Helpers for end-to-end tests: run kubectl and helm against the test control plane.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const run = promisify(execFile);

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    helm: string;
  }
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(binary: string, args: string[], input?: string): Result {
  const result = spawnSync(binary, args, { input, encoding: 'utf8', env: { ...process.env, KUBECONFIG: inject('kubeconfig') }, timeout: 120_000 });
  return { code: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** kubectl against the test control plane; never throws, so tests can assert failures. */
export function kubectl(args: string[], input?: string): Result {
  return exec('kubectl', args, input);
}

export function helm(args: string[]): Result {
  return exec(inject('helm'), ['--kubeconfig', inject('kubeconfig'), ...args]);
}

/** kubectl that must succeed. */
export function kubectlOk(args: string[], input?: string): string {
  const result = kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

export async function kubectlAsync(args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', args, { env: { ...process.env, KUBECONFIG: inject('kubeconfig') } });
  return stdout;
}

/** A fresh namespace for one test file (namespaces are never deleted: there is no controller-manager). */
/** The Events on an object (by name), optionally of one reason: each one's reason and message. */
export function eventsOn(namespace: string, name: string, reason?: string): Array<{ reason: string; message: string }> {
  const selector = `involvedObject.name=${name}${reason === undefined ? '' : `,reason=${reason}`}`;
  const out = kubectlOk(['get', 'events', '-n', namespace, '--field-selector', selector, '-o', 'json']);
  return (JSON.parse(out).items as Array<{ reason: string; message: string }>).map(({ reason, message }) => ({ reason, message }));
}

export function createNamespace(prefix: string): string {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  kubectlOk(['create', 'namespace', name]);
  return name;
}
