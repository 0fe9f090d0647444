// A TCP relay on 127.0.0.1 that can freeze: connections stay open but no byte passes, like a
// network path that silently dies (what SSH keepalive exists to notice).
import { type AddressInfo, createServer, connect as netConnect, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Stops relaying on the connections open now; new connections relay normally. */
  freeze(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<{ a: Socket; b: Socket; frozen: boolean }>();
  const server = createServer((a) => {
    const b = netConnect(targetPort, '127.0.0.1');
    const pair = { a, b, frozen: false };
    open.add(pair);
    a.on('data', (d) => pair.frozen || b.write(d));
    b.on('data', (d) => pair.frozen || a.write(d));
    const end = () => {
      open.delete(pair);
      a.destroy();
      b.destroy();
    };
    a.on('close', end);
    b.on('close', end);
    a.on('error', end);
    b.on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => {
      for (const pair of open) pair.frozen = true;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const { a, b } of open) {
          a.destroy();
          b.destroy();
        }
        server.close(() => r());
      }),
  };
}
