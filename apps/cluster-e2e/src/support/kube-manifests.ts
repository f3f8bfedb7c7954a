import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '@kv/testkit';
import { parseAllDocuments } from 'yaml';

/**
 * The Kubernetes objects of deploy/kubernetes as `kubectl kustomize` renders them, read into plain objects, with the
 * few shapes the tests look into (pods' templates, containers, env, probes, selectors). A reader, not a validator: the
 * schemas are checked by scripts/check-kubernetes.sh.
 */

/** A rendered object; only the fields the tests read are typed. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string>; readonly namespace?: string };
  readonly spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly data?: Record<string, string>;
  readonly stringData?: Record<string, string>;
}

/** An entry of a container's `env:`. */
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly fieldRef?: { readonly fieldPath: string };
    readonly secretKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean };
    readonly configMapKeyRef?: { readonly name: string; readonly key: string };
  };
}

/** An HTTP probe. */
export interface HttpProbe {
  readonly httpGet?: { readonly path: string; readonly port: number | string };
  readonly periodSeconds?: number;
  readonly failureThreshold?: number;
}

/** A container of a pod template. */
export interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number; readonly protocol?: string }[];
  readonly livenessProbe?: HttpProbe;
  readonly readinessProbe?: HttpProbe;
  readonly startupProbe?: HttpProbe;
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
  readonly resources?: { readonly requests?: Record<string, string>; readonly limits?: Record<string, string> };
  readonly securityContext?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly lifecycle?: { readonly preStop?: { readonly sleep?: { readonly seconds: number } } };
}

/** The kustomizations of deploy/kubernetes, by what the tests call them. */
export const KUSTOMIZATIONS = {
  base: 'deploy/kubernetes/base',
  production: 'deploy/kubernetes/overlays/production',
  jobs: 'deploy/kubernetes/jobs',
} as const;

/** Renders one kustomization with `kubectl kustomize` and reads its objects. @throws when kubectl fails. */
export function renderKustomization(which: keyof typeof KUSTOMIZATIONS): KubeObject[] {
  const yaml = execFileSync('kubectl', ['kustomize', path.join(repoRoot(), KUSTOMIZATIONS[which])], { encoding: 'utf8', timeout: 60_000 });
  return parseObjects(yaml);
}

/** The objects of a multi-document YAML text. */
export function parseObjects(yaml: string): KubeObject[] {
  return parseAllDocuments(yaml)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null && object !== undefined);
}

/** The object of `kind` named `name`. @throws when there is none. */
export function findObject(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

/** The kinds whose objects run pods, with the place of their pod template. */
const WORKLOAD_KINDS: ReadonlySet<string> = new Set(['StatefulSet', 'Deployment', 'Job', 'DaemonSet', 'ReplicaSet']);

/** Objects that run pods. */
export function workloads(objects: readonly KubeObject[]): KubeObject[] {
  return objects.filter((object) => WORKLOAD_KINDS.has(object.kind));
}

/** A pod template: its labels, and its spec as rendered. */
export interface PodTemplate {
  readonly metadata: { readonly labels: Record<string, string> };
  readonly spec: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A workload's pod template (`spec.template`). */
export function podTemplate(workload: KubeObject): PodTemplate {
  return workload.spec.template as PodTemplate;
}

/** A workload's containers. */
export function containers(workload: KubeObject): Container[] {
  return podTemplate(workload).spec.containers as Container[];
}

/** Whether `labels` satisfy a `matchLabels` (or a Service's plain selector). */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (selector === undefined || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** The container port a probe's or a Service's port names (a number, or a port's name). */
export function containerPort(container: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return container.ports?.some((p) => p.containerPort === port) === true ? port : undefined;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Kubernetes' memory quantity (`256Mi`, `1Gi`, `500M`) in bytes. @throws on a form it does not know. */
export function memoryBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity);
  if (match === null) throw new Error(`memory quantity ${quantity} not understood`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * unit;
}
