/**
 * The client against small gRPC servers on a unix socket in a temp dir: one that answers every call OK with
 * garbage (it must not pass for containerd), one that serves CRI's RuntimeService/Status, one that never answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import { ExitCode } from '../../errors/index.js';
import { ContainerdClient } from './client.js';
import { DESCRIPTOR } from './descriptor.generated.js';
import { ContainerdUnreachableError, DeadlineExceededError, UnimplementedError } from './errors.js';

const root = protobuf.Root.fromJSON(DESCRIPTOR);
type Reply = (request: Buffer) => Buffer | undefined;

let dir: string;
const servers: grpc.Server[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kd-client-test-'));
});
after(async () => {
  for (const s of servers) s.forceShutdown();
  await rm(dir, { recursive: true, force: true });
});

/** A server answering the given method paths with raw bytes (undefined: never answer). */
async function serve(name: string, methods: Record<string, Reply>): Promise<string> {
  const server = new grpc.Server();
  for (const [path, reply] of Object.entries(methods)) {
    server.register(
      path,
      (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const bytes = reply(call.request);
        if (bytes !== undefined) callback(null, bytes);
      },
      (b: Buffer) => b,
      (b: Buffer) => b,
      'unary',
    );
  }
  const socket = join(dir, `${name}.sock`);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) =>
      e ? reject(e) : resolve(),
    ),
  );
  servers.push(server);
  return socket;
}

const VERSION = '/containerd.services.version.v1.Version/Version';
const STATUS = '/runtime.v1.RuntimeService/Status';

describe('ContainerdClient.connect', () => {
  for (const [what, bytes] of [
    ['an empty answer', Buffer.alloc(0)],
    ['only unknown fields', Buffer.from([0x4a, 0x03, 0x61, 0x62, 0x63])],
    ['a version that is not one', Buffer.from([0x0a, 0x07, ...Buffer.from('garbage')])],
  ] as const) {
    it(`refuses a server that answers Version OK with ${what} (exit 2)`, async () => {
      const socket = await serve(what.replaceAll(' ', '-'), { [VERSION]: () => bytes });
      await assert.rejects(ContainerdClient.connect({ socket }), (error: unknown) => {
        assert.ok(error instanceof ContainerdUnreachableError, String(error));
        assert.equal(error.exitCode, ExitCode.usage);
        assert.match(error.message, /something answers there, but not as containerd/);
        return true;
      });
    });
  }

  it('accepts a real version answer', async () => {
    const encoded = root.lookupType('containerd.services.version.v1.VersionResponse');
    const socket = await serve('version', {
      [VERSION]: () => Buffer.from(encoded.encode({ version: 'v2.1.9', revision: 'abc' }).finish()),
    });
    const client = await ContainerdClient.connect({ socket });
    assert.deepEqual(await client.version(), { version: 'v2.1.9', revision: 'abc' });
    client.close();
  });
});

describe('client.cri.status', () => {
  it('asks verbosely and names the handlers from runtime_handlers and the loaded config', async () => {
    const request = root.lookupType('runtime.v1.StatusRequest');
    const response = root.lookupType('runtime.v1.StatusResponse');
    let verbose: unknown;
    const socket = await serve('cri', {
      [STATUS]: (bytes) => {
        verbose = request.toObject(request.decode(bytes))['verbose'];
        return Buffer.from(
          response
            .encode(
              response.fromObject({
                status: { conditions: [{ type: 'RuntimeReady', status: true }] },
                info: { config: JSON.stringify({ containerd: { runtimes: { runc: {}, 'kata-qemu': {} } } }) },
                runtime_handlers: [{ name: 'kata-clh' }, { name: '' }, { name: 'runc' }],
              }),
            )
            .finish(),
        );
      },
    });
    const client = ContainerdClient.open({ socket });
    const status = await client.cri.status();
    client.close();
    assert.equal(verbose, true);
    assert.deepEqual(status.handlers, ['kata-clh', 'kata-qemu', 'runc']);
    assert.deepEqual(status.conditions, [{ type: 'RuntimeReady', status: true, reason: '', message: '' }]);
  });

  it('keeps the handler list when the info blob is not JSON', async () => {
    const response = root.lookupType('runtime.v1.StatusResponse');
    const socket = await serve('cri-bad-info', {
      [STATUS]: () =>
        Buffer.from(
          response
            .encode(response.fromObject({ info: { config: '{not json' }, runtime_handlers: [{ name: 'x' }] }))
            .finish(),
        ),
    });
    const client = ContainerdClient.open({ socket });
    assert.deepEqual((await client.cri.status()).handlers, ['x']);
    client.close();
  });

  it('is UnimplementedError where no CRI plugin serves', async () => {
    const socket = await serve('no-cri', { [VERSION]: () => Buffer.alloc(0) });
    const client = ContainerdClient.open({ socket });
    await assert.rejects(client.cri.status(), UnimplementedError);
    client.close();
  });

  it('has a deadline', async () => {
    const socket = await serve('silent', { [STATUS]: () => undefined });
    const client = ContainerdClient.open({ socket });
    const started = Date.now();
    await assert.rejects(client.cri.status({ timeoutMs: 300 }), (error: unknown) => {
      assert.ok(error instanceof DeadlineExceededError);
      assert.match(error.message, /cri\.Status on .*silent\.sock: no answer before the deadline/);
      return true;
    });
    assert.ok(Date.now() - started < 3000);
    client.close();
  });
});
