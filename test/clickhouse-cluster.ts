/**
 * A real two-node ClickHouse cluster on localhost for tests: two `clickhouse-server` processes
 * (Debian's package), each with its own ports and data folder, both knowing a cluster `vitrine`
 * of two shards. `query(node, sql, body?)` talks to a node's HTTP interface.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLICKHOUSE_SERVER = '/usr/sbin/clickhouse-server';
export const hasClickHouse = () => existsSync(CLICKHOUSE_SERVER);

export interface Cluster {
  http: number[];
  query(node: number, sql: string, body?: string): Promise<string>;
  stop(): Promise<void>;
}

const config = (dir: string, n: number, ports: { http: number; tcp: number; inter: number }, tcps: number[]) => `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog><console>0</console></logger>
  <http_port>${ports.http}</http_port>
  <tcp_port>${ports.tcp}</tcp_port>
  <interserver_http_port>${ports.inter}</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>104857600</mark_cache_size>
  <uncompressed_cache_size>104857600</uncompressed_cache_size>
  <max_concurrent_queries>20</max_concurrent_queries>
  <display_name>vitrine-test-${n}</display_name>
  <remote_servers>
    <vitrine>
${tcps.map((p) => `      <shard><replica><host>127.0.0.1</host><port>${p}</port></replica></shard>`).join('\n')}
    </vitrine>
  </remote_servers>
</yandex>
`;

const USERS = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`;

/** Starts two servers on ports from `base` (http base+n, tcp base+10+n, interserver base+20+n) and waits for both. */
export async function startCluster(base = 20_000 + 30 * Math.floor(Math.random() * 1000)): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), 'vitrine-clickhouse-'));
  const nodes = [0, 1].map((n) => ({ http: base + n, tcp: base + 10 + n, inter: base + 20 + n }));
  const procs: ChildProcess[] = [];
  const logs: string[] = ['', ''];
  nodes.forEach((ports, n) => {
    const dir = join(root, `node${n}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.xml'), config(dir, n, ports, nodes.map((p) => p.tcp)));
    writeFileSync(join(dir, 'users.xml'), USERS);
    const p = spawn(CLICKHOUSE_SERVER, [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d) => (logs[n] += String(d)));
    p.stderr!.on('data', (d) => (logs[n] += String(d)));
    procs.push(p);
  });
  const query = async (node: number, sql: string, body?: string): Promise<string> => {
    const url = `http://127.0.0.1:${nodes[node]!.http}/?query=${encodeURIComponent(sql)}`;
    const r = await fetch(url, { method: 'POST', body: body ?? '' });
    const text = await r.text();
    if (!r.ok) throw new Error(`ClickHouse node ${node}: ${text.trim()}`);
    return text;
  };
  const stop = async () => {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.exitCode !== null ? undefined : new Promise((r) => p.once('exit', r)))));
    rmSync(root, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (const n of [0, 1]) {
    for (;;) {
      const up = await fetch(`http://127.0.0.1:${nodes[n]!.http}/ping`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > deadline || procs[n]!.exitCode !== null) {
        await stop();
        throw new Error(`clickhouse-server node ${n} did not start:\n${logs[n]}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { http: nodes.map((p) => p.http), query, stop };
}
