import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eventually, keepClusterFiles, repoRoot, request, requireTool } from '@kv/testkit';
import { LocalKube, PROBE_KINDS, type KubeSecrets } from './support/kube-local';
import { containers, parseObjects, renderKustomization } from './support/kube-manifests';

/**
 * deploy/kubernetes, exercised without a cluster: every pod of the rendered base runs as a local process of the bundle
 * its image copies, with the environment and arguments its manifest gives it (Service and pod DNS names and ports
 * mapped onto loopback ports, volumes onto directories, the Secret onto test values). Manifests that drifted from the
 * apps (an unknown variable, a port the app does not listen on, a probe path it does not serve, a DNS name that
 * resolves to nothing, a secret key the documented Secret lacks) fail here, where `kubectl kustomize` would accept
 * them. Needs kubectl to render the manifests: skipped without it, a failure under CI=true.
 */

const NAMESPACE = 'kv-test';
/** Stands in for the Secret of docs/kubernetes.md: `kubectl create secret generic kv-tokens --from-literal=...`. */
const SECRETS: KubeSecrets = { 'kv-tokens': { 'cluster-token': 'test-cluster-token-0123456789', 'auth-token': 'test-auth-token-0123456789' } };
const AUTH = { authorization: `Bearer ${SECRETS['kv-tokens']['auth-token']}` };
const DATA_NODES = ['kv-node-0', 'kv-node-1', 'kv-node-2'];

const hasKubectl = requireTool('kubectl', 'kubectl', 'Kubernetes manifests run as local processes');
const withKubectl = hasKubectl ? describe : describe.skip;

let kube: LocalKube | undefined;

afterAll(async () => {
  if (kube === undefined) return;
  await kube.down();
  if (!keepClusterFiles()) rmSync(kube.dir, { recursive: true, force: true });
});

/** The arguments of the Job that deploy/kubernetes/cluster-change.sh creates for `args` (its --render output). */
function changeArguments(...args: string[]): readonly string[] {
  const yaml = execFileSync('bash', [path.join(repoRoot(), 'deploy/kubernetes/cluster-change.sh'), '--render', ...args], { encoding: 'utf8', timeout: 60_000 });
  const jobs = parseObjects(yaml).filter((object) => object.kind === 'Job');
  expect(jobs.map((job) => job.metadata.name)).toEqual([expect.stringMatching(new RegExp(`^kv-cluster-${args[0]}-\\d{14}$`))]);
  return containers(jobs[0])[0].args ?? [];
}

/** The pods of the proxies' Deployment. */
function proxies(): string[] {
  return (kube as LocalKube).podsOf('Deployment', 'kv-proxy').map((pod) => pod.name);
}

