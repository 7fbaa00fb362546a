// A real pino logger whose output a test can read: raw lines (to search for secrets) and parsed records.
import { Writable } from 'node:stream';
import { pino } from 'pino';

export function capturedLogger(level = 'debug') {
  const lines: string[] = [];
  const records: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      const line = String(chunk);
      lines.push(line);
      records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines, records };
}
