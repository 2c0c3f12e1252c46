import net from 'node:net';
import { createTestDatabase, dropTestDatabase } from './app.js';
import { databaseUrl } from './postgres.js';

/**
 * A TCP proxy between the app and PostgreSQL that a test can cut (as if the database went down),
 * restore, or slow down, without touching the real server that other test files share.
 */
export class TcpProxy {
  private server = net.createServer((client) => this.onConnection(client));
  private sockets = new Set<net.Socket>();
  private down = false;
  delayMs = 0;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  private onConnection(client: net.Socket) {
    if (this.down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.sockets.add(client).add(upstream);
    const forget = () => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (this.delayMs > 0) setTimeout(() => client.write(chunk), this.delayMs);
      else client.write(chunk);
    });
  }

  /** Drops every open connection and refuses new ones. */
  cut() {
    this.down = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  restore() {
    this.down = false;
  }

  async stop() {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Host and port of a postgres:// URL. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432) };
}

export function withPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

/** A fresh test database behind its own proxy: `url` goes through the proxy, `directUrl` does not. */
export async function proxiedTestDatabase() {
  const name = await createTestDatabase();
  const directUrl = databaseUrl(name);
  const { host, port } = hostPort(directUrl);
  const proxy = new TcpProxy(host, port);
  await proxy.start();
  return {
    name,
    directUrl,
    url: withPort(directUrl, proxy.port),
    proxy,
    async close() {
      await proxy.stop();
      await dropTestDatabase(name);
    },
  };
}
