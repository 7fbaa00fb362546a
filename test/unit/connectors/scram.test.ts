// The verifier must be exactly what a SCRAM server derives, or logins fail. Checked against the
// worked exchange in RFC 7677 section 3: a server holding only StoredKey and ServerKey must accept
// the client's proof and produce the RFC's server signature.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { saslPrep, scramKeys, scramVerifier } from '../../../src/connectors/postgres/scram.ts';

const rfc7677 = {
  password: 'pencil',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  iterations: 4096,
  authMessage: [
    'n=user,r=rOprNGfwEbeRWgbNEkqO',
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  ].join(','),
  clientProof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverSignature: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

describe('scramVerifier', () => {
  it('derives keys that verify the RFC 7677 exchange', () => {
    const { storedKey, serverKey } = scramKeys(rfc7677.password, Buffer.from(rfc7677.salt, 'base64'), rfc7677.iterations);
    // What the server does: recover ClientKey from the proof and compare its hash with StoredKey.
    const clientSignature = hmac(storedKey, rfc7677.authMessage);
    const proof = Buffer.from(rfc7677.clientProof, 'base64');
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ clientSignature[i]!));
    expect(createHash('sha256').update(clientKey).digest().equals(storedKey)).toBe(true);
    expect(hmac(serverKey, rfc7677.authMessage).toString('base64')).toBe(rfc7677.serverSignature);
  });

  it('formats the verifier the way pg_authid stores it', () => {
    const salt = Buffer.from(rfc7677.salt, 'base64');
    const verifier = scramVerifier('pencil', { salt, iterations: 4096 });
    const { storedKey, serverKey } = scramKeys('pencil', salt, 4096);
    expect(verifier).toBe(`SCRAM-SHA-256$4096:${rfc7677.salt}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`);
  });

  it('uses a fresh salt each time and never contains the password', () => {
    const a = scramVerifier('correct horse');
    const b = scramVerifier('correct horse');
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse');
  });

  it('normalises non-ASCII passwords as SASLprep does and leaves ASCII alone', () => {
    expect(saslPrep('  tab\there  ')).toBe('  tab\there  ');
    expect(saslPrep('ｐａｓｓ\u00A0word\u00AD')).toBe('pass word');
    expect(saslPrep('Zoë')).toBe('Zoë'.normalize('NFKC'));
  });
});
