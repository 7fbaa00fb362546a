// Work under way, counted, and who waits for none to be: what Manager.idle and stop wait on.
export class RunningCount {
  #running = 0;
  #idle: Array<() => void> = [];

  get value(): number {
    return this.#running;
  }

  started(): void {
    this.#running++;
  }

  ended(): void {
    this.#running--;
    if (this.#running > 0) return;
    const waiting = this.#idle;
    this.#idle = [];
    for (const resolve of waiting) resolve();
  }

  /** Resolves once nothing is under way. */
  idle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
