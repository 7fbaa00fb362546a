// Whom each connector's failures blame: the whole system (the circuit opens), one account's request
// (only that User's account is in error), or nobody yet (the connections layer asks the system).
import {
  BusyError,
  ConstraintViolationError,
  InvalidCredentialsError,
  InvalidSyntaxError,
  NamingViolationError,
  ObjectClassViolationError,
  SizeLimitExceededError,
  UnavailableError,
} from 'ldapts';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError, failedAttributes, failureScope, withMessage, type FailureScope } from '../../../src/api/index.ts';
import { toConnectorError as ldapError, withRefusedAttributes } from '../../../src/connectors/ldap/errors.ts';
import { toConnectorError as postgresError } from '../../../src/connectors/postgres/errors.ts';
import { scimFailure } from '../../../src/connectors/scim/errors.ts';
import { connectorError as kubernetesError } from '../../../src/connectors/kubernetes/errors.ts';
import { ApiException } from '@kubernetes/client-node';

const socket = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
const sqlError = (code: string) => Object.assign(new Error(`server says ${code}`), { code });
const pg = (error: unknown) => postgresError(error, { system: 'acme/db', username: 'admin', what: 'create alice' });

describe('PostgreSQL failures', () => {
  const cases: Array<[string, unknown, 'retryable' | 'permanent', FailureScope | undefined]> = [
    ['a value out of range (22003)', sqlError('22003'), 'permanent', 'account'],
    ['a NUL in a string (22021)', sqlError('22021'), 'permanent', 'account'],
    ['a unique violation (23505)', sqlError('23505'), 'permanent', 'account'],
    ['a role that does not exist (42704)', sqlError('42704'), 'permanent', 'account'],
    ['a program limit (54000)', sqlError('54000'), 'permanent', 'account'],
    ['a protocol violation (08P01): the request, not the server, and retrying repeats it', sqlError('08P01'), 'permanent', 'account'],
    ['a deadlock (40P01)', sqlError('40P01'), 'retryable', 'account'],
    ['a connection failure (08006)', sqlError('08006'), 'retryable', 'system'],
    ['too many connections (53300)', sqlError('53300'), 'retryable', 'system'],
    ['a server shutting down (57P01)', sqlError('57P01'), 'retryable', 'system'],
    ['wrong credentials (28P01)', sqlError('28P01'), 'permanent', 'system'],
    ['a statement timeout (57014): cannot tell', sqlError('57014'), 'retryable', undefined],
    ['a refused connection', socket('ECONNREFUSED'), 'retryable', 'system'],
    ['an unknown host', socket('ENOTFOUND'), 'retryable', 'system'],
    ['a reset connection: cannot tell', socket('ECONNRESET'), 'retryable', undefined],
    ['"Connection terminated unexpectedly": cannot tell', new Error('Connection terminated unexpectedly'), 'retryable', undefined],
  ];
  it.each(cases)('%s', (_name, error, kind, scope) => {
    const mapped = pg(error);
    expect(mapped).toBeInstanceOf(kind === 'retryable' ? RetryableError : PermanentError);
    expect(failureScope(mapped)).toBe(scope);
  });
});

