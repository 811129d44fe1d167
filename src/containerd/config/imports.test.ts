import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { importCovers, matchSegment, resolveImports } from './imports.js';

describe("containerd's imports", () => {
  it('matches file names with Go filepath.Match semantics', () => {
    assert.ok(matchSegment('*.toml', 'kata-deploy.toml'));
    assert.ok(!matchSegment('*.toml', 'kata-deploy.toml.bak'));
    assert.ok(matchSegment('?0-*.toml', '10-root.toml'));
    assert.ok(matchSegment('[a-c]*.toml', 'b.toml'));
    assert.ok(!matchSegment('[^a-c]*.toml', 'b.toml'));
    assert.ok(matchSegment('\\*.toml', '*.toml'));
    assert.ok(!matchSegment('\\*.toml', 'a.toml'));
    assert.ok(!matchSegment('*', 'a/b'), 'a star never crosses a separator');
  });

  it('a reversed range matches nothing and an unclosed class is no match, never an error', () => {
    assert.equal(matchSegment('[z-a].toml', 'm.toml'), false);
    assert.equal(matchSegment('[a-.toml', 'a.toml'), false);
    assert.equal(
      importCovers('/etc/containerd/config.toml', 'conf.d/[z-a]*.toml', '/etc/containerd/conf.d/k.toml'),
      false,
    );
  });

  it('globs only entries with a star, as containerd does; other entries are paths', () => {
    assert.ok(
      importCovers('/etc/containerd/config.toml', 'conf.d/[z-a].toml', '/etc/containerd/conf.d/[z-a].toml'),
    );
    assert.ok(
      importCovers(
        '/etc/containerd/config.toml',
        '/etc/containerd/conf.d/*.toml',
        '/etc/containerd/conf.d/kata-deploy.toml',
      ),
    );
    assert.ok(
      !importCovers(
        '/etc/containerd/config.toml',
        '/etc/containerd/conf.d/*.toml',
        '/etc/containerd/other/kata-deploy.toml',
      ),
    );
  });

  it('resolves globs in file names and relative paths against the importer', async () => {
    const listed: string[] = [];
    const list = async (dir: string) => {
      listed.push(dir);
      return dir === '/etc/containerd/conf.d' ? ['b.toml', 'a.toml', 'a.toml.bak', 'notes.txt'] : [];
    };
    assert.deepEqual(
      await resolveImports(
        '/etc/containerd/config.toml',
        ['/etc/containerd/conf.d/*.toml', 'extra.toml', '/missing/*.toml', '/odd/*/x.toml'],
        list,
      ),
      ['/etc/containerd/conf.d/a.toml', '/etc/containerd/conf.d/b.toml', '/etc/containerd/extra.toml'],
    );
    assert.deepEqual(listed, ['/etc/containerd/conf.d', '/missing']);
  });

  it('property: any pattern and name are judged without throwing; a literal pattern matches only itself', () => {
    const chars = fc.constantFrom('a', 'b', 'z', '-', '[', ']', '^', '*', '?', '\\', '.', '/');
    fc.assert(
      fc.property(
        fc.string({ unit: chars, maxLength: 12 }),
        fc.string({ unit: chars, maxLength: 12 }),
        (p, n) => {
          matchSegment(p, n);
          if (!/[*?[\\]/.test(p)) assert.equal(matchSegment(p, n), p === n && !n.includes('/'));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
