/**
 * KubeApiDouble: a TEST DOUBLE of kube-apiserver (no real one can run on these machines), serving just what
 * kata-deploy and kubectl need, the way the real one does: HTTPS under its own CA, bearer tokens (401 without a
 * known one), per-user verb/resource denials (403 with the apiserver's wording), legacy discovery (/api, /apis,
 * resource lists), nodes get/list/patch (merge, strategic-as-merge, JSON patch), daemonsets get/list, a
 * cluster-wide resourceVersion bumped on every write and honoured as a precondition (409 Conflict), and failures
 * and slow answers injected by the test. It records every request and every change of the kata labels (the
 * label timeline the integration tests quote).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import {
  discovery,
  readBody,
  routeOf,
  status,
  writtenNode,
  type Obj,
  type Resource,
  type Route,
  type Send,
  type Verb,
} from './api-protocol.js';
import { makeTestCa, type TestCa } from './certs.js';

export type { Obj, Resource, Verb } from './api-protocol.js';

export interface Injection {
  readonly verb?: Verb;
  readonly resource?: Resource;
  /** Answer with this status (a Status object, as the apiserver would); omitted: answer normally, after the delay. */
  readonly code?: 403 | 409 | 429 | 500 | 503;
  /** Wait this long before answering (longer than the client's deadline: a timeout). */
  readonly delayMs?: number;
  /** How many matching requests it applies to (default 1). */
  times?: number;
  /** `Retry-After` seconds to send with 429/503. */
  readonly retryAfter?: number;
}

export interface RecordedRequest {
  readonly t: number;
  readonly user: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly verb: Verb | undefined;
  readonly resource: Resource | undefined;
  readonly contentType: string | undefined;
  readonly status: number;
}

export interface LabelEvent {
  readonly t: number;
  readonly node: string;
  /** The kata-deploy labels after the change (`katacontainers.io/*`, `kata-deploy.katacontainers.io/*`). */
  readonly labels: Readonly<Record<string, string>>;
  readonly by: string;
}

export class KubeApiDouble {
  readonly ca: TestCa;
  readonly requests: RecordedRequest[] = [];
  readonly timeline: LabelEvent[] = [];
  private readonly dir: string;
  private readonly server: Server;
  private readonly nodes = new Map<string, Obj>();
  private readonly daemonSets = new Map<string, Obj>();
  private readonly tokens = new Map<string, string>();
  private readonly denied: { user: string | undefined; verb: Verb; resource: Resource }[] = [];
  private readonly injections: Injection[] = [];
  private readonly onWrite: ((node: string, obj: Obj) => void)[] = [];
  private version = 1000;
  private readonly started = Date.now();
  port = 0;

  private constructor(dir: string) {
    this.dir = dir;
    this.ca = makeTestCa(dir);
    this.server = createServer({ key: this.ca.keyPem, cert: this.ca.certPem }, (req, res) => {
      void this.handle(req, res);
    });
  }

