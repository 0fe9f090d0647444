// The backends of one lab node, run inside its network namespace:
//   node --import tsx e2e/lab/pods/pod-server.ts <pods.json>
// - per pod address: HTTP on 8080 answering "<pod name>\n" (header X-Pod), UDP echo on 5353
//   answering "<pod name> <payload>";
// - ipvs mode: a listener on nodeIP:NodePort per virtual server that relays to the backends round
//   robin, standing in for IPVS (which would pick the backend at LOCAL_IN, after nat PREROUTING).
// Writes the ready file when everything listens; exits on SIGTERM/SIGINT.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import type { PodServerConfig, VirtualServerConfig } from './pod-config';

const UDP_IDLE_MS = 30_000;
const CONNECT_TIMEOUT_MS = 3_000;

type Closable = { close: () => unknown };

function listenHttp(name: string, ip: string, port: number): Promise<HttpServer> {
  const server = createHttpServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Pod': name, Connection: 'close' });
    res.end(`${name}\n`);
  });
  server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, () => resolve(server));
  });
}

function bindUdp(
  ip: string,
  port: number,
  onMessage: (sock: Socket, msg: Buffer, from: RemoteInfo) => void,
): Promise<Socket> {
  const sock = createSocket({ type: ip.includes(':') ? 'udp6' : 'udp4' });
  sock.on('message', (msg, from) => onMessage(sock, msg, from));
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, ip, () => resolve(sock));
  });
}

function tcpRelay(vs: VirtualServerConfig): Promise<Server> {
  let next = 0;
  // Half-open allowed both ways: a client that sends its request and shuts down its side must
  // still get the answer (as through IPVS).
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const backend = vs.backends[next++ % vs.backends.length]!;
    const upstream = connect({
      host: backend.ip,
      port: backend.port,
      timeout: CONNECT_TIMEOUT_MS,
      allowHalfOpen: true,
    });
    const fail = () => {
      client.resetAndDestroy();
      upstream.destroy();
    };
    upstream.once('timeout', fail);
    upstream.once('connect', () => upstream.setTimeout(0));
    upstream.on('error', fail);
    client.on('error', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(vs.port, vs.listen, () => resolve(server));
  });
}

async function udpRelay(vs: VirtualServerConfig): Promise<Socket> {
  let next = 0;
  const flows = new Map<string, { sock: Socket; timer: NodeJS.Timeout; pending: Buffer[] | undefined }>();
  const v6 = vs.listen.includes(':');
  return bindUdp(vs.listen, vs.port, (front, msg, from) => {
    const key = `${from.address}|${from.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const backend = vs.backends[next++ % vs.backends.length]!;
      const sock = createSocket({ type: v6 ? 'udp6' : 'udp4' });
      const created = { sock, timer: setTimeout(() => undefined, 0), pending: [] as Buffer[] | undefined };
      sock.on('message', (reply) => front.send(reply, from.port, from.address));
      sock.on('error', () => undefined);
      // connect() is asynchronous: queue datagrams until it completes.
      sock.connect(backend.port, backend.ip, () => {
        for (const m of created.pending ?? []) sock.send(m);
        created.pending = undefined;
      });
      flow = created;
      flows.set(key, flow);
    }
    clearTimeout(flow.timer);
    const f = flow;
    f.timer = setTimeout(() => {
      f.sock.close();
      flows.delete(key);
    }, UDP_IDLE_MS);
    if (f.pending) f.pending.push(msg);
    else f.sock.send(msg);
  });
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: pod-server.ts <pods.json>');
  const config = JSON.parse(readFileSync(file, 'utf8')) as PodServerConfig;
  const open: Closable[] = [];
  for (const pod of config.pods) {
    for (const ip of pod.ips) {
      open.push(await listenHttp(pod.name, ip, config.httpPort));
      open.push(
        await bindUdp(ip, config.udpPort, (sock, msg, from) => {
          sock.send(Buffer.concat([Buffer.from(`${pod.name} `), msg]), from.port, from.address);
        }),
      );
    }
  }
  for (const vs of config.virtualServers)
    open.push(vs.protocol === 'tcp' ? await tcpRelay(vs) : await udpRelay(vs));
  const stop = () => {
    for (const c of open) {
      try {
        c.close();
      } catch {
        // closing anyway
      }
    }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await writeFile(config.readyFile, `${process.pid}\n`);
  console.log(
    `${config.node}: ${config.pods.length} pods, ${config.virtualServers.length} virtual servers, pid ${process.pid}`,
  );
}

main().catch((err: unknown) => {
  console.error(`pod-server: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
