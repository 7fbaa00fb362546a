// The house's shape, read from the code's own imports: src/'s folders stand in layers, each imports
// only folders below it (so no two import each other), cli/ takes only the manager from
// controllers/, and one function writes to a system. A new folder must be given its place here.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../../src');

/** From the top down: a folder may import only folders after it. */
const LAYERS = [
  'cli',
  'controllers',
  'scim-inbound',
  'feeds',
  'connections',
  'sources',
  'engine',
  'connectors',
  'store',
  'manifests',
  'queue',
  'process',
  'clock',
  'api',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of every file under src/, as [importing file, imported file], both from src/. */
function imports(): Array<[string, string]> {
  return sourceFiles(SRC).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
    return specifiers.map((specifier) => [relative(SRC, file), relative(SRC, normalize(join(dirname(file), specifier)))] as [string, string]);
  });
}

const folderOf = (path: string) => path.split(sep)[0]!;

describe('import boundaries of src/', () => {
  const all = imports();

  it('finds the imports it checks', () => {
    expect(all.length).toBeGreaterThan(500);
    expect(all).toContainEqual(['cli/run.ts', 'controllers/manager.ts']);
  });

  it('every folder has its layer, and imports only folders below it: no two folders import each other', () => {
    const folders = new Set(
      readdirSync(SRC, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name),
    );
    expect(
      [...folders].filter((f) => !LAYERS.includes(f)),
      'folders without a layer in LAYERS',
    ).toEqual([]);
    const upward = all
      .filter(([from, to]) => folderOf(from) !== folderOf(to) && folders.has(folderOf(to)))
      .filter(([from, to]) => LAYERS.indexOf(folderOf(from)) > LAYERS.indexOf(folderOf(to)))
      .map(([from, to]) => `${from} -> ${to}`);
    expect(upward).toEqual([]);
  });

  it('cli/ takes one file from controllers/: the manager', () => {
    const taken = new Set(all.filter(([from, to]) => folderOf(from) === 'cli' && folderOf(to) === 'controllers').map(([, to]) => to));
    expect([...taken]).toEqual(['controllers/manager.ts']);
  });

  it('one function writes to a system: only controllers/apply-change.ts calls connector.apply', () => {
    const callers = sourceFiles(SRC)
      .filter((file) => !relative(SRC, file).startsWith(`connectors${sep}`))
      .filter((file) => /\bconnector\.apply\(/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(SRC, file));
    expect(callers).toEqual(['controllers/apply-change.ts']);
  });
});