  /** Starts on a free port of 127.0.0.1; certificates live in a temp dir of its own, removed by stop(). */
  static async start(): Promise<KubeApiDouble> {
    const api = new KubeApiDouble(mkdtempSync('/tmp/kd-kubeapi-'));
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    const address = api.server.address();
    api.port = typeof address === 'object' && address !== null ? address.port : 0;
    return api;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** A bearer token for `user` (`system:serviceaccount:<ns>:<name>` for a pod). */
  addToken(token: string, user: string): void {
    this.tokens.set(token, user);
  }

  removeToken(token: string): void {
    this.tokens.delete(token);
  }

  /** RBAC: `user` (every user when undefined) may not `verb` `resource`. */
  deny(verb: Verb, resource: Resource, user?: string): void {
    this.denied.push({ user, verb, resource });
  }

  allowAll(): void {
    this.denied.length = 0;
  }

  inject(injection: Injection): void {
    this.injections.push({ ...injection, times: injection.times ?? 1 });
  }

  /** Called after every write to a node (the kubelet double uses it to drop labels once). */
  watchWrites(fn: (node: string, obj: Obj) => void): void {
    this.onWrite.push(fn);
  }

  addNode(name: string, labels: Record<string, string> = {}, taints: Obj[] = []): void {
    const node: Obj = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        uid: `uid-node-${name}`,
        resourceVersion: this.bump(),
        creationTimestamp: '2026-12-01T00:00:00Z',
        labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...labels },
      },
      spec: taints.length > 0 ? { taints } : {},
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
    };
    this.nodes.set(name, node);
    this.record(name, node, 'test');
  }

  node(name: string): Obj | undefined {
    const n = this.nodes.get(name);
    return n === undefined ? undefined : (JSON.parse(JSON.stringify(n)) as Obj);
  }

  labels(name: string): Record<string, string> {
    return {
      ...((this.nodes.get(name)?.['metadata'] as Obj | undefined)?.['labels'] as Record<string, string>),
    };
  }

  /** A change made by someone else (the kubelet, another controller): bumps the resourceVersion. */
  mutateNode(name: string, change: (node: Obj) => void, by = 'kubelet'): void {
    const node = this.nodes.get(name);
    if (node === undefined) throw new Error(`no node ${name}`);
    change(node);
    (node['metadata'] as Obj)['resourceVersion'] = this.bump();
    this.record(name, node, by);
  }

  addDaemonSet(namespace: string, name: string, podSpec: Obj = {}): void {
    this.daemonSets.set(`${namespace}/${name}`, {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: {
        name,
        namespace,
        uid: `uid-ds-${namespace}-${name}`,
        resourceVersion: this.bump(),
        generation: 1,
      },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'kata-deploy', image: 'kata-deploy' }], ...podSpec },
        },
      },
    });
  }

  deleteDaemonSet(namespace: string, name: string): void {
    this.daemonSets.delete(`${namespace}/${name}`);
  }

  private bump(): string {
    return String(++this.version);
  }

  private record(name: string, node: Obj, by: string): void {
    const all = ((node['metadata'] as Obj)['labels'] ?? {}) as Record<string, string>;
    const labels = Object.fromEntries(
      Object.entries(all)
        .filter(([k]) => k.startsWith('katacontainers.io/') || k.startsWith('kata-deploy.katacontainers.io/'))
        .sort(([a], [b]) => a.localeCompare(b)),
    );
    const last = [...this.timeline].reverse().find((e) => e.node === name);
    if (last !== undefined && JSON.stringify(last.labels) === JSON.stringify(labels)) return;
    this.timeline.push({ t: Date.now() - this.started, node: name, labels, by });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const body = await readBody(req);
    const auth = req.headers['authorization'];
    const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    const user = token === undefined ? undefined : this.tokens.get(token);
    const route = routeOf(req.method ?? 'GET', url.pathname);
    const send = (status: number, obj: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({
        t: Date.now() - this.started,
        user,
        method: req.method ?? 'GET',
        path: url.pathname,
        verb: route?.verb,
        resource: route?.resource,
        contentType: req.headers['content-type'],
        status,
      });
      const text = JSON.stringify(obj);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        ...headers,
      });
      res.end(text);
    };
    if (user === undefined) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    if (route === undefined) return discovery(url.pathname, this.port, send);

    const injection = this.injections.find(
      (i) =>
        (i.times ?? 0) > 0 &&
        (i.verb === undefined || i.verb === route.verb) &&
        (i.resource === undefined || i.resource === route.resource),
    );
    if (injection !== undefined) {
      injection.times = (injection.times ?? 1) - 1;
      if (injection.delayMs !== undefined) await new Promise((r) => setTimeout(r, injection.delayMs));
      if (res.destroyed) return;
      if (injection.code !== undefined) {
        const reason = {
          403: 'Forbidden',
          409: 'Conflict',
          429: 'TooManyRequests',
          500: 'InternalError',
          503: 'ServiceUnavailable',
        }[injection.code];
        const headers: Record<string, string> =
          injection.retryAfter === undefined ? {} : { 'retry-after': String(injection.retryAfter) };
        return send(
          injection.code,
          status(
            injection.code,
            reason,
            `injected ${injection.code} for ${route.verb} ${route.resource}`,
            route,
          ),
          headers,
        );
      }
    }
    if (
      this.denied.some(
        (d) =>
          (d.user === undefined || d.user === user) && d.verb === route.verb && d.resource === route.resource,
      )
    ) {
      const scope =
        route.namespace === undefined ? 'at the cluster scope' : `in the namespace "${route.namespace}"`;
      const group = route.resource === 'daemonsets' ? 'apps' : '';
      const what = route.name === undefined ? route.resource : `${route.resource} "${route.name}"`;
      return send(
        403,
        status(
          403,
          'Forbidden',
          `${what} is forbidden: User "${user}" cannot ${route.verb} resource "${route.resource}" in API group "${group}" ${scope}`,
          route,
        ),
      );
    }
    if (route.resource === 'nodes') return this.nodesCall(route, req, body, send);
    return this.daemonSetsCall(route, send);
  }

  private nodesCall(route: Route, req: IncomingMessage, body: string, send: Send): void {
    if (route.verb === 'list')
      return send(200, {
        apiVersion: 'v1',
        kind: 'NodeList',
        metadata: { resourceVersion: String(this.version) },
        items: [...this.nodes.values()],
      });
    const node = this.nodes.get(route.name!);
    if (node === undefined)
      return send(404, status(404, 'NotFound', `nodes "${route.name}" not found`, route));
    if (route.verb === 'get') return send(200, node);
    const written = writtenNode(node, route, req.headers['content-type'] ?? '', body);
    if ('error' in written) return send(written.error[0], written.error[1]);
    const meta = written.node['metadata'] as Obj;
    meta['resourceVersion'] = this.bump();
    const stored = written.node;
    this.nodes.set(route.name!, stored);
    this.record(route.name!, stored, 'api');
    for (const fn of this.onWrite) fn(route.name!, stored);
    send(200, this.nodes.get(route.name!));
  }

  private daemonSetsCall(route: Route, send: Send): void {
    if (route.verb === 'list') {
      const items = [...this.daemonSets.values()].filter(
        (d) => route.namespace === undefined || (d['metadata'] as Obj)['namespace'] === route.namespace,
      );
      return send(200, {
        apiVersion: 'apps/v1',
        kind: 'DaemonSetList',
        metadata: { resourceVersion: String(this.version) },
        items,
      });
    }
    const ds = this.daemonSets.get(`${route.namespace}/${route.name}`);
    if (ds === undefined)
      return send(404, status(404, 'NotFound', `daemonsets.apps "${route.name}" not found`, route));
    if (route.verb !== 'get')
      return send(405, status(405, 'MethodNotAllowed', 'this double serves daemonsets read-only', route));
    send(200, ds);
  }

  /** A kubeconfig for this server and token (for kubectl and --kubeconfig), written into `dir`. */
  writeKubeconfig(dir: string, token: string): string {
    const file = join(dir, 'kubeconfig');
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'double',
            cluster: {
              server: this.url,
              'certificate-authority-data': Buffer.from(this.ca.caPem).toString('base64'),
            },
          },
        ],
        users: [{ name: 'u', user: { token } }],
        contexts: [{ name: 'c', context: { cluster: 'double', user: 'u', namespace: 'kube-system' } }],
        'current-context': 'c',
      }),
    );
    return file;
  }

  /** The pod's service-account files under `prefix` (token, ca.crt, namespace), as the kubelet mounts them. */
  writeServiceAccount(prefix: string, token: string, namespace: string): void {
    const dir = join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'token'), token);
    writeFileSync(join(dir, 'ca.crt'), this.ca.caPem);
    writeFileSync(join(dir, 'namespace'), namespace);
  }
}
