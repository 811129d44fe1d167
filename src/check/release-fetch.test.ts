import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { fetchReleases, parseReleases } from './release-fetch.js';

let server: Server;
let base = '';
const routes: Record<string, (res: ServerResponse) => void> = {
  '/ok': (res) =>
    res.end(
      JSON.stringify([
        {
          tag_name: '3.20.0',
          prerelease: false,
          draft: false,
          html_url: 'https://x/3.20.0',
          published_at: '2025-08-15',
        },
        {
          tag_name: '3.21.0-rc0',
          prerelease: true,
          html_url: 'https://x/rc',
          published_at: null,
          created_at: '2025-09',
        },
      ]),
    ),
  '/limit': (res) => {
    res.statusCode = 403;
    res.end('{"message":"API rate limit exceeded for 10.0.0.1."}');
  },
  '/broken': (res) => {
    res.statusCode = 500;
    res.end('oops');
  },
  '/html': (res) => res.end('<html>'),
  '/hang': () => undefined,
};

before(async () => {
  server = createServer((req, res) => routes[req.url ?? '']?.(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test('fetchReleases reads the releases API', async () => {
  const result = await fetchReleases(`${base}/ok`, 2000);
  assert.deepEqual(result, {
    kind: 'ok',
    releases: [
      { tag: '3.20.0', prerelease: false, draft: false, url: 'https://x/3.20.0', date: '2025-08-15' },
      { tag: '3.21.0-rc0', prerelease: true, draft: false, url: 'https://x/rc', date: '2025-09' },
    ],
  });
});

test('fetchReleases: a rate limit, an HTTP error and a non-JSON body are reported, not thrown', async () => {
  assert.deepEqual(await fetchReleases(`${base}/limit`, 2000), { kind: 'rate-limited' });
  assert.deepEqual(await fetchReleases(`${base}/broken`, 2000), {
    kind: 'error',
    message: `${base}/broken answered HTTP 500`,
  });
  assert.equal((await fetchReleases(`${base}/html`, 2000)).kind, 'error');
});

test('fetchReleases gives up at the deadline', async () => {
  const started = Date.now();
  const result = await fetchReleases(`${base}/hang`, 200);
  assert.deepEqual(result, { kind: 'error', message: `no answer from ${base}/hang within 200 ms` });
  assert.ok(Date.now() - started < 2000);
});

test('fetchReleases names the reason a connection failed', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const result = await fetchReleases(`http://127.0.0.1:${port}/`, 2000);
  assert.equal(result.kind, 'error');
  assert.match(result.kind === 'error' ? result.message : '', /ECONNREFUSED/);
});

test('parseReleases rejects data that is not a list of releases', () => {
  assert.equal(typeof parseReleases({ message: 'Not Found' }), 'string');
  assert.equal(typeof parseReleases([{ name: 'x' }]), 'string');
});
