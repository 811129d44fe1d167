import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import {
  AlreadyExistsError,
  CancelledError,
  FailedPreconditionError,
  fromGrpcError,
  NotFoundError,
  UnavailableError,
  UnknownContainerdError,
} from './errors.js';

const grpc = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details });

test('gRPC codes map to classes and keep containerd message', () => {
  const e = fromGrpcError(
    grpc(status.NOT_FOUND, 'snapshot x does not exist: not found'),
    'snapshots.Stat',
    '/s',
  );
  assert.ok(e instanceof NotFoundError);
  assert.equal(e.message, 'snapshot x does not exist: not found');
  assert.equal(e.rpc, 'snapshots.Stat');
  assert.ok(fromGrpcError(grpc(status.ALREADY_EXISTS, 'x'), 'r', '/s') instanceof AlreadyExistsError);
  assert.ok(fromGrpcError(grpc(status.CANCELLED, 'x'), 'r', '/s') instanceof CancelledError);
});

test('errors containerd returns unconverted (code Unknown) are classified by their text', () => {
  const cases: [string, unknown][] = [
    ['failed to walk: connection refused: unavailable', UnavailableError],
    ['cannot remove snapshot with child: failed precondition', FailedPreconditionError],
    [
      'connection error: desc = "transport: Error while dialing: dial unix:///x.sock: timeout"',
      UnavailableError,
    ],
    ['something else entirely', UnknownContainerdError],
  ];
  for (const [message, cls] of cases) {
    assert.ok(
      fromGrpcError(grpc(status.UNKNOWN, message), 'r', '/s') instanceof
        (cls as typeof UnknownContainerdError),
      message,
    );
  }
});

test('a missed deadline names the RPC and the socket', () => {
  const e = fromGrpcError(
    grpc(status.DEADLINE_EXCEEDED, 'Deadline exceeded'),
    'snapshots.List',
    '/run/c.sock',
  );
  assert.match(e.message, /snapshots\.List on \/run\/c\.sock: no answer before the deadline/);
});
