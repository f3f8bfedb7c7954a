import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHUTDOWN_DEADLINE_MARGIN_MS, SHUTDOWN_GRACE_MS_DEFAULT } from '@kv/service';
import { repoRoot, requireTool } from '@kv/testkit';
import { loadCompose } from './support/compose-file';
import { appSettings } from './support/local-app';
import {
  containerPort,
  containers,
  findObject,
  memoryBytes,
  podTemplate,
  renderKustomization,
  selects,
  workloads,
  type KubeObject,
} from './support/kube-manifests';

/**
 * What the rendered objects of deploy/kubernetes promise, asserted on the objects themselves (both the base and the
 * production overlay): disruption budgets that keep W data nodes, probes on the apps' health paths, tokens only from
 * a Secret, locked-down containers, data nodes on different machines, a grace period longer than the servers' own
 * stop deadline, network policies and Services that select the pods they mean. Needs kubectl to render them: skipped
 * without it, a failure under CI=true. That the apps run with these objects: kubernetes-local.spec.ts.
 */

const hasKubectl = requireTool('kubectl', 'kubectl', 'Kubernetes manifests rendered');
const withKubectl = hasKubectl ? describe : describe.skip;

/** N and W of the apps (the proxy's defaults, which the manifests leave as they are). */
function quorum(): { n: number; w: number } {
  const defaults = appSettings('proxy').defaults;
  return { n: Number(defaults.get('REPLICAS')), w: Number(defaults.get('WRITE_QUORUM')) };
}

const TOKEN_VARIABLES = ['CLUSTER_TOKEN', 'AUTH_TOKEN', 'KV_TOKEN'];

