/** Where the CLI writes; tests capture it. */
export interface Output {
  line(text: string): void;
  error(text: string): void;
}

export const consoleOutput: Output = {
  line: (text) => process.stdout.write(`${text}\n`),
  error: (text) => process.stderr.write(`${text}\n`),
};

/**
 * Resolves once stdout and stderr have handed everything written so far to the operating system.
 * A pipe (a parent process, `| tee`) takes writes asynchronously, and process.exit() discards what
 * is still queued: the end of a long summary would be lost while the exit status says success.
 */
export async function flushed(): Promise<void> {
  await Promise.all(
    [process.stdout, process.stderr].map(
      (stream) =>
        new Promise<void>((resolve) => {
          if (stream.destroyed || !stream.writable) return resolve();
          // Write callbacks run in order: this one runs after every earlier write is flushed.
          stream.write('', () => resolve());
        }),
    ),
  );
}
