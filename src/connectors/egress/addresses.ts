// Which addresses a ConnectedSystem or IdentitySource may not reach unless it says
// spec.allowPrivateNetwork: true. Whoever may write one of them in a namespace chooses the host
// Rollcall connects to from inside the cluster, so without this they could aim it at the node's
// loopback services, the cloud metadata endpoint or cluster-internal Services (SSRF).
// Membership is decided by node:net's BlockList, never by parsing addresses by hand.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export type PrivateAddressKind = 'loopback' | 'link-local' | 'unspecified' | 'cluster-internal';

const FIXED_RANGES: ReadonlyArray<[PrivateAddressKind, BlockList]> = [
  ['loopback', blockList(['127.0.0.0/8', '::1/128'])],
  ['link-local', blockList(['169.254.0.0/16', 'fe80::/10'])],
  // 0.0.0.0 (and the rest of "this network") and :: connect to the local host on Linux.
  ['unspecified', blockList(['0.0.0.0/8', '::/128'])],
];

/** IPv4 addresses written as IPv6 (::ffff:127.0.0.1): the kernel connects them to the IPv4 address. */
const IPV4_MAPPED = blockList(['::ffff:0:0/96']);

/**
 * Cluster-internal ranges (Service and Pod CIDRs), from `rollcall run --cluster-cidr`. Throws,
 * naming the value, on a range that is not `address/prefix`.
 */
export function clusterRanges(cidrs: readonly string[], flag = '--cluster-cidr'): BlockList {
  try {
    return blockList(
      cidrs
        .flatMap((value) => value.split(','))
        .map((value) => value.trim())
        .filter((value) => value !== ''),
    );
  } catch (error) {
    throw new Error(`${flag}: ${(error as Error).message}`, { cause: error });
  }
}

/** Which kind of private address `address` is, or undefined for an address any tenant may reach. */
export function privateAddressKind(address: string, cluster?: BlockList): PrivateAddressKind | undefined {
  const candidates = [address, ...mappedIPv4(address)];
  for (const candidate of candidates) {
    const family = isIPv4(candidate) ? 'ipv4' : isIPv6(candidate) ? 'ipv6' : undefined;
    if (!family) continue;
    for (const [kind, list] of FIXED_RANGES) if (list.check(candidate, family)) return kind;
    if (cluster?.check(candidate, family)) return 'cluster-internal';
  }
  return undefined;
}

/**
 * The IPv4 address inside an IPv4-mapped IPv6 address, in dotted form. BlockList compares across
 * families only one way, so a mapped address is also checked as the IPv4 address it reaches.
 */
function mappedIPv4(address: string): string[] {
  if (!isIPv6(address) || !IPV4_MAPPED.check(address, 'ipv6')) return [];
  // The WHATWG URL parser writes any spelling of it (::ffff:7f00:1, ::FFFF:127.0.0.1) as ::ffff:hhhh:hhhh.
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [high, low] = canonical
    .split(':')
    .slice(-2)
    .map((group) => Number.parseInt(group, 16));
  if (high === undefined || low === undefined || Number.isNaN(high) || Number.isNaN(low)) return [];
  return [[high >> 8, high & 0xff, low >> 8, low & 0xff].join('.')];
}

function blockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network, prefix, extra] = cidr.split('/');
    const family = network && isIPv4(network) ? 'ipv4' : network && isIPv6(network) ? 'ipv6' : undefined;
    const bits = Number(prefix);
    const max = family === 'ipv4' ? 32 : 128;
    if (!family || extra !== undefined || prefix === undefined || !/^\d+$/.test(prefix) || bits > max) {
      throw new Error(`"${cidr}" is not a CIDR range (address/prefix, e.g. 10.96.0.0/12 or fd00::/8)`);
    }
    list.addSubnet(network!, bits, family);
  }
  return list;
}
