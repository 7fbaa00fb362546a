// The Secrets check of the fault suite: known credential values must appear nowhere a person or a
// log pipeline reads: no log line of any Rollcall process, no status, no Event, no error message
// (error messages reach all three). Run after each fault scenario, with everything it produced.
import { expect } from 'vitest';
import { kubectlOk } from '../e2e/kube.ts';

/** What the cluster shows about a namespace: every Rollcall object with its status, and every Event. */
export function clusterText(namespace: string): string {
  return [
    kubectlOk(['get', 'users,connectedsystems,accessroles,accessbindings,identitysources', '-n', namespace, '-o', 'json']),
    kubectlOk(['get', 'events', '-n', namespace, '-o', 'json']),
  ].join('\n');
}

/** Fails naming where a secret was found (never printing the secret itself). */
export function expectNoSecret(secrets: readonly string[], places: Record<string, string>): void {
  for (const secret of secrets) {
    // A short value would match by accident; the suites use long random ones.
    expect(secret.length, 'a recognisable secret').toBeGreaterThanOrEqual(12);
    for (const [place, text] of Object.entries(places)) {
      const encoded = [secret, Buffer.from(secret).toString('base64'), JSON.stringify(secret).slice(1, -1)];
      const found = encoded.some((form) => text.includes(form));
      expect(found, `a credential value appears in ${place}`).toBe(false);
    }
  }
}
