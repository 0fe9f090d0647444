// An in-process ssh2 Server on 127.0.0.1 for protocol-level unit tests, as ssh2's own
// test/common.js does: real key exchange, real host key, real publickey/password auth, real exec
// channels and direct-tcpip forwarding (to act as a bastion). Commands are answered by a handler
// (or run by the local /bin/sh for harmless ones); nothing here is a mock of the client.
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { connect as netConnect } from 'node:net';
import ssh2, { type Connection, type ParsedKey, type ServerChannel } from 'ssh2'; // CommonJS: see connect-hop.ts
import { SHELL_PROGRAM } from '../shell-channel';
import type { TestKeyPair } from './keys';

export interface ExecReply {
  readonly stdout?: string;
  readonly stderr?: string;
  readonly code?: number;
  /** Never answer (until the client closes the channel). */
  readonly hang?: boolean;
  /** Cut the whole connection instead of answering (after writing stdout, when given). */
  readonly dropConnection?: boolean;
  /** Stream this byte without end on stdout (or stderr), as fast as the client reads. */
  readonly flood?: { readonly byte: number; readonly stream: 'stdout' | 'stderr' };
}

export interface ExecCall {
  readonly user: string;
  readonly command: string;
  readonly stdin: Buffer;
}

export type ExecHandler = (call: ExecCall) => ExecReply | 'sh' | Promise<ExecReply | 'sh'>;

export interface TestUser {
  readonly password?: string;
  /** authorized_keys lines (`type base64 comment`). */
  readonly publicKeys?: readonly string[];
}

export interface TestServerOptions {
  readonly hostKey: TestKeyPair;
  readonly users: Readonly<Record<string, TestUser>>;
  readonly exec?: ExecHandler;
  /** Accept direct-tcpip to 127.0.0.1 (a bastion). */
  readonly forwarding?: boolean;
  /** Printed on stdout and stderr when a persistent shell starts, as a noisy ~/.bashrc would. */
  readonly shellBanner?: string;
  /** Exec commands that run live in a real `/bin/sh -c`, stdin streamed (resident programs). */
  readonly live?: (command: string) => boolean;
  /** Folder put first on PATH of every real /bin/sh (a node whose `id` is not what it seems). */
  readonly binDir?: string;
  /** Sent before authentication (SSH_MSG_USERAUTH_BANNER), as sshd's Banner option does. */
  readonly banner?: string;
  /** Instead of authenticating anyone, disconnect with this description (SSH_MSG_DISCONNECT). */
  readonly disconnectOnAuth?: string;
}

export interface TestServerStats {
  connections: number;
  /** Connections that have ended (either side). */
  closed: number;
  authenticated: number;
  /** Auth methods tried, e.g. ['none', 'publickey', 'password']. */
  authMethods: string[];
  execs: ExecCall[];
  activeExecs: number;
  maxActiveExecs: number;
  forwards: string[];
  /** Channels the client closed before the command answered (timeouts, cancellation). */
  abandoned: number;
  /** auth-agent-req@openssh.com requests (agent forwarding), which we must never send. */
  agentForwardRequests: number;
  /** Persistent shells opened (the fleet's SHELL_PROGRAM), each run by a real local /bin/sh. */
  shells: number;
  /** Live commands started (options.live), e.g. resident programs. */
  lives: number;
  /** Bytes written by `flood` replies, and floods still writing. */
  flooded: number;
  floodsRunning: number;
}

