import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * TEST SUPPORT: a throwaway PostgreSQL cluster a test starts itself, so it can stop, freeze (SIGSTOP)
 * and restart the server under a running service without touching anyone else's database.
 */

/** The newest PostgreSQL server's bin folder (initdb, pg_ctl), or undefined when none is installed. */
export const PG_BIN: string | undefined = (() => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length === 0 ? undefined : join(root, versions[0]!, 'bin');
})();

/** The `skip` option of a test needing its own cluster: one line saying what is missing, else false. */
export const PG_CLUSTER_SKIP: string | false =
  PG_BIN === undefined ? 'skipped: no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql; apt-get install postgresql to run the database fault tests' : false;

const run = promisify(execFile);

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A PostgreSQL cluster in a temp folder, owned by the postgres user when the tests run as root. */
export class PgCluster {
  private constructor(
    private readonly dir: string,
    private readonly port: number,
    private readonly asRoot: boolean,
  ) {}

  /** postgres://postgres@127.0.0.1:port/postgres (trust authentication, local only). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Creates and starts a cluster on a free port. */
  static async start(): Promise<PgCluster> {
    if (PG_BIN === undefined) throw new Error(String(PG_CLUSTER_SKIP));
    const dir = mkdtempSync(join(tmpdir(), 'collab-pg-'));
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      // initdb refuses to run as root; the cluster belongs to the postgres user
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      chownSync(dir, uid, gid);
      chmodSync(dir, 0o700);
    }
    const cluster = new PgCluster(dir, await freePort(), asRoot);
    await cluster.run('initdb', ['-D', cluster.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await cluster.startServer();
    return cluster;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Runs a PostgreSQL tool (as the postgres user when root) without blocking the event loop, so a service in this process keeps answering. */
  private async run(tool: string, args: string[]): Promise<void> {
    const bin = join(PG_BIN!, tool);
    if (this.asRoot) await run('runuser', ['-u', 'postgres', '--', bin, ...args]);
    else await run(bin, args);
  }

  private startServer(): Promise<void> {
    return this.run('pg_ctl', ['-D', this.dataDir, '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(this.dir, 'log'), '-w', 'start']);
  }

  /** Stops the server (fast shutdown: sessions are cut, committed data stays). */
  stop(): Promise<void> {
    return this.run('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']);
  }

  /** Starts the server again after `stop`. */
  restart(): Promise<void> {
    return this.startServer();
  }

  /** Process ids of the postmaster and its children (the backends). */
  private pids(): number[] {
    const pidFile = join(this.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return [];
    const main = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    const children: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // the fields after the parenthesised command name: state, ppid, ...
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === main) children.push(Number(entry));
      } catch {
        // the process ended while we looked
      }
    }
    return [main, ...children];
  }

  /** Freezes every process of the server (SIGSTOP): connections stay open and nothing answers. */
  freeze(): void {
    for (const pid of this.pids()) process.kill(pid, 'SIGSTOP');
  }

  /** Lets a frozen server run again (SIGCONT). */
  thaw(): void {
    for (const pid of this.pids()) process.kill(pid, 'SIGCONT');
  }

  /** Stops the server at once and deletes the cluster. */
  async dispose(): Promise<void> {
    try {
      this.thaw();
      await this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
