// The host matcher behind rollcall.dev/allowed-hosts: whether a destination (host and port) is one a
// Secret's owner listed. Host names are compared the way a URL parser and a resolver see them, so a
// spelling cannot slip past: case-insensitively, internationalised names as punycode, without a
// trailing dot, IPv4 in dotted-decimal and IPv6 compressed (WHATWG URL host parsing does all of it).
// `*.example.org` matches a name ending in .example.org with one or more labels before it, never
// example.org itself and never an IP address: an address only equals itself.
import { isIP } from 'node:net';

/** Where a connection goes: a host in canonicalHost's form and a port. */
export interface HostPort {
  host: string;
  port: number;
}

interface HostPattern {
  /** The whole canonical host, or for a wildcard the suffix after "*.". */
  host: string;
  wildcard: boolean;
  /** Any port when absent. */
  port?: number;
}

export interface AllowedHosts {
  patterns: HostPattern[];
  /** Entries that are not a host, host:port or *.domain[:port]: they match nothing and are reported. */
  invalid: string[];
}

const DEFAULT_PORTS: Record<string, number> = { 'ldap:': 389, 'ldaps:': 636, 'http:': 80, 'https:': 443 };

/**
 * A host name or IP address in one canonical form (IPv6 in brackets), or undefined when `raw` is not
 * a host on its own (a port, a path, user info, a socket directory or an empty string).
 */
export function canonicalHost(raw: string): string | undefined {
  const bare = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  if (isIP(bare) === 6) return new URL(`http://[${bare}]/`).hostname;
  if (bare === '' || /[\s/\\?#@:[\]]/.test(bare)) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${bare}/`);
  } catch {
    return undefined;
  }
  const host = url.hostname.replace(/\.$/, '');
  return host === '' || host.includes('*') ? undefined : host;
}

/** The destination of an ldap(s):// or http(s):// URL, or undefined when it names no usable host and port. */
export function urlDestination(url: string): HostPort | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  // ldap: is not a special scheme, so its host comes back as written (percent-encoded, any case): canonicalHost folds it.
  const host = canonicalHost(decodeURIComponentSafe(parsed.hostname));
  const port = parsed.port === '' ? DEFAULT_PORTS[parsed.protocol] : Number(parsed.port);
  return host === undefined || port === undefined ? undefined : { host, port };
}

/** Parses the annotation's value: comma-separated `host`, `host:port`, `[v6]:port` or `*.domain[:port]`. */
export function parseAllowedHosts(value: string): AllowedHosts {
  const patterns: HostPattern[] = [];
  const invalid: string[] = [];
  for (const entry of value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const pattern = parseEntry(entry);
    if (pattern) patterns.push(pattern);
    else invalid.push(entry);
  }
  return { patterns, invalid };
}

/** Whether `destination` matches one of the patterns. */
export function hostAllowed(allowed: AllowedHosts, destination: HostPort): boolean {
  const isAddress = isIP(destination.host.replace(/^\[|\]$/g, '')) !== 0;
  return allowed.patterns.some((pattern) => {
    if (pattern.port !== undefined && pattern.port !== destination.port) return false;
    if (!pattern.wildcard) return pattern.host === destination.host;
    return !isAddress && destination.host.endsWith(`.${pattern.host}`);
  });
}

function parseEntry(entry: string): HostPattern | undefined {
  let hostText = entry;
  let portText: string | undefined;
  const bracketed = /^(\[[^\]]*\])(?::(.*))?$/.exec(entry);
  if (bracketed) [, hostText = '', portText] = bracketed;
  else if (entry.split(':').length === 2) [hostText = '', portText] = entry.split(':');
  // More than one colon and no brackets: a bare IPv6 address, any port.
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
    if (port < 1 || port > 65535) return undefined;
  }
  const wildcard = hostText.startsWith('*.');
  const host = canonicalHost(wildcard ? hostText.slice(2) : hostText);
  if (host === undefined || (wildcard && isIP(host.replace(/^\[|\]$/g, '')) !== 0)) return undefined;
  return { host, wildcard, ...(port === undefined ? {} : { port }) };
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