withKubectl('deploy/kubernetes, run as local processes', () => {
  beforeAll(async () => {
    const objects = [...renderKustomization('base'), ...renderKustomization('jobs')];
    kube = await LocalKube.plan(objects, mkdtempSync(path.join(os.tmpdir(), 'kv-kube-')), NAMESPACE, SECRETS);
  });

  test('the manifests fit their images and apps (variables, ports, DNS names, volumes, secrets, probes)', () => {
    expect(kube?.problems).toEqual([]);
  });

  test('three data node pods and two proxy pods run, each data node under its pod name', () => {
    const k = kube as LocalKube;
    expect(k.podsOf('StatefulSet', 'kv-node').map((pod) => `${pod.name}:${pod.app}:${pod.containerEnv.NODE_ID}`)).toEqual(
      DATA_NODES.map((name) => `${name}:datanode:${name}`),
    );
    expect(proxies().map((name) => k.pod(name).app)).toEqual(['proxy', 'proxy']);
  });

  describe('started', () => {
    beforeAll(async () => {
      await (kube as LocalKube).up();
    }, 90_000);

    test('every probe answers 200 on the path its manifest names', async () => {
      const k = kube as LocalKube;
      for (const pod of [...k.pods.values()].filter((p) => p.server)) {
        for (const kind of PROBE_KINDS) {
          const result = await k.probe(pod.name, kind);
          if (result !== undefined) expect({ pod: pod.name, kind, status: result.status }).toEqual({ pod: pod.name, kind, status: 200 });
        }
      }
    });

    test('a key set through each proxy is read back through every proxy and through the Service kv', async () => {
      const k = kube as LocalKube;
      const service = `http://127.0.0.1:${k.servicePort('kv', 'http')}`;
      for (const writer of proxies()) {
        const key = `written-through-${writer}`;
        const put = await request(k.podUrl(writer, 'http'), 'PUT', `/kv/${key}`, { value: writer }, { 'content-type': 'application/json', ...AUTH });
        expect(put).toMatchObject({ status: 200, body: { key, acks: 2 } });
        for (const reader of [...proxies().map((name) => k.podUrl(name, 'http')), service]) {
          expect(await request(reader, 'GET', `/kv/${key}`, undefined, AUTH)).toMatchObject({ status: 200, body: { value: writer } });
        }
      }
    });

    test('the proxies need the AUTH_TOKEN of the Secret', async () => {
      const k = kube as LocalKube;
      expect((await request(k.podUrl(proxies()[0], 'http'), 'GET', '/kv/written-through-x')).status).toBe(401);
    });

    test('the Service kv answers the Redis protocol on its resp port', async () => {
      const port = (kube as LocalKube).servicePort('kv', 'resp');
      const token = SECRETS['kv-tokens']['auth-token'];
      const key = `written-through-${proxies()[0]}`;
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () =>
          socket.write(`*2\r\n$4\r\nAUTH\r\n$${token.length}\r\n${token}\r\n*2\r\n$3\r\nGET\r\n$${key.length}\r\n${key}\r\n`),
        );
        let received = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          received += chunk;
          if (received.endsWith(`${proxies()[0]}\r\n`)) {
            socket.destroy();
            resolve(received);
          }
        });
        socket.once('error', reject);
        socket.setTimeout(5000, () => socket.destroy(new Error(`no answer; got ${JSON.stringify(received)}`)));
      });
      expect(answer).toBe(`+OK\r\n$${proxies()[0].length}\r\n${proxies()[0]}\r\n`);
    });

    test('every proxy sees the three data nodes up, by their pod names', async () => {
      const k = kube as LocalKube;
      for (const proxy of proxies()) {
        const cluster = await request(k.podUrl(proxy, 'http'), 'GET', '/cluster');
        expect(cluster.body.nodes.map((node: { id: string; status: string }) => `${node.id}:${node.status}`)).toEqual(DATA_NODES.map((id) => `${id}:up`));
      }
    });

    test('the data nodes refuse internal requests without the CLUSTER_TOKEN of the Secret', async () => {
      const url = (kube as LocalKube).podUrl('kv-node-0', 'http');
      expect((await request(url, 'GET', '/internal/kv/x')).status).toBe(401);
      const authorized = await request(url, 'GET', '/internal/kv/x', undefined, { authorization: `Bearer ${SECRETS['kv-tokens']['cluster-token']}` });
      expect([200, 404]).toContain(authorized.status);
    });

    test('the membership Job as cluster-change.sh makes it: status, then a fourth pod joins (add 3) and leaves (remove 3)', async () => {
      const k = kube as LocalKube;
      expect((await k.run('kv-cluster-change')).code).toBe(0); // the Job as written: `cluster status`
      const status = await k.run('kv-cluster-change', changeArguments('status'));
      expect(status).toMatchObject({ code: 0 });
      for (const node of DATA_NODES) expect(status.stdout).toMatch(new RegExp(`${node}\\s+\\S+\\s+active\\s+up`));

      await k.scaleUp('kv-node');
      const add = await k.run('kv-cluster-change', changeArguments('add', '3'));
      expect({ code: add.code, stderr: add.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/done at epoch \d+\n$/) });
      const members = async (): Promise<string[]> =>
        (await request(k.podUrl(proxies()[0], 'http'), 'GET', '/cluster')).body.nodes.map((node: { id: string }) => node.id);
      await eventually(async () => (await members()).includes('kv-node-3'));
      expect(await members()).toEqual([...DATA_NODES, 'kv-node-3']);
      expect(await request(k.podUrl(proxies()[1], 'http'), 'GET', `/kv/written-through-${proxies()[0]}`, undefined, AUTH)).toMatchObject({ status: 200 });

      // Scale-down starts with the map: the node leaves it, and only then may its pod go.
      const remove = await k.run('kv-cluster-change', changeArguments('remove', '3'));
      expect({ code: remove.code, stderr: remove.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/done at epoch \d+\n$/) });
      expect(await members()).toEqual(DATA_NODES);
    });

    test('SIGTERM stops every server cleanly (exit 0)', async () => {
      const codes = await (kube as LocalKube).down();
      expect([...codes.values()].every((code) => code === 0)).toBe(true);
      expect([...codes.keys()].sort()).toEqual([...DATA_NODES, 'kv-node-3', ...proxies()].sort());
    });
  });
});
