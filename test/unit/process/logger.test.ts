import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/process/logger.ts';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>>; raw: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    stream,
    raw: () => text,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('prints no credential, however deeply it is nested', () => {
    const out = capture();
    const log = createLogger({ destination: out.stream, name: 'test' });
    log.info(
      {
        password: 'top-secret-1',
        system: { name: 'corp-ldap', bindPassword: 'top-secret-2', token: 'top-secret-3' },
        request: { headers: { Authorization: 'Bearer top-secret-4', authorization: 'Basic top-secret-5', accept: 'application/json' } },
        config: { auth: { credentials: { user: 'x' }, apiKey: 'top-secret-6', secret: 'top-secret-7' } },
        change: { op: 'create', account: { unicodePwd: 'top-secret-8', passwd: 'top-secret-9' }, initialPassword: 'top-secret-10' },
      },
      'connecting',
    );
    const raw = out.raw();
    expect(raw).not.toMatch(/top-secret/);
    const [line] = out.lines();
    expect(line).toMatchObject({
      name: 'test',
      msg: 'connecting',
      password: '[REDACTED]',
      system: { name: 'corp-ldap', bindPassword: '[REDACTED]', token: '[REDACTED]' },
      request: { headers: { Authorization: '[REDACTED]', authorization: '[REDACTED]', accept: 'application/json' } },
      config: { auth: { credentials: '[REDACTED]', apiKey: '[REDACTED]', secret: '[REDACTED]' } },
      change: { op: 'create', account: { unicodePwd: '[REDACTED]', passwd: '[REDACTED]' }, initialPassword: '[REDACTED]' },
    });
  });

  it('redacts fields of child loggers bindings too', () => {
    const out = capture();
    const log = createLogger({ destination: out.stream }).child({ connection: { url: 'ldap://dc1', password: 'child-secret' } });
    log.warn('retrying');
    expect(out.raw()).not.toContain('child-secret');
    expect(out.lines()[0]).toMatchObject({ connection: { url: 'ldap://dc1', password: '[REDACTED]' }, level: 40 });
  });

  it('honours the level', () => {
    const out = capture();
    const log = createLogger({ destination: out.stream, level: 'warn' });
    log.info('hidden');
    log.error('shown');
    expect(out.lines().map((l) => l.msg)).toEqual(['shown']);
  });
});
