import { describe, expect, it } from 'vitest';
import { clusterRanges, privateAddressKind } from '../../../src/connectors/egress/addresses.ts';

const cluster = clusterRanges(['10.96.0.0/12,10.244.0.0/16', 'fd00:10::/64']);

describe('privateAddressKind', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:127.0.0.2', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['10.96.0.1', 'cluster-internal'],
    ['10.111.255.255', 'cluster-internal'],
    ['10.244.3.7', 'cluster-internal'],
    ['::ffff:10.96.0.10', 'cluster-internal'],
    ['fd00:10::5', 'cluster-internal'],
    ['10.112.0.1', undefined],
    ['10.0.0.1', undefined],
    ['192.168.1.10', undefined],
    ['93.184.216.34', undefined],
    ['::ffff:93.184.216.34', undefined],
    ['2001:db8::1', undefined],
    ['fec0::1', undefined],
    ['not-an-address', undefined],
  ])('%s is %s', (address, kind) => {
    expect(privateAddressKind(address, cluster)).toBe(kind);
  });

  it('without cluster ranges, cluster addresses are not private', () => {
    expect(privateAddressKind('10.96.0.1')).toBeUndefined();
    expect(privateAddressKind('127.0.0.1')).toBe('loopback');
  });
});

describe('clusterRanges', () => {
  it.each(['10.96.0.0', '10.96.0.0/33', 'fd00::/129', 'example.org/8', '10.0.0.0/8/1', '10.0.0.0/x'])('refuses %s, naming it', (value) => {
    expect(() => clusterRanges([value])).toThrow(value);
  });
  it('ignores empty items of a comma-separated list', () => {
    expect(privateAddressKind('10.0.0.1', clusterRanges(['10.0.0.0/8,', ' ']))).toBe('cluster-internal');
  });
});