export interface TestServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly stats: TestServerStats;
  /** Drops every open connection (the server keeps listening). */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const stats: TestServerStats = {
    connections: 0,
    closed: 0,
    authenticated: 0,
    authMethods: [],
    execs: [],
    activeExecs: 0,
    maxActiveExecs: 0,
    forwards: [],
    abandoned: 0,
    agentForwardRequests: 0,
    shells: 0,
    lives: 0,
    flooded: 0,
    floodsRunning: 0,
  };
  const shEnv =
    options.binDir === undefined
      ? process.env
      : { ...process.env, PATH: `${options.binDir}:${process.env.PATH ?? ''}` };
  const keysByUser = new Map<string, ParsedKey[]>();
  for (const [name, user] of Object.entries(options.users)) {
    keysByUser.set(
      name,
      (user.publicKeys ?? []).map((line) => {
        const k = ssh2.utils.parseKey(line);
        if (k instanceof Error) throw k;
        return Array.isArray(k) ? k[0] : k;
      }),
    );
  }
  const open = new Set<Connection>();
  const server = new ssh2.Server(
    {
      hostKeys: [options.hostKey.privateKey],
      ...(options.banner === undefined ? {} : { banner: options.banner }),
    },
    (conn) => {
      stats.connections++;
      (conn as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
      open.add(conn);
      conn.on('close', () => {
        open.delete(conn);
        stats.closed++;
      });
      conn.on('error', () => {});
      let user = '';
      conn.on('authentication', (ctx) => {
        stats.authMethods.push(ctx.method);
        if (options.disconnectOnAuth !== undefined) return disconnectWith(conn, options.disconnectOnAuth);
        user = ctx.username;
        const account = options.users[ctx.username];
        const methods: Array<'publickey' | 'password'> = ['publickey', 'password'];
        if (account === undefined) return ctx.reject(methods);
        if (ctx.method === 'password') {
          return account.password !== undefined && ctx.password === account.password
            ? ctx.accept()
            : ctx.reject(methods);
        }
        if (ctx.method === 'publickey') {
          const key = keysByUser
            .get(ctx.username)
            ?.find(
              (k) =>
                k.type === ctx.key.algo.replace(/^rsa-sha2-(256|512)$/, 'ssh-rsa') &&
                k.getPublicSSH().equals(ctx.key.data),
            );
          if (key === undefined) return ctx.reject(methods);
          if (ctx.signature === undefined || ctx.blob === undefined) return ctx.accept(); // key query
          return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) ? ctx.accept() : ctx.reject(methods);
        }
        return ctx.reject(methods);
      });
      conn.on('ready', () => {
        stats.authenticated++;
        conn.on('tcpip', (accept, reject, info) => {
          if (!options.forwarding || info.destIP !== '127.0.0.1') return reject();
          stats.forwards.push(`${info.destIP}:${info.destPort}`);
          const upstream = netConnect(info.destPort, info.destIP);
          upstream.once('connect', () => {
            const channel = accept();
            channel.pipe(upstream).pipe(channel);
            channel.on('close', () => upstream.destroy());
            upstream.on('close', () => channel.close());
          });
          upstream.once('error', () => reject());
        });
        conn.on('session', (acceptSession) => {
          const session = acceptSession();
          session.on('auth-agent', (_accept, reject) => {
            stats.agentForwardRequests++;
            reject?.();
          });
          session.on('exec', (accept, _reject, info) => {
            const channel = accept();
            if (info.command === SHELL_PROGRAM) liveShell(channel);
            else if (options.live?.(info.command)) live(channel, ['-c', info.command]);
            else void answer(channel, user, info.command);
          });
        });
      });
      // The fleet's persistent shell: a real /bin/sh, fed live (its stdin never ends while it is used).
      const liveShell = (channel: ServerChannel) => {
        stats.shells++;
        if (options.shellBanner) {
          channel.write(options.shellBanner);
          channel.stderr.write(options.shellBanner);
        }
        live(channel, []);
      };
      const live = (channel: ServerChannel, args: string[]) => {
        if (args.length > 0) stats.lives++;
        const child = spawn('/bin/sh', args, { stdio: 'pipe', env: shEnv });
        channel.on('data', (d: Buffer) => child.stdin.write(d));
        channel.on('end', () => child.stdin.end());
        channel.on('close', () => child.kill('SIGKILL'));
        child.stdin.on('error', () => {});
        // The client may have closed the channel (an output cap) while the child still writes.
        child.stdout.on('data', (d: Buffer) => {
          if (!channel.writableEnded && !channel.destroyed) channel.write(d);
        });
        child.stderr.on('data', (d: Buffer) => {
          if (!channel.stderr.writableEnded && !channel.stderr.destroyed) channel.stderr.write(d);
        });
        child.on('close', (code) => {
          try {
            channel.exit(code ?? 255);
            channel.end();
          } catch {
            // the client closed first
          }
        });
      };
      const answer = async (channel: ServerChannel, user: string, command: string) => {
        stats.activeExecs++;
        stats.maxActiveExecs = Math.max(stats.maxActiveExecs, stats.activeExecs);
        let done = false;
        channel.on('close', () => {
          if (!done) stats.abandoned++;
          done = true;
        });
        const stdinParts: Buffer[] = [];
        await new Promise<void>((resolve) => {
          channel.on('data', (d: Buffer) => stdinParts.push(d));
          channel.on('end', () => resolve());
        });
        const call: ExecCall = { user, command, stdin: Buffer.concat(stdinParts) };
        stats.execs.push(call);
        const reply = options.exec === undefined ? { code: 0 } : await options.exec(call);
        try {
          if (reply === 'sh') {
            const child = spawn('/bin/sh', ['-c', command], { stdio: 'pipe', env: shEnv });
            child.stdout.on('data', (d: Buffer) => channel.write(d));
            child.stderr.on('data', (d: Buffer) => channel.stderr.write(d));
            child.stdin.on('error', () => {}); // the command may exit without reading stdin
            child.stdin.end(call.stdin);
            const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 255)));
            if (!done) {
              done = true;
              channel.exit(code);
              channel.end();
            }
            return;
          }
          if (reply.dropConnection) {
            done = true;
            if (reply.stdout) channel.write(reply.stdout);
            conn.end();
            return;
          }
          if (reply.flood) {
            flood(channel, reply.flood, () => done);
            return;
          }
          if (reply.hang) return;
          if (done) return;
          done = true;
          if (reply.stdout) channel.write(reply.stdout);
          if (reply.stderr) channel.stderr.write(reply.stderr);
          channel.exit(reply.code ?? 0);
          channel.end();
        } finally {
          stats.activeExecs--;
        }
      };
    },
  );
  const flood = (channel: ServerChannel, spec: NonNullable<ExecReply['flood']>, stopped: () => boolean) => {
    const chunk = Buffer.alloc(32 * 1024, spec.byte);
    const target = spec.stream === 'stdout' ? channel : channel.stderr;
    stats.floodsRunning++;
    let running = true;
    const stop = () => {
      if (running) stats.floodsRunning--;
      running = false;
    };
    channel.on('close', stop);
    // Write while the client's window has room; go on when it reads ('drain'); stop when it hangs up.
    const pump = () => {
      while (running && !stopped()) {
        stats.flooded += chunk.length;
        if (!target.write(chunk)) {
          target.once('drain', pump);
          return;
        }
      }
      stop();
    };
    pump();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    stats,
    dropAll: () => {
      for (const c of open) c.end();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of open) c.end();
        server.close(() => resolve());
      }),
  };
}

