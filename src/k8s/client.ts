/**
 * The Kubernetes API through @kubernetes/client-node: in-cluster (the service-account token, re-read by the
 * client every minute because the kubelet rotates it, and the cluster CA; KUBERNETES_SERVICE_HOST/PORT) or a
 * kubeconfig. Every call carries a deadline (an AbortSignal on the request) and its failure is mapped to the
 * errors of `errors.ts`, naming the verb and resource. Loaded only by the DaemonSet mode's worker.
 */
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  Observable,
  type ConfigurationOptions,
  type RequestContext,
  type ResponseContext,
  type V1DaemonSet,
  type V1Node,
} from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { UsageError } from '../errors/index.js';
import { API_ACCESS } from './access.js';
import type { KubeApi } from './api.js';
import { KubeApiError, KubeDeniedError, type ApiCall, type ApiFailure } from './errors.js';
import type { LabelPatch } from './labels.js';
import type { DaemonSetView, NodeView, Taint } from './types.js';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const MERGE_PATCH = 'application/merge-patch+json';

export interface ConnectOptions {
  /** `--kubeconfig`, else `KUBECONFIG`; undefined: in-cluster. */
  readonly kubeconfig: string | undefined;
  /** The environment (KUBERNETES_SERVICE_HOST/PORT). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Prepended to the service-account paths (tests: a directory standing for the pod's root). */
  readonly serviceAccountPrefix?: string;
  /** POD_NAMESPACE, when set. */
  readonly namespace: string | undefined;
  readonly callTimeoutMs: number;
}

export function connectKubeApi(options: ConnectOptions): KubeApi {
  const kc = new KubeConfig();
  let namespace = options.namespace;
  if (options.kubeconfig !== undefined) {
    try {
      kc.loadFromFile(options.kubeconfig);
    } catch (error) {
      throw new UsageError(
        `--kubeconfig ${options.kubeconfig} cannot be loaded: ${error instanceof Error ? error.message : String(error)}`,
        { input: '--kubeconfig', hint: 'name a readable kubeconfig file' },
      );
    }
    namespace ??= kc.getContextObject(kc.getCurrentContext())?.namespace;
  } else {
    const host = options.env['KUBERNETES_SERVICE_HOST'];
    const port = options.env['KUBERNETES_SERVICE_PORT'];
    const prefix = options.serviceAccountPrefix ?? '';
    if (!host || !port) {
      throw new UsageError('kata-deploy install --daemonset found no Kubernetes API to talk to', {
        input: 'KUBERNETES_SERVICE_HOST',
        hint: 'run it in a pod (KUBERNETES_SERVICE_HOST/PORT and the service account are set there) or pass --kubeconfig',
      });
    }
    for (const file of ['token', 'ca.crt']) {
      if (!existsSync(`${prefix}${SERVICE_ACCOUNT_DIR}/${file}`)) {
        throw new UsageError(`the pod's service account has no ${file} at ${prefix}${SERVICE_ACCOUNT_DIR}`, {
          input: 'serviceAccount',
          hint: 'mount the service-account token (automountServiceAccountToken: true) or pass --kubeconfig',
        });
      }
    }
    // As client-node's loadFromCluster, from the environment given here: a token file provider, which the
    // client reads again every minute (a bound token is rotated by the kubelet), and the cluster CA.
    const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
    kc.loadFromClusterAndUser(
      { name: 'in-cluster', server, caFile: `${prefix}${SERVICE_ACCOUNT_DIR}/ca.crt`, skipTLSVerify: false },
      {
        name: 'service-account',
        authProvider: { name: 'tokenFile', config: { tokenFile: `${prefix}${SERVICE_ACCOUNT_DIR}/token` } },
      },
    );
    const nsFile = `${prefix}${SERVICE_ACCOUNT_DIR}/namespace`;
    if (namespace === undefined && existsSync(nsFile)) namespace = readFileSync(nsFile, 'utf8').trim();
  }
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  return new ClientNodeApi(kc, server, namespace, options.callTimeoutMs);
}

class ClientNodeApi implements KubeApi {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;

  constructor(
    kc: KubeConfig,
    readonly server: string,
    readonly namespace: string | undefined,
    private readonly timeoutMs: number,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
  }

  async readNode(name: string): Promise<NodeView> {
    const call = apiCall('readNode', name);
    return nodeView(await this.call(call, (o) => this.core.readNode({ name }, o)));
  }

  async patchNodeLabels(name: string, labels: LabelPatch, resourceVersion?: string): Promise<NodeView> {
    const call = apiCall('patchNodeLabels', name);
    const body = { metadata: { labels, ...(resourceVersion === undefined ? {} : { resourceVersion }) } };
    return nodeView(await this.call(call, (o) => this.core.patchNode({ name, body }, o), MERGE_PATCH));
  }

