import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { keepClusterFiles, repoRoot, request } from '@kv/testkit';
import { parse as parseYaml } from 'yaml';
import { loadCompose } from './support/compose-file';
import { LocalCompose, appSettings, type LocalService } from './support/compose-local';

/**
 * docker-compose.yml and docker/*.Dockerfile, exercised without a Docker engine: every service runs as a local
 * process of the bundle its image copies, with the environment, entrypoint, command and healthchecks the compose file
 * gives it (host names and ports mapped onto loopback ports, volumes onto directories). A compose file that drifted
 * from the apps (an unknown variable, a port that does not match, a healthcheck path the app does not serve, a
 * command the app does not understand) fails here, where `docker-compose config` would accept it.
 */

const DATA_NODES = ['node1', 'node2', 'node3'];
const OCI_LABELS = ['title', 'description', 'source', 'licenses', 'version'].map((key) => `org.opencontainers.image.${key}`);

let compose: LocalCompose;

beforeAll(async () => {
  const project = loadCompose(path.join(repoRoot(), 'docker-compose.yml'));
  compose = await LocalCompose.plan(project, mkdtempSync(path.join(os.tmpdir(), 'kv-compose-')));
});

afterAll(async () => {
  if (compose === undefined) return;
  await compose.down();
  if (!keepClusterFiles()) rmSync(compose.dir, { recursive: true, force: true });
});

function upServices(): LocalService[] {
  return [...compose.services.values()].filter((service) => service.up);
}

