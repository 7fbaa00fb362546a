// Records every TCP connection attempt this process starts (the address and port net tries after
// DNS), so an egress test can prove that a refused target got no packet at all, not only no answer.
// Node emits 'connectionAttempt' on a socket right before it connects to a resolved address.
import { Socket } from 'node:net';

export interface ConnectionAttempts {
  readonly attempts: ReadonlyArray<{ address: string; port: number }>;
  stop(): void;
}

export function recordConnectionAttempts(): ConnectionAttempts {
  const attempts: { address: string; port: number }[] = [];
  const original = Socket.prototype.connect;
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    this.on('connectionAttempt', (address: string, port: number) => attempts.push({ address, port }));
    return (original as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof original;
  return {
    attempts,
    stop: () => {
      Socket.prototype.connect = original;
    },
  };
}
