// SCIM filter building (RFC 7644 §3.4.2.2). A filter's string literal is a JSON string, so
// JSON.stringify escapes exactly what must be escaped: `"`, `\` and control characters. Nothing a
// value holds can end the literal and add a clause (`alice" or userName pr`).
import type { FilterOperator } from './discovery.ts';

export function equals(attribute: string, value: string): string {
  return `${attribute} eq ${JSON.stringify(value)}`;
}

export function startsWith(attribute: string, value: string): string {
  return `${attribute} sw ${JSON.stringify(value)}`;
}

/** The filters Rollcall sends, each with the operator it needs. */
export type FilterKind = 'userName eq' | 'displayName eq' | 'externalId sw' | 'members.value eq';

/**
 * Which filters to send: those whose operator the server declares (or spec.scim.compatibility
 * names), less those it has refused (400) on this connection. RFC 7644 gives a server no way to
 * say which operators or attribute paths it filters on, so a refusal is remembered and the
 * request made without that filter from then on (listing more and choosing here).
 */
export class FilterChoice {
  readonly #operators: () => ReadonlySet<FilterOperator>;
  readonly #refused = new Set<FilterKind>();

  constructor(operators: () => ReadonlySet<FilterOperator>) {
    this.#operators = operators;
  }

  usable(kind: FilterKind): boolean {
    return this.#operators().has(kind.split(' ')[1] as FilterOperator) && !this.#refused.has(kind);
  }

  refused(kind: FilterKind): void {
    this.#refused.add(kind);
  }
}
