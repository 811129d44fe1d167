import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { descriptorModule } from './proto-source.js';

test('descriptor.generated.ts is compiled from the current proto/ files (else run `npm run proto`)', () => {
  const committed = readFileSync(new URL('./descriptor.generated.ts', import.meta.url), 'utf8');
  assert.equal(committed, descriptorModule());
});
