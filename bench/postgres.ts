// A PostgreSQL server of the bench's own (npm run bench:referentials): the machine's server keeps the settings of a
// test server (shared_buffers 128 MB), and at 1,000,000 persons the referential's tables and indexes (several GB) then
// live in the kernel's page cache, each page copied in again whenever it is touched. No one would run the hub's
// referentials at that size so; this server has the memory settings docs/operations.md recommends, and nothing else
// changed (planner costs, durability: the defaults). Its cluster is initialised once, kept between runs (so that
// --reuse-db finds its database), and started and stopped by each run. Its shared memory is in huge pages when the
// machine can give them (see reserveHugePages), and glibc's allocator keeps the memory its statements free
// (serverMallocTunables): docs/decisions.md §33.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';

export interface BenchPostgres {
  /** The maintenance database's URL (…/postgres). */
  url: string;
  settings: Record<string, string>;
  /** Whether the shared memory is in huge pages, and why not when it is not. */
  hugePages: string;
  /** The allocator settings the server's processes run with. */
  malloc: string;
  /**
   * CPU seconds (user + system) that the server has used so far: see serverCpuSeconds. Undefined when /proc cannot
   * tell (another system than Linux, or the server is gone).
   */
  cpuSeconds(): number | undefined;
  stop(): void;
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on every Linux port but a few old ones). */
function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is the state, [1] the parent pid. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used by a PostgreSQL server: its postmaster's own utime + stime, plus cutime + cstime (every process it
 * started and reaped: backends of closed connections, parallel workers, autovacuum workers), plus utime + stime of its
 * processes alive now (backends, checkpointer, background writer, WAL writer, autovacuum launcher). The difference of
 * two readings is what the server used between them, whether a process lived through both or not (one that ended in
 * between is counted by its parent's cutime in full, its share before the first reading by the first reading).
 */
export function serverCpuSeconds(postmasterPid: number, ticks: number = clockTicks()): number | undefined {
  const own = statFields(postmasterPid);
  if (!own) return undefined;
  // utime, stime, cutime, cstime: fields 14-17 of stat(5), [11]-[14] here.
  let total = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(entry);
    if (f && Number(f[1]) === postmasterPid) total += Number(f[11]) + Number(f[12]);
  }
  return total / ticks;
}

/** The postmaster's pid, from the first line of postmaster.pid in its data folder. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Where PostgreSQL's server programs are: `pg_config --bindir`, else the newest /usr/lib/postgresql/<v>/bin. */
function binDir(): string {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // No pg_config on the PATH: look where Debian puts the server.
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('no PostgreSQL server programs (initdb) found: install PostgreSQL, or set DATABASE_URL to a server of yours');
  return join(root, newest, 'bin');
}

/** The memory settings for this machine: a quarter of memory for buffers (at most 8 GB), WAL room for a bulk load. */
export function benchSettings(memoryBytes: number = totalmem()): Record<string, string> {
  const mb = (bytes: number) => `${Math.max(128, Math.floor(bytes / 2 ** 20))}MB`;
  return {
    shared_buffers: mb(Math.min(memoryBytes / 4, 8 * 2 ** 30)),
    effective_cache_size: mb(memoryBytes / 2),
    maintenance_work_mem: '1GB',
    work_mem: '64MB',
    wal_buffers: '64MB',
    max_wal_size: '16GB',
    checkpoint_timeout: '30min',
  };
}

/** How the server's shared memory is mapped: `on` reserves huge pages where it can, `off` keeps 4 KB pages. */
export type HugePagesChoice = 'on' | 'off';

/**
 * glibc's allocator settings for the server's processes (GLIBC_TUNABLES): blocks up to 32 MB taken from the heap rather
 * than mapped apart, and up to 512 MB of freed heap kept rather than given back. A bulk import's statements parse
 * documents of several MB; with glibc's defaults each statement's memory was mapped, touched page by page and
 * unmapped again, and every first touch is a page fault (docs/decisions.md §33).
 */
export const serverMallocTunables = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=536870912:glibc.malloc.top_pad=67108864';

/** The server's own tuning beyond its settings: huge pages for shared memory, glibc's allocator kept from unmapping. */
export interface ServerTuning {
  hugePages: HugePagesChoice;
  mallocTunables: boolean;
  /** Load pg_stat_statements (a bench that reports where the server's time went; it costs a little on every statement). */
  statements?: boolean;
}

