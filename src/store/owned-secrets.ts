// Secrets Rollcall writes for people to read (a joiner's first password), for the in-memory store.
// Without a cluster nobody could read a Secret kept in memory, so `rollcall run --manifests` keeps
// each one as a file readable by the file's owner only (0600, in a 0700 directory beside the state
// file): whoever may read the state file's directory may read them, exactly as on a cluster whoever
// may read the namespace's Secrets may. Without a directory (tests) they live in memory.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { AlreadyExistsError, keyString, type ObjectKey, type OwnedSecret } from './store.ts';

export class OwnedSecrets {
  readonly #directory: string | undefined;
  readonly #inMemory = new Map<string, OwnedSecret>();

  constructor(directory?: string) {
    this.#directory = directory;
  }

  get(key: ObjectKey): OwnedSecret | undefined {
    if (this.#directory === undefined) return copy(this.#inMemory.get(keyString(key)));
    let text: string;
    try {
      text = readFileSync(this.#file(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return fromManifest(key, parse(text) as Manifest);
  }

  create(secret: OwnedSecret): void {
    if (this.#directory === undefined) {
      if (this.#inMemory.has(keyString(secret.key))) throw new AlreadyExistsError(`Secret ${keyString(secret.key)} already exists`);
      this.#inMemory.set(keyString(secret.key), copy(secret)!);
      return;
    }
    mkdirSync(join(this.#directory, secret.key.namespace), { recursive: true, mode: 0o700 });
    try {
      // wx: never over another; 0600: the file's owner only, as the header says.
      writeFileSync(this.#file(secret.key), stringify(toManifest(secret)), { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new AlreadyExistsError(`Secret ${keyString(secret.key)} already exists`, { cause: error });
      throw error;
    }
  }

  delete(key: ObjectKey): void {
    if (this.#directory === undefined) this.#inMemory.delete(keyString(key));
    else rmSync(this.#file(key), { force: true });
  }

  /** Every Secret the object with this uid owns: they go with it, as Kubernetes' garbage collector does. */
  ownedBy(namespace: string, uid: string): ObjectKey[] {
    const all = this.#directory === undefined ? [...this.#inMemory.values()] : this.#filesIn(namespace);
    return all.filter((s) => s.key.namespace === namespace && s.owner.uid === uid).map((s) => s.key);
  }

  #filesIn(namespace: string): OwnedSecret[] {
    let names: string[];
    try {
      names = readdirSync(join(this.#directory!, namespace));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names.filter((name) => name.endsWith('.yaml')).flatMap((name) => this.get({ namespace, name: name.slice(0, -'.yaml'.length) }) ?? []);
  }

  #file(key: ObjectKey): string {
    // Both are Kubernetes object names (DNS subdomains): no separator or '..' can appear in them.
    return join(this.#directory!, key.namespace, `${key.name}.yaml`);
  }
}

interface Manifest {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string>; ownerReferences: OwnedSecret['owner'][] };
  stringData: Record<string, string>;
}

/** The file is a Secret manifest: a person reads stringData, and `kubectl apply -f` would take it as it is. */
function toManifest(secret: OwnedSecret): Manifest {
  const { key, labels, annotations, data, owner } = secret;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: key.name, namespace: key.namespace, labels, annotations, ownerReferences: [owner] },
    stringData: data,
  };
}

function fromManifest(key: ObjectKey, manifest: Manifest): OwnedSecret | undefined {
  const owner = manifest?.metadata?.ownerReferences?.[0];
  if (!owner) return undefined;
  return { key, labels: manifest.metadata.labels ?? {}, annotations: manifest.metadata.annotations ?? {}, data: manifest.stringData ?? {}, owner };
}

function copy(secret: OwnedSecret | undefined): OwnedSecret | undefined {
  return secret && structuredClone(secret);
}
