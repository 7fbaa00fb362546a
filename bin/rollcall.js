#!/usr/bin/env node
// Node >= 22.18 runs the TypeScript sources directly (type stripping), so there is no build step.
// On an older Node (a machine's end-of-life default), re-run with the Node 24 that the `node`
// devDependency installs, or say what to do.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    console.error(`rollcall needs Node.js >= 22.18 (this is ${process.version}); run "npm ci" to install the pinned Node 24, or use npx rollcall.`);
    process.exit(1);
  }
  const result = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

const { main } = await import('../src/cli/main.ts');
const { flushed } = await import('../src/cli/output.ts');
process.exitCode = await main(process.argv.slice(2));
// Exit explicitly (a connection pool or a timer must not keep a finished command alive), but only
// once everything written has left the process: exit() drops output still queued for a pipe.
await flushed();
process.exit();
