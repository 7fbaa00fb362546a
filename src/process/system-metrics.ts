// Metrics by connected system, with the system label's value decided once for the process: the
// system's "NS/NAME", or "all" for every system (a sum), so an unauthenticated scrape names no tenant.
import type { Counter, Gauge } from 'prom-client';

/** The label value every system shares unless per-system labels are asked for. */
export const ALL_SYSTEMS = 'all';

export interface SystemLabelling {
  perSystem: boolean;
}

type Labels<L extends string> = Record<L, string>;

/** A counter by system: per-system series, or one series for all systems (a sum needs no bookkeeping). */
export class SystemCounter<L extends string> {
  readonly #counter: Counter<L | 'system'>;
  readonly #labelling: SystemLabelling;

  constructor(counter: Counter<L | 'system'>, labelling: SystemLabelling) {
    this.#counter = counter;
    this.#labelling = labelling;
  }

  inc(labels: Labels<L | 'system'>, value = 1): void {
    this.#counter.inc(this.#labelling.perSystem ? labels : { ...labels, system: ALL_SYSTEMS }, value);
  }
}

/**
 * A gauge by system. Summed over all systems, each system's last value is kept so that setting one
 * system's value replaces its share of the sum instead of the whole sum.
 */
export class SystemGauge<L extends string> {
  readonly #gauge: Gauge<L | 'system'>;
  readonly #labelling: SystemLabelling;
  /** The other labels (as JSON) → system → its value. */
  readonly #shares = new Map<string, Map<string, number>>();

  constructor(gauge: Gauge<L | 'system'>, labelling: SystemLabelling) {
    this.#gauge = gauge;
    this.#labelling = labelling;
  }

  set(labels: Labels<L | 'system'>, value: number): void {
    if (this.#labelling.perSystem) {
      this.#gauge.set(labels, value);
      return;
    }
    const { system, ...rest } = labels as Labels<L | 'system'> & { system: string };
    const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
    const shares = this.#shares.get(key) ?? new Map<string, number>();
    this.#shares.set(key, shares.set(system, value));
    let sum = 0;
    for (const share of shares.values()) sum += share;
    this.#gauge.set({ ...labels, system: ALL_SYSTEMS }, sum);
  }
}
