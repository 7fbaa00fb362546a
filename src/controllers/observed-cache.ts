// What each system held at its last full listing, updated as changes are applied (write-through),
// so a user's reconcile needs no remote read for what the resync already knows.
import type { ObservedAccount } from '../api/index.ts';

export class ObservedCache {
  readonly #bySystem = new Map<string, Map<string, ObservedAccount>>();

  /** Replaces a system's accounts after a full listing. */
  replace(system: string, accounts: ObservedAccount[]): void {
    this.#bySystem.set(system, new Map(accounts.map((a) => [a.userName, a])));
  }

  has(system: string): boolean {
    return this.#bySystem.has(system);
  }

  /** undefined: unknown (no listing yet); null: known to be absent. */
  get(system: string, userName: string): ObservedAccount | null | undefined {
    const accounts = this.#bySystem.get(system);
    if (!accounts) return undefined;
    return accounts.get(userName) ?? null;
  }

  set(system: string, userName: string, account: ObservedAccount | null): void {
    const accounts = this.#bySystem.get(system);
    if (!accounts) return;
    if (account) accounts.set(userName, account);
    else accounts.delete(userName);
  }

  accounts(system: string): ObservedAccount[] {
    return [...(this.#bySystem.get(system)?.values() ?? [])];
  }

  forget(system: string): void {
    this.#bySystem.delete(system);
  }
}
