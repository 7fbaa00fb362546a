// Binds on a connection of their own, as a person's or an administrator's client makes them, for the
// LDAP suites (slapd and Samba AD differ only in how a client reaches them: `client` is a fresh one).
import { InvalidCredentialsError, type Client } from 'ldapts';

/** Whether a simple bind as `dn` with `password` succeeds now. Only wrong credentials are "no": any other failure is thrown. */
export async function bindSucceeds(client: Client, dn: string, password: string): Promise<boolean> {
  try {
    await client.bind(dn, password);
    return true;
  } catch (error) {
    if (error instanceof InvalidCredentialsError) return false;
    throw error;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/** `run` on `client` bound as `dn`; the connection is closed after. */
export async function whileBound<T>(client: Client, dn: string, password: string, run: (client: Client) => Promise<T>): Promise<T> {
  try {
    await client.bind(dn, password);
    return await run(client);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}