describe('LDAP failures', () => {
  const cases: Array<[string, unknown, 'retryable' | 'permanent', FailureScope | undefined]> = [
    ['invalidAttributeSyntax', new InvalidSyntaxError('mail: value #0 invalid per syntax'), 'permanent', 'account'],
    ['constraintViolation', new ConstraintViolationError('too long'), 'permanent', 'account'],
    ['objectClassViolation', new ObjectClassViolationError('no sn'), 'permanent', 'account'],
    ['namingViolation', new NamingViolationError('bad rdn'), 'permanent', 'account'],
    ['sizeLimitExceeded', new SizeLimitExceededError('too many'), 'permanent', 'account'],
    ['busy', new BusyError('busy'), 'retryable', 'system'],
    ['unavailable', new UnavailableError('unavailable'), 'retryable', 'system'],
    ['invalid credentials', new InvalidCredentialsError('no'), 'permanent', 'system'],
    ['a TLS certificate not trusted', socket('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'permanent', 'system'],
    ['a refused connection', socket('ECONNREFUSED'), 'retryable', 'system'],
    ['a closed connection: cannot tell', new Error('Connection closed'), 'retryable', undefined],
  ];
  it.each(cases)('%s', (_name, error, kind, scope) => {
    const mapped = ldapError(error, 'acme/directory', 'create');
    expect(mapped).toBeInstanceOf(kind === 'retryable' ? RetryableError : PermanentError);
    expect(failureScope(mapped)).toBe(scope);
  });

  it('a refusal naming an LDAP attribute names the attribute of Rollcall it maps from', () => {
    const refusal = ldapError(new InvalidSyntaxError('mail: value #0 invalid per syntax'), 'acme/directory', 'create');
    expect(failedAttributes(withRefusedAttributes(refusal, new Map(Object.entries({ email: 'mail', displayName: 'displayName' }))))).toEqual(['email']);
    // An attribute the map does not hold, or a message naming none, names nothing.
    expect(failedAttributes(withRefusedAttributes(refusal, new Map([['displayName', 'displayName']])))).toBeUndefined();
    const other = ldapError(new ConstraintViolationError('entry too large'), 'acme/directory', 'create');
    expect(failedAttributes(withRefusedAttributes(other, new Map([['email', 'mail']])))).toBeUndefined();
  });
});

describe('SCIM failures', () => {
  const cases: Array<[number, 'retryable' | 'permanent', FailureScope | undefined]> = [
    [400, 'permanent', 'account'],
    [409, 'permanent', 'account'],
    [413, 'permanent', 'account'],
    [401, 'permanent', 'system'],
    [403, 'permanent', 'system'],
    [429, 'retryable', 'system'],
    [503, 'retryable', 'system'],
    [500, 'retryable', undefined],
  ];
  it.each(cases)('HTTP %i', (status, kind, scope) => {
    const mapped = scimFailure('acme/app', 'create alice', status, { detail: 'no' });
    expect(mapped).toBeInstanceOf(kind === 'retryable' ? RetryableError : PermanentError);
    expect(failureScope(mapped)).toBe(scope);
  });
});

describe('Kubernetes API failures', () => {
  const api = (code: number) => new ApiException(code, `HTTP ${code}`, { message: 'no' }, {});
  const fetchFailed = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });
  const cases: Array<[string, unknown, 'retryable' | 'permanent', FailureScope | undefined]> = [
    ['401: the credentials', api(401), 'permanent', 'system'],
    ['403: one namespace or role out of reach', api(403), 'permanent', 'account'],
    ['404: a namespace that does not exist', api(404), 'permanent', 'account'],
    ['422: a value the server refuses', api(422), 'permanent', 'account'],
    ['429: throttled', api(429), 'retryable', 'system'],
    ['503: unavailable', api(503), 'retryable', 'system'],
    ['500: cannot tell', api(500), 'retryable', undefined],
    ['a refused connection', fetchFailed('ECONNREFUSED'), 'retryable', 'system'],
    ['a reset connection: cannot tell', fetchFailed('ECONNRESET'), 'retryable', undefined],
  ];
  it.each(cases)('%s', (_name, error, kind, scope) => {
    const mapped = kubernetesError('acme/rbac', 'grant "alice" Role/view', 'create rolebindings', error);
    expect(mapped).toBeInstanceOf(kind === 'retryable' ? RetryableError : PermanentError);
    expect(failureScope(mapped)).toBe(scope);
  });
});

describe('failureScope and withMessage', () => {
  it('a PermanentError without a scope refuses one request; a RetryableError or a plain Error without one cannot tell', () => {
    expect(failureScope(new PermanentError('no such group'))).toBe('account');
    expect(failureScope(new RetryableError('timed out'))).toBeUndefined();
    expect(failureScope(new Error('bug'))).toBeUndefined();
  });

  it('a reworded failure keeps its kind, scope, attributes and wait', () => {
    const retryable = withMessage(new RetryableError('a', { scope: 'system', retryAfterMs: 500 }), 'b');
    expect(retryable).toMatchObject({ message: 'b', scope: 'system', retryAfterMs: 500 });
    expect(retryable).toBeInstanceOf(RetryableError);
    const permanent = withMessage(new PermanentError('a', { attributes: ['email'] }), 'b');
    expect(permanent).toBeInstanceOf(PermanentError);
    expect([failureScope(permanent), failedAttributes(permanent)]).toEqual(['account', ['email']]);
  });
});
