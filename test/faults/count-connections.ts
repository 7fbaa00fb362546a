// Loaded into a Rollcall child process (`node --import THIS bin/rollcall.js ...`): appends one line
// "PORT EPOCH_MS" per TCP connection attempt to the file named by ROLLCALL_TEST_CONNECTIONS, so a
// test counts how often Rollcall tried to reach a system that is down, and when (the backoff shows in
// the gaps). A stopped server refuses connections, so nothing on the server's side could count them.
// Node emits 'connectionAttempt' on a socket right before it connects to a resolved address.
import { appendFileSync } from 'node:fs';
import { Socket } from 'node:net';

const file = process.env.ROLLCALL_TEST_CONNECTIONS;
if (file) {
  const original = Socket.prototype.connect;
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    // Epoch milliseconds from the monotonic clock's origin: comparable with the test process's.
    this.once('connectionAttempt', (_address: string, port: number) =>
      appendFileSync(file, `${port} ${Math.round(performance.timeOrigin + performance.now())}\n`),
    );
    return (original as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof original;
}
