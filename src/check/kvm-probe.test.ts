import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { kvmIoctls } from './arch.js';
import { errnoName, loadLibc, probeWith, type Libc } from './kvm-probe.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

function withFile<T>(body: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-probe-'));
  const file = join(dir, 'kvm');
  writeFileSync(file, '');
  try {
    return body(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A libc whose ioctl answers from a table of request → result (negative = errno). KVM_CREATE_VM succeeds
 * with a real descriptor (opened on `vmFile`), since the probe closes it.
 */
function fakeLibc(
  answers: Record<number, number | 'vm-fd'>,
  vmFile = '/dev/null',
  calls: number[][] = [],
): Libc {
  let errno = 0;
  return {
    ioctl: (_fd, request, arg) => {
      calls.push([request, arg]);
      const answer = answers[request] ?? -25;
      if (answer === 'vm-fd') return openSync(vmFile, 'r');
      if (answer < 0) {
        errno = -answer;
        return -1;
      }
      return answer;
    },
    errno: () => errno,
  };
}

test('KVM ioctl numbers: _IO(0xAE, n), with _IOC_NONE=1 in the top bits on powerpc', () => {
  assert.deepEqual(kvmIoctls('amd64'), { getApiVersion: 0xae00, createVm: 0xae01, checkExtension: 0xae03 });
  assert.deepEqual(kvmIoctls('s390x'), kvmIoctls('arm64'));
  assert.equal(kvmIoctls('ppc64le').createVm, 0x2000ae01);
  assert.equal(kvmIoctls('ppc64le').getApiVersion, 0x2000ae00);
});

test('probeWith: open failure, API version failure and mismatch, VM creation failure', () => {
  assert.deepEqual(probeWith(fakeLibc({}), '/nonexistent/kvm', 'amd64'), {
    kind: 'open-failed',
    errno: 'ENOENT',
  });
  withFile((file) => {
    assert.deepEqual(probeWith(fakeLibc({ 0xae00: -25 }), file, 'amd64'), {
      kind: 'api-version-failed',
      errno: 'ENOTTY',
    });
    assert.deepEqual(probeWith(fakeLibc({ 0xae00: 11 }), file, 'amd64'), {
      kind: 'api-version-mismatch',
      apiVersion: 11,
    });
    assert.deepEqual(probeWith(fakeLibc({ 0xae00: 12, 0xae01: -16 }), file, 'amd64'), {
      kind: 'create-vm-failed',
      apiVersion: 12,
      errno: 'EBUSY',
    });
  });
});

test('probeWith: success closes the VM fd and the device fd; arm64 also reads the IPA limit', () => {
  withFile((file) => {
    const before = openFds();
    const calls: number[][] = [];
    const ok = probeWith(fakeLibc({ 0xae00: 12, 0xae01: 'vm-fd', 0xae03: 44 }, file, calls), file, 'arm64');
    assert.deepEqual(ok, { kind: 'ok', apiVersion: 12, ipaLimitBits: 44 });
    assert.deepEqual(calls, [
      [0xae00, 0],
      [0xae01, 0],
      [0xae03, 165],
    ]);
    assert.equal(openFds(), before, 'no descriptor leaked');
    const amd = probeWith(fakeLibc({ 0xae00: 12, 0xae01: 'vm-fd' }, file), file, 'amd64');
    assert.deepEqual(amd, { kind: 'ok', apiVersion: 12 });
    assert.equal(openFds(), before);
  });
});

test('the real libc through koffi: ioctl on a regular file fails with ENOTTY and nothing leaks', async () => {
  const libc = await loadLibc();
  assert.notEqual(typeof libc, 'string', String(libc));
  if (typeof libc === 'string') return;
  withFile((file) => {
    const before = openFds();
    assert.deepEqual(probeWith(libc, file, 'amd64'), { kind: 'api-version-failed', errno: 'ENOTTY' });
    assert.equal(openFds(), before);
  });
});

test('loadLibc says why it cannot run off Linux', async () => {
  assert.match(String(await loadLibc('darwin')), /only on Linux/);
});

test('errnoName maps numbers to names', () => {
  assert.equal(errnoName(16), 'EBUSY');
  assert.equal(errnoName(99999), 'errno 99999');
});