export function startBenchPostgres(dataDir: string, port: number, tuning: ServerTuning = { hugePages: 'on', mallocTunables: true }): BenchPostgres {
  const bin = binDir();
  // initdb and postgres refuse to run as root: as root, they run as the postgres user, in a folder it owns.
  const asRoot = process.getuid?.() === 0;
  const run = (program: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
    const argv = asRoot ? ['-u', 'postgres', '--', join(bin, program), ...args] : args;
    const result = spawnSync(asRoot ? 'runuser' : join(bin, program), argv, { encoding: 'utf8', env });
    if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${result.status ?? result.signal}): ${(result.stderr || result.stdout || '').trim()}`);
    return result.stdout;
  };
  mkdirSync(dataDir, { recursive: true });
  if (asRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dataDir, uid, gid);
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  const settings = benchSettings();
  if (tuning.statements) settings['shared_preload_libraries'] = 'pg_stat_statements';
  // A server left running by a run that was killed is stopped first: it may have other settings (and it holds the huge
  // pages this run would count as taken).
  spawnSync(asRoot ? 'runuser' : join(bin, 'pg_ctl'), asRoot ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', dataDir, '-m', 'fast', 'stop'] : ['-D', dataDir, '-m', 'fast', 'stop'], { stdio: 'ignore' });
  let huge = tuning.hugePages === 'on' ? reserveHugePages(() => run('postgres', ['-D', dataDir, '-C', 'shared_memory_size_in_huge_pages', ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])])) : notUsed('--huge-pages off');
  const start = () => {
    settings['huge_pages'] = huge.pages > 0 ? 'on' : 'off';
    const options = [`-p ${port}`, `-k ${dataDir}`, "-c listen_addresses=127.0.0.1", ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
    // The postmaster passes its environment to every process it starts.
    run('pg_ctl', ['-D', dataDir, '-l', join(dataDir, 'server.log'), '-w', '-t', '60', '-o', options, 'start'], tuning.mallocTunables ? { ...process.env, GLIBC_TUNABLES: serverMallocTunables } : process.env);
  };
  try {
    start();
  } catch (err) {
    huge.release();
    if (huge.pages === 0) throw err;
    // Pages taken by another process meanwhile: the run goes on without them, and says so.
    huge = notUsed(`the server did not start with them (${join(dataDir, 'server.log')} tells why)`);
    start();
  }
  let stopped = false;
  const pid = postmasterPid(dataDir);
  const ticks = clockTicks();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    settings,
    hugePages: huge.reason,
    malloc: tuning.mallocTunables ? `GLIBC_TUNABLES=${serverMallocTunables}` : "glibc's defaults",
    cpuSeconds: () => (pid === undefined || stopped ? undefined : serverCpuSeconds(pid, ticks)),
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
      } catch {
        // Already gone.
      }
      huge.release();
    },
  };
}

function postgresIds(): { uid: number; gid: number } {
  const out = execFileSync('id', ['postgres'], { encoding: 'utf8' });
  const uid = /uid=(\d+)/.exec(out)?.[1];
  const gid = /gid=(\d+)/.exec(out)?.[1];
  if (uid === undefined || gid === undefined) throw new Error('running as root, and there is no postgres user to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

interface HugePages {
  /** Huge pages the server's shared memory takes (0: it runs on 4 KB pages). */
  pages: number;
  reason: string;
  /** Gives back to the kernel the pages this run reserved (none when the machine had them free already). */
  release(): void;
}

const nrHugePagesFile = '/proc/sys/vm/nr_hugepages';

/**
 * Huge pages for the server's shared memory, reserved from the kernel if the machine has too few free and this process
 * may set vm.nr_hugepages (root). With 4 KB pages each backend maps the buffers it touches page by page, and on a
 * virtual machine each first touch is a costly fault: a third or more of PostgreSQL's CPU in a large import
 * (docs/decisions.md §33). `needed` asks the server how many its settings take (`postgres -C`).
 */
function notUsed(reason: string): HugePages {
  return { pages: 0, reason: `not used: ${reason}`, release: () => undefined };
}

function reserveHugePages(needed: () => string): HugePages {
  if (!existsSync(nrHugePagesFile)) return notUsed('no huge pages on this system');
  let pages: number;
  try {
    pages = Number(needed().trim());
  } catch (err) {
    return notUsed(`the server could not tell how many it needs: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!Number.isInteger(pages) || pages <= 0) return notUsed('the server could not tell how many it needs');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(meminfo)?.[1] ?? 0);
  // Free pages that another process has reserved but not touched yet are not free to take.
  const free = field('HugePages_Free') - field('HugePages_Rsvd');
  const shortfall = pages - free;
  const size = /Hugepagesize:\s+(\d+ \w+)/.exec(meminfo)?.[1] ?? 'unknown size';
  if (shortfall <= 0) return { pages, reason: `${pages} of ${size}, free already`, release: () => undefined };
  const before = Number(readFileSync(nrHugePagesFile, 'utf8').trim());
  try {
    writeFileSync(nrHugePagesFile, String(before + shortfall));
  } catch (err) {
    return notUsed(`${pages} needed, ${free} free, and vm.nr_hugepages cannot be raised by this user: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // The kernel reserves what contiguous memory it finds: fewer than asked when memory is fragmented.
  const now = Number(readFileSync(nrHugePagesFile, 'utf8').trim());
  const release = () => {
    try {
      writeFileSync(nrHugePagesFile, String(before));
    } catch {
      // Left reserved: the next run finds them free.
    }
  };
  if (now - before < shortfall) {
    release();
    return notUsed(`${pages} needed, the kernel could reserve ${now - before + Math.max(free, 0)}`);
  }
  return { pages, reason: `${pages} of ${size}, ${shortfall} of them reserved for this run`, release };
}
