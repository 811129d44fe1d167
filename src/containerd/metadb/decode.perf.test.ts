/**
 * Scale check: 20,000 snapshot records (2,000 images of 10 layers), laid out as containerd does, with one
 * page-rooted bucket per record (a record with a labels or children bucket is never inline). The file is
 * about 80 MiB. The bound is loose (a cold, unoptimised first run); the figures are printed for the record.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';

import { parseBolt } from './bolt.js';
import { decodeMetaDb } from './decode.js';
import { writeBolt } from './testing/bolt-writer.js';
import { layerChain, metaDbTree, type FixtureSnapshot } from './testing/fixture.js';

const RECORDS = 20_000;
const BOUND_MS = 2_000;

it(`decodes ${RECORDS} snapshot records quickly`, (t) => {
  const snapshots: FixtureSnapshot[] = [];
  for (let image = 0; image < RECORDS / 10; image++) {
    snapshots.push(...layerChain(image.toString(16).padStart(6, '0').padEnd(58, 'e'), 10, image * 10));
  }
  const file = writeBolt(
    metaDbTree({ namespaces: { 'k8s.io': { snapshotters: { nydus: { snapshots } } } } }),
  ).bytes;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const view = decodeMetaDb(parseBolt(file, 'big.db'));
  const cpu = process.cpuUsage(cpuBefore);
  const elapsed = performance.now() - started;
  // CPU time, not wall time, is held to the bound: other test runs share the machine's two cores.
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const nydus = view.namespaces[0]!.snapshotters.get('nydus')!;
  t.diagnostic(
    `${RECORDS} records, ${(file.byteLength / 2 ** 20).toFixed(0)} MiB: parse + decode ${elapsed.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU`,
  );
  assert.equal(nydus.snapshots.size, RECORDS);
  const last = snapshots[snapshots.length - 1]!;
  assert.equal(nydus.snapshots.get(last.key)?.parent, snapshots[snapshots.length - 2]!.key);
  assert.ok(cpuMs < BOUND_MS, `took ${cpuMs.toFixed(0)} ms of CPU`);
});