/**
 * SSH_MSG_DISCONNECT with our own description: ssh2's Server only sends an empty one, and the
 * point is a peer whose words reach the client's error message.
 */
function disconnectWith(conn: Connection, description: string): void {
  const proto = (conn as unknown as { _protocol: DisconnectingProtocol })._protocol;
  const desc = Buffer.from(description, 'utf8');
  const writer = proto._packetRW.write;
  const start = writer.allocStart;
  const packet = writer.alloc(1 + 4 + 4 + desc.length + 4);
  packet[start] = 1; // SSH_MSG_DISCONNECT
  packet.writeUInt32BE(2, start + 1); // SSH_DISCONNECT_PROTOCOL_ERROR (BY_APPLICATION is not reported)
  packet.writeUInt32BE(desc.length, start + 5);
  desc.copy(packet, start + 9);
  packet.writeUInt32BE(0, start + 9 + desc.length); // empty language tag
  proto._cipher.encrypt(writer.finalize(packet));
  conn.end();
}

interface DisconnectingProtocol {
  readonly _packetRW: {
    readonly write: {
      readonly allocStart: number;
      alloc(length: number): Buffer;
      finalize(packet: Buffer): Buffer;
    };
  };
  readonly _cipher: { encrypt(packet: Buffer): void };
}
