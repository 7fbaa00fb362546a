// The format of a content digest in the API (spec.approval.digest): `sha256:` and 64 lower-case hex
// digits over a canonical text. Here, beside the schema, so that every producer (kubectl rollcall
// approve, the engine that checks it) hashes the same way; the canonical text is the engine's
// (src/engine/approval-content.ts).
import { createHash } from 'node:crypto';

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function sha256Digest(canonical: string): string {
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}
