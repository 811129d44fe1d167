/**
 * The wire side of the test API server (KubeApiDouble): how a request maps to a verb and resource, the Status
 * objects failures come back as, and the discovery documents kubectl reads first.
 */
import type { IncomingMessage } from 'node:http';
import {
  jsonPatch,
  JsonPatchInvalid,
  JsonPatchTestFailed,
  mergePatch,
  type Json,
  type JsonPatchOp,
} from './patch.js';

export type Obj = { [k: string]: Json };
export type Verb = 'get' | 'list' | 'patch' | 'update';
export type Resource = 'nodes' | 'daemonsets';

export type Send = (status: number, obj: unknown, headers?: Record<string, string>) => void;

export interface Route {
  readonly verb: Verb;
  readonly resource: Resource;
  readonly name: string | undefined;
  readonly namespace: string | undefined;
}

export function routeOf(method: string, path: string): Route | undefined {
  const verbOf = (named: boolean): Verb | undefined =>
    method === 'GET'
      ? named
        ? 'get'
        : 'list'
      : method === 'PATCH' && named
        ? 'patch'
        : method === 'PUT' && named
          ? 'update'
          : undefined;
  let m = /^\/api\/v1\/nodes(?:\/([^/]+))?$/.exec(path);
  if (m) {
    const verb = verbOf(m[1] !== undefined);
    return verb === undefined ? undefined : { verb, resource: 'nodes', name: m[1], namespace: undefined };
  }
  m = /^\/apis\/apps\/v1\/(?:namespaces\/([^/]+)\/)?daemonsets(?:\/([^/]+))?$/.exec(path);
  if (m) {
    const verb = verbOf(m[2] !== undefined);
    return verb === undefined ? undefined : { verb, resource: 'daemonsets', name: m[2], namespace: m[1] };
  }
  return undefined;
}

export function status(code: number, reason: string, message: string, route?: Route): Obj {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(route?.name === undefined
      ? {}
      : {
          details: {
            name: route.name,
            kind: route.resource,
            ...(route.resource === 'daemonsets' ? { group: 'apps' } : {}),
          },
        }),
    code,
  };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Legacy discovery (/api, /apis, resource lists) and /version: what kubectl reads before any call. */
export function discovery(path: string, port: number, send: Send): void {
  const v1Resources = [
    {
      name: 'nodes',
      singularName: 'node',
      namespaced: false,
      kind: 'Node',
      verbs: ['get', 'list', 'patch', 'update'],
      shortNames: ['no'],
    },
  ];
  const appsResources = [
    {
      name: 'daemonsets',
      singularName: 'daemonset',
      namespaced: true,
      kind: 'DaemonSet',
      verbs: ['get', 'list'],
      shortNames: ['ds'],
      categories: ['all'],
    },
  ];
  switch (path) {
    case '/api':
      return send(200, {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }],
      });
    case '/apis':
      return send(200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [
          {
            name: 'apps',
            versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
            preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
          },
        ],
      });
    case '/api/v1':
      return send(200, { kind: 'APIResourceList', groupVersion: 'v1', resources: v1Resources });
    case '/apis/apps/v1':
      return send(200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: 'apps/v1',
        resources: appsResources,
      });
    case '/version':
      return send(200, {
        major: '1',
        minor: '32',
        gitVersion: 'v1.32.0-kata-deploy-test-double',
        platform: 'linux/amd64',
      });
    default:
      return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
  }
}

/**
 * A node as a PATCH or PUT would leave it, or the apiserver's refusal: an unknown patch type (415), a body
 * that is not JSON (400), a failed JSON-patch test (422), a stale `metadata.resourceVersion` (409 Conflict),
 * another name (400). The caller stores it with a new resourceVersion.
 */
export function writtenNode(
  node: Obj,
  route: Route,
  contentType: string,
  body: string,
): { node: Obj } | { error: [number, Obj] } {
  const type = contentType.split(';')[0]!.trim();
  const fail = (code: number, reason: string, message: string) => ({
    error: [code, status(code, reason, message, route)] as [number, Obj],
  });
  let parsed: Json;
  try {
    parsed = JSON.parse(body) as Json;
  } catch {
    return fail(400, 'BadRequest', 'the body is not JSON');
  }
  let patched: Json;
  try {
    if (route.verb === 'update') patched = parsed;
    else if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json')
      patched = mergePatch(node, parsed);
    else if (type === 'application/json-patch+json')
      patched = jsonPatch(node, parsed as unknown as JsonPatchOp[]);
    else
      return fail(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (this double has no ${type})`,
      );
  } catch (error) {
    if (error instanceof JsonPatchTestFailed || error instanceof JsonPatchInvalid)
      return fail(422, 'Invalid', error.message);
    throw error;
  }
  const out = patched as Obj;
  const meta = (out['metadata'] ?? {}) as Obj;
  const current = (node['metadata'] as Obj)['resourceVersion'];
  if (meta['resourceVersion'] !== undefined && meta['resourceVersion'] !== current)
    return fail(
      409,
      'Conflict',
      `Operation cannot be fulfilled on nodes "${route.name}": the object has been modified; please apply your changes to the latest version and try again`,
    );
  if (meta['name'] !== route.name)
    return fail(400, 'BadRequest', 'the name of the object does not match the name on the URL');
  return { node: { ...out, metadata: meta } };
}