  async replaceNodeTaints(
    name: string,
    taints: readonly Taint[],
    resourceVersion: string,
  ): Promise<NodeView> {
    const call = apiCall('replaceNodeTaints', name);
    const body = { metadata: { resourceVersion }, spec: { taints } };
    return nodeView(await this.call(call, (o) => this.core.patchNode({ name, body }, o), MERGE_PATCH));
  }

  async readDaemonSet(namespace: string, name: string): Promise<DaemonSetView | undefined> {
    const call = apiCall('readDaemonSet', name, namespace);
    try {
      return daemonSetView(
        await this.call(call, (o) => this.apps.readNamespacedDaemonSet({ name, namespace }, o)),
      );
    } catch (error) {
      if (error instanceof KubeApiError && error.notFound) return undefined;
      throw error;
    }
  }

  /** One request with a deadline; its failure mapped to kata-deploy's errors. */
  private async call<T>(
    call: ApiCall,
    send: (options: ConfigurationOptions) => Promise<T>,
    contentType?: string,
  ): Promise<T> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const middleware = {
      pre: (c: RequestContext) => {
        c.setSignal(signal);
        if (contentType !== undefined) c.setHeaderParam('Content-Type', contentType);
        return new Observable(Promise.resolve(c));
      },
      post: (r: ResponseContext) => new Observable(Promise.resolve(r)),
    };
    try {
      return await send({ middleware: [middleware], middlewareMergeStrategy: 'append' });
    } catch (error) {
      const failure = toFailure(error, signal, this.timeoutMs);
      if (failure.status === 401 || failure.status === 403) throw new KubeDeniedError(call, failure);
      throw new KubeApiError(call, failure);
    }
  }
}

/** A call as errors name it, its verb and resource from the RBAC table. */
function apiCall(method: keyof typeof API_ACCESS, name: string, namespace?: string): ApiCall {
  const { verb, resource } = API_ACCESS[method];
  return { verb, resource, name, ...(namespace === undefined ? {} : { namespace }) };
}

/** client-node's ApiException (an answer), node-fetch's FetchError or AbortError (none). */
export function toFailure(error: unknown, signal: AbortSignal, timeoutMs: number): ApiFailure {
  const e = error as {
    code?: unknown;
    body?: unknown;
    headers?: Record<string, string>;
    message?: string;
    name?: string;
  };
  if (typeof e.code === 'number') {
    const status = statusObject(e.body);
    const retryAfter = Number(e.headers?.['retry-after']);
    return {
      status: e.code,
      reason: status?.reason ?? 'Unknown',
      message: status?.message ?? `HTTP ${e.code}`,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    };
  }
  if (signal.aborted || e.name === 'AbortError')
    return { status: undefined, reason: 'Timeout', message: `no answer within ${timeoutMs} ms` };
  const code = typeof e.code === 'string' ? e.code : 'Error';
  return { status: undefined, reason: code, message: e.message ?? String(error) };
}

function statusObject(body: unknown): { reason?: string; message?: string } | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body) as unknown;
    } catch {
      return body === '' ? undefined : { message: body.slice(0, 500) };
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { reason?: unknown; message?: unknown };
  return {
    ...(typeof v.reason === 'string' ? { reason: v.reason } : {}),
    ...(typeof v.message === 'string' ? { message: v.message } : {}),
  };
}

function time(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString().replace(/\.000Z$/, 'Z');
  return typeof value === 'string' ? value : undefined;
}

export function nodeView(node: V1Node): NodeView {
  const conditions = node.status?.conditions ?? [];
  const handlers = (node.status as { runtimeHandlers?: { name?: string }[] } | undefined)?.runtimeHandlers;
  return {
    name: node.metadata?.name ?? '',
    resourceVersion: node.metadata?.resourceVersion ?? '',
    labels: { ...(node.metadata?.labels ?? {}) },
    taints: (node.spec?.taints ?? []).map((t) => {
      const added = time(t.timeAdded);
      return {
        key: t.key,
        effect: t.effect,
        ...(t.value === undefined ? {} : { value: t.value }),
        ...(added === undefined ? {} : { timeAdded: added }),
      };
    }),
    ready: conditions.find((c) => c.type === 'Ready')?.status,
    runtimeHandlers: handlers === undefined ? undefined : handlers.map((h) => h.name ?? ''),
  };
}

export function daemonSetView(ds: V1DaemonSet): DaemonSetView {
  const pod = ds.spec?.template.spec;
  const terms =
    pod?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return {
    name: ds.metadata?.name ?? '',
    namespace: ds.metadata?.namespace ?? '',
    uid: ds.metadata?.uid ?? '',
    deletionTimestamp: time(ds.metadata?.deletionTimestamp),
    nodeSelector: { ...(pod?.nodeSelector ?? {}) },
    requiredTerms: terms,
  };
}