describe('docker-compose.yml and the Dockerfiles, read', () => {
  test('the compose file fits its images and apps (variables, ports, host names, volumes, commands, healthchecks)', () => {
    expect(compose.problems).toEqual([]);
  });

  test('docker compose up runs the proxy and node1..node3; the CLI is under the "cli" profile', () => {
    const up = Object.fromEntries(upServices().map((service) => [service.name, service.app]));
    expect(up).toEqual({ proxy: 'proxy', node1: 'datanode', node2: 'datanode', node3: 'datanode' });
    const client = compose.service('client');
    expect(client.app).toBe('client');
    expect(client.compose.profiles).toEqual(['cli']);
  });

  test('profile "proxies" adds proxy2 (own volume, 8010 and 6380); profile "node4" adds node4 outside NODES', () => {
    const proxy2 = compose.service('proxy2');
    expect({ app: proxy2.app, profiles: proxy2.compose.profiles }).toEqual({ app: 'proxy', profiles: ['proxies'] });
    expect(proxy2.compose.ports).toEqual([
      expect.objectContaining({ published: 8010, target: proxy2.containerPort }),
      expect.objectContaining({ published: 6380, target: 6379 }),
    ]);
    expect(proxy2.containerEnv.NODES).toBe(compose.service('proxy').containerEnv.NODES);
    const node4 = compose.service('node4');
    expect({ app: node4.app, profiles: node4.compose.profiles, nodeId: node4.containerEnv.NODE_ID, port: node4.containerEnv.PORT }).toEqual({
      app: 'datanode',
      profiles: ['node4'],
      nodeId: 'node4',
      port: '8004',
    });
    expect(node4.compose.ports).toEqual([]);
    for (const proxy of ['proxy', 'proxy2']) expect(compose.service(proxy).containerEnv.NODES).not.toMatch(/node4/);
    const volumes = [proxy2, node4].map((service) => service.compose.volumes.find((mount) => mount.target === '/data')?.source);
    expect(volumes).toEqual(['proxy2-data', 'node4-data']);
    for (const volume of volumes) expect(compose.project.volumes.has(volume ?? '')).toBe(true);
  });

  /** A bind mount's source on the host: relative to the compose file's directory, as Compose resolves it. */
  const hostPath = (source: string | undefined): string => path.resolve(repoRoot(), source ?? '');

  test('profile "monitoring" adds Prometheus, scraping every proxy and data node on its port, and Grafana with the dashboard, on loopback', () => {
    const services = compose.project.services;
    const prometheus = services.get('prometheus');
    const grafana = services.get('grafana');
    for (const service of [prometheus, grafana]) {
      expect(service?.profiles).toEqual(['monitoring']);
      // Pinned images, published on loopback only by default, data on a named volume.
      expect(service?.image).toMatch(/^[a-z/]+:v?\d+\.\d+\.\d+$/);
      for (const port of service?.ports ?? []) expect(port.hostIp).toBe('127.0.0.1');
      expect(service?.volumes.some((mount) => mount.type === 'volume' && compose.project.volumes.has(mount.source ?? ''))).toBe(true);
      // Every file it mounts is in the repository.
      for (const mount of service?.volumes.filter((m) => m.type === 'bind') ?? []) expect(existsSync(hostPath(mount.source))).toBe(true);
    }
    expect(prometheus?.ports).toEqual([expect.objectContaining({ published: 9090, target: 9090 })]);
    expect(grafana?.ports).toEqual([expect.objectContaining({ published: 3000, target: 3000 })]);
    const configMount = prometheus?.volumes.find((mount) => mount.target === '/etc/prometheus/prometheus.yml');
    expect(prometheus?.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const config = parseYaml(readFileSync(hostPath(configMount?.source), 'utf8')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
    const targets = config.scrape_configs.flatMap((job) => job.static_configs.flatMap((entry) => entry.targets)).sort();
    // Each server of the compose file, proxies and data nodes, profiles included, at the port its PORT names.
    const servers = [...compose.services.values()].filter((service) => service.containerPort !== undefined);
    expect(targets).toEqual(servers.map((service) => `${service.name}:${service.containerPort}`).sort());
    // Grafana is provisioned with the data source and the dashboard the repository holds.
    expect(grafana?.volumes.map((mount) => mount.source && path.relative(repoRoot(), hostPath(mount.source)))).toEqual(
      expect.arrayContaining(['deploy/grafana/provisioning', 'deploy/grafana/kv.json']),
    );
  });

  test('only the proxy is published, on port 8000 by default, and RESP on 6379', () => {
    const proxy = compose.service('proxy');
    expect(proxy.respContainerPort).toBe(6379);
    expect(proxy.compose.ports).toEqual([
      expect.objectContaining({ published: 8000, target: proxy.containerPort }),
      expect.objectContaining({ published: 6379, target: 6379 }),
    ]);
    for (const node of DATA_NODES) expect(compose.service(node).compose.ports).toEqual([]);
  });

  test('the proxy starts after the data nodes are healthy, and names each by its NODE_ID', () => {
    const proxy = compose.service('proxy');
    for (const node of DATA_NODES) expect(proxy.compose.dependsOn.get(node)).toBe('service_healthy');
    const ids = (proxy.containerEnv.NODES ?? '').split(',').map((entry) => entry.split('=')[0]);
    expect(ids).toEqual(DATA_NODES.map((node) => compose.service(node).containerEnv.NODE_ID));
    expect(ids).toEqual(DATA_NODES);
  });

  test('every server restarts unless stopped and keeps its data on a named volume of its own', () => {
    for (const service of upServices()) {
      expect({ service: service.name, restart: service.compose.raw.restart }).toEqual({ service: service.name, restart: 'unless-stopped' });
      const dataDir = service.containerEnv.DATA_DIR;
      const mount = service.compose.volumes.find((m) => m.target === dataDir);
      expect({ service: service.name, mount }).toEqual({ service: service.name, mount: expect.objectContaining({ type: 'volume' }) });
      expect(compose.project.volumes.has(mount?.source ?? '')).toBe(true);
    }
  });

  test('the servers share one non-empty CLUSTER_TOKEN, from the env file', () => {
    const tokens = new Set(upServices().map((service) => service.containerEnv.CLUSTER_TOKEN));
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).toMatch(/^\S{16,}$/);
    for (const service of upServices()) expect(service.compose.environment.CLUSTER_TOKEN).toBeUndefined();
  });

  test('the images: one pinned Node 20 Alpine base, non-root, production, OCI labels, exec-form entry point', () => {
    const version = (JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
    const images = new Map([...compose.services.values()].map((service) => [service.image.file, service]));
    const bases = new Set([...images.values()].flatMap((service) => service.image.baseImages));
    expect(bases.size).toBe(1);
    expect([...bases][0]).toMatch(/^node:20\.\d+\.\d+-alpine[\d.]*$/);
    for (const { image, app } of images.values()) {
      expect({ app, user: image.user, nodeEnv: image.env.NODE_ENV, execForm: image.entrypointExecForm }).toEqual({
        app,
        user: 'node',
        nodeEnv: 'production',
        execForm: true,
      });
      for (const label of OCI_LABELS) expect({ app, label, set: label in image.labels }).toEqual({ app, label, set: true });
      expect({ app, version: image.labels['org.opencontainers.image.version'] }).toEqual({ app, version });
      // The runtime stage holds the bundle and the manifests of its production dependencies, nothing else (and the
      // proxy its status page, read from beside the bundle).
      const copied = image.copies.map((copy) => copy.split(' -> ')[0].replace(/^--from=\S+\s+/, ''));
      const files = ['main.js', 'main.js.map', 'package-lock.json', 'package.json', ...(app === 'proxy' ? ['ui/index.html'] : [])];
      expect(copied.sort()).toEqual(files.map((file) => `/workspace/dist/apps/${app}/${file}`));
      expect(image.runs.some((run) => /npm ci --omit=dev\b/.test(run))).toBe(true);
    }
  });

  test('the server images: data in a /data volume, the app port exposed, a HEALTHCHECK', () => {
    for (const service of upServices()) {
      const { image, app } = service;
      expect({ app, volumes: image.volumes, dataDir: image.env.DATA_DIR }).toEqual({ app, volumes: ['/data'], dataDir: '/data' });
      const port = Number(appSettings(app).defaults.get('PORT'));
      expect({ app, expose: image.expose, port: image.env.PORT }).toEqual({ app, expose: [port], port: String(port) });
      expect({ app, healthcheck: image.healthcheck?.test[0] }).toEqual({ app, healthcheck: 'CMD' });
    }
    expect(compose.service('client').image.env.KV_SERVER).toBe('http://proxy:8000');
  });
});

describe('docker-compose.yml, run as local processes', () => {
  beforeAll(async () => {
    await compose.up();
  }, 90_000);

  test('each server passes its compose healthcheck and its image HEALTHCHECK', async () => {
    for (const service of upServices()) {
      for (const kind of ['compose', 'image'] as const) {
        const result = await compose.healthcheck(service.name, kind);
        expect({ service: service.name, kind, code: result?.code }).toEqual({ service: service.name, kind, code: 0 });
      }
    }
  });

  test('keys written through the published port are read back', async () => {
    const proxy = compose.publishedUrl('proxy', 8000);
    const put = await request(proxy, 'PUT', '/kv/compose%20key', { value: 'from compose' }, { 'content-type': 'application/json' });
    expect(put).toMatchObject({ status: 200, body: { key: 'compose key', acks: 2 } });
    const get = await request(proxy, 'GET', '/kv/compose%20key');
    expect(get).toMatchObject({ status: 200, body: { key: 'compose key', value: 'from compose', version: put.body.version } });
  });

  test('the published RESP port answers the Redis protocol', async () => {
    const port = compose.publishedPort('proxy', 6379);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$11\r\ncompose key\r\n'));
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
        if (received.endsWith('from compose\r\n')) {
          socket.destroy();
          resolve(received);
        }
      });
      socket.once('error', reject);
      socket.setTimeout(5000, () => socket.destroy(new Error(`no answer; got ${JSON.stringify(received)}`)));
    });
    expect(answer).toBe('+PONG\r\n$12\r\nfrom compose\r\n');
  });

  test('the proxy sees every data node up, under the id each node reports', async () => {
    const cluster = await request(compose.publishedUrl('proxy', 8000), 'GET', '/cluster');
    expect(cluster.status).toBe(200);
    expect(cluster.body.nodes.map((node: { id: string; status: string }) => `${node.id}:${node.status}`)).toEqual(DATA_NODES.map((id) => `${id}:up`));
    for (const node of DATA_NODES) {
      const health = await request(compose.internalUrl(node), 'GET', '/health');
      expect(health.body).toMatchObject({ status: 'ok', nodeId: node });
    }
  });

  test('the data nodes refuse internal requests without the shared CLUSTER_TOKEN', async () => {
    const token = compose.service('node1').containerEnv.CLUSTER_TOKEN;
    const url = compose.internalUrl('node1');
    expect((await request(url, 'GET', '/internal/kv/compose%20key')).status).toBe(401);
    const authorized = await request(url, 'GET', '/internal/kv/compose%20key', undefined, { authorization: `Bearer ${token}` });
    expect([200, 404]).toContain(authorized.status);
  });

  test('the client service: docker compose run --rm client set / get', async () => {
    expect(await compose.run('client', ['set', 'from-client', 'v1'])).toMatchObject({ code: 0 });
    expect(await compose.run('client', ['get', 'from-client'])).toEqual({ code: 0, stdout: 'v1\n', stderr: '' });
    expect(await compose.run('client', ['get', 'compose key'])).toEqual({ code: 0, stdout: 'from compose\n', stderr: '' });
    const status = await compose.run('client', ['status']);
    expect(status.code).toBe(0);
    for (const node of DATA_NODES) expect(status.stdout).toMatch(new RegExp(`${node}\\s+\\S+\\s+up`));
    expect(await compose.run('client')).toMatchObject({ code: 0 }); // the image's default command (--help)
  });

  test('SIGTERM stops every server cleanly, proxy first (exit 0)', async () => {
    const codes = await compose.down();
    expect(Object.fromEntries(codes)).toEqual({ proxy: 0, node1: 0, node2: 0, node3: 0 });
  });
});
