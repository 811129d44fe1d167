/**
 * Our .proto subset must agree with containerd's own files on every field number and type, or calls would
 * silently read the wrong fields. The upstream files come from Debian's golang-github-containerd-containerd-dev
 * (containerd 1.6.20), installed by scripts/provision.sh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_DIR } from './proto-source.js';

const UPSTREAM = '/usr/share/gocode/src/github.com/containerd/containerd/api';

/** Fields added after 1.6.20; their numbers were checked against the 1.7/2.x API by hand (reference §6). */
const NEWER_THAN_1_6 = new Set([
  'containerd.services.introspection.v1.ServerResponse.pid',
  'containerd.services.containers.v1.Container.sandbox',
  'containerd.services.introspection.v1.ServerResponse.pidns',
]);

function collectTypes(
  ns: protobuf.NamespaceBase,
  out = new Map<string, protobuf.Type>(),
): Map<string, protobuf.Type> {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) out.set(nested.fullName.replace(/^\./, ''), nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) collectTypes(nested, out);
  }
  return out;
}

function parseDir(dir: string, filter: (file: string) => boolean): Map<string, protobuf.Type> {
  const root = new protobuf.Root();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.proto') && filter(path)) {
        protobuf.parse(readFileSync(path, 'utf8'), root, { keepCase: true, alternateCommentMode: true });
      }
    }
  };
  walk(dir);
  return collectTypes(root);
}

const shortType = (t: string): string => t.split('.').pop() ?? t;

test(
  'our proto subset matches containerd 1.6.20 field numbers and types',
  { skip: !existsSync(UPSTREAM) && 'containerd Go sources not installed' },
  () => {
    const ours = parseDir(join(PROTO_DIR, 'containerd'), (p) => !p.endsWith('rpc.proto'));
    const upstream = parseDir(UPSTREAM, (p) => /\/(services|types)\//.test(p));
    let compared = 0;
    for (const [name, type] of ours) {
      const theirs = upstream.get(name);
      assert.ok(theirs, `message ${name} is not in containerd's API`);
      for (const field of type.fieldsArray) {
        const key = `${name}.${field.name}`;
        const other: protobuf.Field | undefined = theirs.fields[field.name];
        if (!other) {
          assert.ok(NEWER_THAN_1_6.has(key), `field ${key} is not in containerd 1.6.20`);
          continue;
        }
        assert.equal(field.id, other.id, `${key}: field number`);
        assert.equal(shortType(field.type), shortType(other.type), `${key}: type`);
        assert.equal(field.repeated, other.repeated, `${key}: repeated`);
        assert.equal(field.map, other.map, `${key}: map`);
        compared++;
      }
    }
    assert.ok(compared > 80, `only ${compared} fields compared`);
  },
);

/**
 * Kubernetes' CRI API (k8s.io/cri-api, pkg/apis/runtime/v1/api.proto) is not on the machine: the fields we use,
 * as upstream numbers them, are written down here. `[id, type, repeated | map]`.
 */
const CRI_UPSTREAM: Record<string, Record<string, [number, string, '' | 'repeated' | 'map']>> = {
  'runtime.v1.StatusRequest': { verbose: [1, 'bool', ''] },
  'runtime.v1.StatusResponse': {
    status: [1, 'RuntimeStatus', ''],
    info: [2, 'string', 'map'],
    runtime_handlers: [3, 'RuntimeHandler', 'repeated'],
  },
  'runtime.v1.RuntimeStatus': { conditions: [1, 'RuntimeCondition', 'repeated'] },
  'runtime.v1.RuntimeCondition': {
    type: [1, 'string', ''],
    status: [2, 'bool', ''],
    reason: [3, 'string', ''],
    message: [4, 'string', ''],
  },
  'runtime.v1.RuntimeHandler': { name: [1, 'string', ''] },
};

test('our CRI subset matches upstream cri-api field numbers and types, and has nothing else', () => {
  const ours = parseDir(join(PROTO_DIR, 'cri'), () => true);
  assert.deepEqual([...ours.keys()].sort(), Object.keys(CRI_UPSTREAM).sort());
  for (const [name, type] of ours) {
    const expected = CRI_UPSTREAM[name]!;
    assert.deepEqual(
      Object.fromEntries(
        type.fieldsArray.map((f) => [
          f.name,
          [f.id, shortType(f.type), f.map ? 'map' : f.repeated ? 'repeated' : ''],
        ]),
      ),
      expected,
      name,
    );
  }
});
