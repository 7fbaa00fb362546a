// The per-system circuit: opened by a system's failure, failing fast with that failure's kind until
// its delay has passed, closed by a success.
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError, failureScope } from '../../../src/api/index.ts';
import { Circuit } from '../../../src/connections/circuit.ts';

describe('Circuit', () => {
  it('fails fast after a failure, with a retry delay, until the delay has passed', () => {
    let now = 0;
    const circuit = new Circuit(() => now);
    circuit.guard('acme/db');
    circuit.failed(new RetryableError('acme/db: ECONNREFUSED'));
    const fast = (() => {
      try {
        circuit.guard('acme/db');
      } catch (error) {
        return error;
      }
    })();
    expect(fast).toBeInstanceOf(RetryableError);
    expect(fast).toMatchObject({ message: 'acme/db is unavailable: acme/db: ECONNREFUSED', scope: 'system' });
    expect((fast as RetryableError).retryAfterMs).toBeGreaterThan(0);
    now += 60_001;
    expect(() => circuit.guard('acme/db')).not.toThrow();
  });

  it('opened by wrong credentials, it fails fast with a PermanentError, which the work queue does not retry', () => {
    const circuit = new Circuit(() => 0);
    circuit.failed(new PermanentError('LDAP bind failed for acme/directory: invalid credentials', { scope: 'system' }));
    expect(() => circuit.guard('acme/directory')).toThrow(PermanentError);
    try {
      circuit.guard('acme/directory');
    } catch (error) {
      expect(failureScope(error)).toBe('system');
    }
  });

  it('stays open as long as the system asked (Retry-After), even when its backoff is shorter', () => {
    let now = 0;
    const circuit = new Circuit(() => now);
    circuit.failed(new RetryableError('SCIM create user on acme/wiki failed: HTTP 429', { retryAfterMs: 30_000, scope: 'system' }));
    now += 29_000; // the first failure's backoff is at most 1 s
    expect(() => circuit.guard('acme/wiki')).toThrow(RetryableError);
    now += 1_001;
    expect(() => circuit.guard('acme/wiki')).not.toThrow();
  });

  it('its own fast failures are not new failures of the system: an 8 s outage does not cost a 60 s wait', () => {
    let now = 0;
    const circuit = new Circuit(() => now);
    circuit.failed(new RetryableError('acme/db: ECONNREFUSED', { scope: 'system' }));
    // Forty queued calls fail fast and are reported back, as Connections.use does with every failure.
    for (let i = 0; i < 40; i++) {
      try {
        circuit.guard('acme/db');
      } catch (error) {
        circuit.failed(error);
      }
    }
    now += 1_001; // the first failure's backoff
    expect(() => circuit.guard('acme/db')).not.toThrow();
  });

  it('calls failing together are one failed try: four at once do not wait 8 s', () => {
    let now = 0;
    const circuit = new Circuit(() => now);
    for (let i = 0; i < 4; i++) circuit.failed(new RetryableError('acme/directory: ECONNREFUSED', { scope: 'system' }));
    now += 1_001;
    expect(() => circuit.guard('acme/directory')).not.toThrow();
  });

  it('a success closes it', () => {
    const circuit = new Circuit(() => 0);
    circuit.failed(new RetryableError('down'));
    circuit.succeeded();
    expect(() => circuit.guard('acme/db')).not.toThrow();
  });
});