withKubectl.each(['base', 'production'] as const)('deploy/kubernetes (%s), rendered', (which) => {
  let objects: KubeObject[];
  let nodes: KubeObject;
  let proxies: KubeObject;

  beforeAll(() => {
    objects = renderKustomization(which);
    nodes = findObject(objects, 'StatefulSet', 'kv-node');
    proxies = findObject(objects, 'Deployment', 'kv-proxy');
  });

  test('data nodes: a StatefulSet of N pods behind the headless Service kv-nodes, each with its own volume as DATA_DIR', () => {
    expect(nodes.spec.replicas).toBe(quorum().n);
    expect(nodes.spec.serviceName).toBe('kv-nodes');
    const headless = findObject(objects, 'Service', 'kv-nodes');
    expect(headless.spec.clusterIP).toBe('None');
    const [container] = containers(nodes);
    const dataDir = container.env?.find((v) => v.name === 'DATA_DIR')?.value;
    const mount = container.volumeMounts?.find((m) => m.mountPath === dataDir);
    expect(nodes.spec.volumeClaimTemplates.map((claim: KubeObject) => claim.metadata.name)).toEqual([mount?.name]);
    expect(container.env?.find((v) => v.name === 'NODE_ID')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
  });

  test('proxies: a Deployment of 2 behind the Service kv (HTTP 8000, RESP 6379), NODES naming every data node pod', () => {
    expect(proxies.spec.replicas).toBe(2);
    const service = findObject(objects, 'Service', 'kv');
    expect(service.spec.ports.map((p: { name: string; port: number }) => `${p.name}:${p.port}`)).toEqual(['http:8000', 'resp:6379']);
    const [container] = containers(proxies);
    const env = Object.fromEntries((container.env ?? []).filter((v) => v.value !== undefined).map((v) => [v.name, v.value]));
    expect(env.RESP_PORT).toBe('6379');
    const ids = (env.NODES ?? '').split(',').map((entry) => entry.split('=')[0]);
    expect(ids).toEqual(Array.from({ length: nodes.spec.replicas }, (_, i) => `kv-node-${i}`));
    // A proxy's DATA_DIR is on a volume of the pod (it outlives a container restart), not on the read-only root.
    const mount = container.volumeMounts?.find((m) => m.mountPath === env.DATA_DIR);
    expect(podTemplate(proxies).spec.volumes.find((v: { name: string }) => v.name === mount?.name)).toMatchObject({ emptyDir: expect.any(Object) });
  });

  test('disruption budgets: at most N - W data nodes and never every proxy down voluntarily', () => {
    const { n, w } = quorum();
    const nodeBudget = objects.find((o) => o.kind === 'PodDisruptionBudget' && selects(o.spec.selector.matchLabels, podTemplate(nodes).metadata.labels));
    expect(nodeBudget?.spec).toMatchObject({ maxUnavailable: n - w });
    expect(n - w).toBe(1);
    const proxyBudget = objects.find((o) => o.kind === 'PodDisruptionBudget' && selects(o.spec.selector.matchLabels, podTemplate(proxies).metadata.labels));
    expect(proxyBudget?.spec).toMatchObject({ minAvailable: 1 });
    expect(proxyBudget?.spec.minAvailable).toBeLessThan(proxies.spec.replicas);
  });

  test('probes: liveness on /health; readiness on /health/ready for proxies and /health for data nodes; on declared ports', () => {
    const expected = new Map([
      [nodes, { liveness: '/health', readiness: '/health' }],
      [proxies, { liveness: '/health', readiness: '/health/ready' }],
    ]);
    for (const [workload, paths] of expected) {
      const [container] = containers(workload);
      expect({
        workload: workload.metadata.name,
        liveness: container.livenessProbe?.httpGet?.path,
        readiness: container.readinessProbe?.httpGet?.path,
      }).toEqual({ workload: workload.metadata.name, ...paths });
      for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
        if (probe?.httpGet !== undefined) expect(containerPort(container, probe.httpGet.port)).toBeDefined();
      }
    }
  });

  test('no secret values: every token comes from a Secret by secretKeyRef, and no Secret is in the manifests', () => {
    expect(objects.filter((o) => o.kind === 'Secret' || o.kind === 'ConfigMap')).toEqual([]);
    for (const workload of [...workloads(objects), ...workloads(renderKustomization('jobs'))]) {
      for (const container of containers(workload)) {
        for (const variable of container.env ?? []) {
          if (!TOKEN_VARIABLES.includes(variable.name)) continue;
          expect({ variable: variable.name, value: variable.value, ref: variable.valueFrom?.secretKeyRef?.name }).toEqual({
            variable: variable.name,
            value: undefined,
            ref: 'kv-tokens',
          });
        }
      }
    }
  });

  test('containers: non-root (the image user, by uid), read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    for (const workload of [...workloads(objects), ...workloads(renderKustomization('jobs'))]) {
      const pod = podTemplate(workload).spec;
      expect({ workload: workload.metadata.name, pod: pod.securityContext }).toEqual({
        workload: workload.metadata.name,
        pod: expect.objectContaining({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } }),
      });
      for (const container of containers(workload)) {
        expect({ container: container.name, security: container.securityContext }).toEqual({
          container: container.name,
          security: expect.objectContaining({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }),
        });
        // /tmp is writable where the root is not.
        expect(container.volumeMounts?.some((m) => m.mountPath === '/tmp')).toBe(true);
      }
    }
    // uid 1000 is the image's USER node (node:*-alpine images).
    const dockerfile = readFileSync(path.join(repoRoot(), 'docker/datanode.Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  test('each grace period exceeds preStop + the servers\' stop deadline (libs/service/src/shutdown.ts)', () => {
    const deadlineMs = SHUTDOWN_GRACE_MS_DEFAULT + SHUTDOWN_DEADLINE_MARGIN_MS;
    for (const workload of [nodes, proxies]) {
      const preStopMs = (containers(workload)[0].lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
      const graceMs = podTemplate(workload).spec.terminationGracePeriodSeconds * 1000;
      expect({ workload: workload.metadata.name, exceeds: graceMs > preStopMs + deadlineMs }).toEqual({ workload: workload.metadata.name, exceeds: true });
      // ... and not by much more than a margin: a stuck pod is killed soon.
      expect(graceMs).toBeLessThanOrEqual(preStopMs + deadlineMs + 10_000);
    }
  });

  test('data nodes on different machines (podAntiAffinity on the hostname); proxies spread', () => {
    const antiAffinity = podTemplate(nodes).spec.affinity.podAntiAffinity;
    const terms =
      which === 'production'
        ? antiAffinity.requiredDuringSchedulingIgnoredDuringExecution
        : antiAffinity.preferredDuringSchedulingIgnoredDuringExecution.map((t: { podAffinityTerm: unknown }) => t.podAffinityTerm);
    expect(terms).toHaveLength(1);
    expect(terms[0].topologyKey).toBe('kubernetes.io/hostname');
    expect(selects(terms[0].labelSelector.matchLabels, podTemplate(nodes).metadata.labels)).toBe(true);
    if (which === 'production') expect(antiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    const [spread] = podTemplate(proxies).spec.topologySpreadConstraints;
    expect(spread.topologyKey).toBe('kubernetes.io/hostname');
    expect(selects(spread.labelSelector.matchLabels, podTemplate(proxies).metadata.labels)).toBe(true);
  });

  test('network policies: data nodes take traffic from the proxies only, on their port; proxies on HTTP and RESP', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const nodeLabels = podTemplate(nodes).metadata.labels;
    const proxyLabels = podTemplate(proxies).metadata.labels;
    const nodePolicy = policies.find((p) => selects(p.spec.podSelector.matchLabels, nodeLabels));
    const proxyPolicy = policies.find((p) => selects(p.spec.podSelector.matchLabels, proxyLabels));
    expect(nodePolicy?.spec.policyTypes).toEqual(['Ingress']);
    expect(nodePolicy?.spec.ingress).toHaveLength(1);
    const [rule] = nodePolicy?.spec.ingress ?? [];
    expect(rule.from).toHaveLength(1);
    expect(selects(rule.from[0].podSelector.matchLabels, proxyLabels)).toBe(true);
    expect(selects(rule.from[0].podSelector.matchLabels, nodeLabels)).toBe(false);
    const [nodeContainer] = containers(nodes);
    expect(rule.ports.map((p: { port: string | number }) => containerPort(nodeContainer, p.port))).toEqual([8001]);
    const [proxyContainer] = containers(proxies);
    expect(proxyPolicy?.spec.ingress[0].from).toBeUndefined();
    expect(proxyPolicy?.spec.ingress[0].ports.map((p: { port: string | number }) => containerPort(proxyContainer, p.port))).toEqual([8000, 6379]);
  });

  test('Services select existing pods and target ports their containers declare', () => {
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      const backends = workloads(objects).filter((w) => selects(service.spec.selector, podTemplate(w).metadata.labels));
      expect({ service: service.metadata.name, backends: backends.length }).toEqual({ service: service.metadata.name, backends: 1 });
      for (const port of service.spec.ports) {
        const target = containerPort(containers(backends[0])[0], port.targetPort ?? port.port);
        expect({ service: service.metadata.name, port: port.name, target: target !== undefined }).toEqual({ service: service.metadata.name, port: port.name, target: true });
      }
    }
    for (const workload of workloads(objects)) expect(selects(workload.spec.selector.matchLabels, podTemplate(workload).metadata.labels)).toBe(true);
  });

  test('resources: every container requests CPU and memory and limits memory, the limit at least the request', () => {
    for (const workload of workloads(objects)) {
      for (const container of containers(workload)) {
        const { requests, limits } = container.resources ?? {};
        expect({ container: container.name, cpu: requests?.cpu !== undefined }).toEqual({ container: container.name, cpu: true });
        expect(memoryBytes(limits?.memory ?? '0')).toBeGreaterThanOrEqual(memoryBytes(requests?.memory ?? 'x'));
      }
    }
  });

  test('images: the three images of docker-compose.yml; production pins them to the version of package.json', () => {
    const composeImages = new Set(
      [...loadCompose(path.join(repoRoot(), 'docker-compose.yml')).services.values()].map((s) => s.image?.replace(/:.*$/, '')).filter((i) => i !== undefined),
    );
    const version = (JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
    for (const workload of workloads(objects)) {
      const [image, tag] = containers(workload)[0].image.split(':');
      expect(composeImages.has(image)).toBe(true);
      expect({ image, tag }).toEqual({ image, tag: which === 'production' ? version : 'latest' });
    }
  });
});

withKubectl('deploy/kubernetes (production), compared with the base', () => {
  test('production sets more memory and larger volumes than the base', () => {
    const base = renderKustomization('base');
    const production = renderKustomization('production');
    for (const [kind, name] of [
      ['StatefulSet', 'kv-node'],
      ['Deployment', 'kv-proxy'],
    ]) {
      const memory = (objects: KubeObject[]): number => memoryBytes(containers(findObject(objects, kind, name))[0].resources?.requests?.memory ?? '0');
      expect(memory(production)).toBeGreaterThan(memory(base));
    }
    const storage = (objects: KubeObject[]): number =>
      memoryBytes(findObject(objects, 'StatefulSet', 'kv-node').spec.volumeClaimTemplates[0].spec.resources.requests.storage);
    expect(storage(production)).toBeGreaterThan(storage(base));
  });
});
