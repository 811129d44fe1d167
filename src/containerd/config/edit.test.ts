import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyEdit, revertEdit, undoEdit, type ConfigEdit } from './edit.js';
import { parseToml, getAt } from './toml.js';
import { HostError, UsageError } from '../../errors/index.js';
import type { ConfigLayout } from './layout.js';
import { fileRecordFor, planConfigCleanup, planConfigInstall } from './plan.js';

const RUNTIMES = ['plugins', 'io.containerd.grpc.v1.cri', 'containerd', 'runtimes'];
const IMPORT = '/opt/kata/containerd/config.d/kata-deploy.toml';
const kataEdit: ConfigEdit = {
  tables: [
    {
      path: [...RUNTIMES, 'kata-qemu'],
      body: {
        runtime_type: 'io.containerd.kata-qemu.v2',
        pod_annotations: ['io.katacontainers.*'],
        options: { ConfigPath: '/x' },
      },
    },
    { path: [...RUNTIMES, 'kata-clh'], body: { runtime_type: 'io.containerd.kata-clh.v2' } },
  ],
  values: [{ path: ['debug', 'level'], value: 'debug' }],
  arrayEntries: [{ path: ['imports'], entry: IMPORT }],
};

describe('applyEdit / revertEdit', () => {
  it('appends new tables as sections and undoes byte for byte', () => {
    const text = '# mine\nversion = 2\n\n[debug]\n  level = "info" # keep me\n';
    const { text: out, record } = applyEdit(text, kataEdit, 'c.toml');
    assert.match(out, /level = "debug" # keep me/);
    assert.match(out, /\n\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.kata-qemu\]\n/);
    assert.match(out, /imports = \[ "\/opt\/kata\/containerd\/config\.d\/kata-deploy\.toml" \]/);
    assert.equal(revertEdit(out, kataEdit, record, 'c.toml'), text);
  });

  it('keeps a value the user changed after install', () => {
    const text = 'version = 2\n[debug]\nlevel = "info"\n';
    const { text: out, record } = applyEdit(text, kataEdit, 'c.toml');
    const edited = out.replace('level = "debug"', 'level = "warn"');
    const reverted = revertEdit(edited, kataEdit, record, 'c.toml');
    assert.equal(getAt(parseToml(reverted, ''), ['debug', 'level']), 'warn');
    assert.equal(getAt(parseToml(reverted, ''), [...RUNTIMES, 'kata-qemu']), undefined);
  });

  it('replaces a same-named table and restores it', () => {
    const text = `version = 2\n[${RUNTIMES.map((k) => (k.includes('.') ? `"${k}"` : k)).join('.')}.kata-clh]\nruntime_type = "old"\n`;
    const { text: out, record } = applyEdit(text, kataEdit, 'c.toml');
    assert.equal(
      getAt(parseToml(out, ''), [...RUNTIMES, 'kata-clh', 'runtime_type']),
      'io.containerd.kata-clh.v2',
    );
    assert.equal(revertEdit(out, kataEdit, record, 'c.toml'), text);
  });

  it('falls back to an in-place patch when a section cannot be appended', () => {
    const text =
      'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\nruntimes = { runc = { runtime_type = "x" } }\n';
    const { text: out, record } = applyEdit(text, kataEdit, 'c.toml');
    assert.equal(getAt(parseToml(out, ''), [...RUNTIMES, 'kata-qemu', 'options', 'ConfigPath']), '/x');
    assert.equal(getAt(parseToml(out, ''), [...RUNTIMES, 'runc', 'runtime_type']), 'x');
    assert.equal(revertEdit(out, kataEdit, record, 'c.toml'), text);
  });

  it('refuses a value in the way and invalid TOML', () => {
    assert.throws(() => applyEdit('plugins = 3\n', kataEdit, 'c.toml'), HostError);
    assert.throws(() => applyEdit('[a\n', kataEdit, 'c.toml'), /c\.toml is not valid TOML/);
  });

  it('changes only the lines it must: tabs and trailing blanks elsewhere stay as they were', () => {
    const text =
      "version = 3\nimports = []\n\n\t[grpc]   \n\taddress = 'x'  \n  uid = 0\t\n\n[debug]\n\tlevel = 'info'  # was\n";
    const edit: ConfigEdit = { ...kataEdit, tables: [] };
    const { text: out, record } = applyEdit(text, edit, 'c.toml');
    assert.equal(
      out,
      text.replace('imports = []', `imports = ["${IMPORT}"]`).replace("level = 'info'", "level = 'debug'"),
    );
    assert.equal(revertEdit(out, edit, record, 'c.toml'), text);
  });

  it('refuses a version or imports containerd would refuse, naming the file and key', () => {
    for (const [text, key] of [
      ['version = "three"\n', 'version'],
      ['version = 0\n', 'version'],
      ['version = 2.5\n', 'version'],
      ['imports = [1, 2]\n', 'imports'],
      ['imports = "/etc/containerd/conf.d/*.toml"\n', 'imports'],
      [`imports = ["${'x'.repeat(100_000)}", 2]\n`, 'imports'],
    ] as const) {
      for (const run of [
        () => applyEdit(text, kataEdit, 'c.toml'),
        () => revertEdit(text, kataEdit, undefined, 'c.toml'),
      ]) {
        assert.throws(run, (e: unknown) => {
          assert.ok(e instanceof UsageError, String(e));
          assert.equal(e.exitCode, 2);
          assert.equal(e.input, `c.toml: ${key}`);
          assert.ok(e.message.startsWith(`c.toml: ${key} = `), e.message);
          assert.ok(e.message.length < 500, `${e.message.length} characters`);
          return true;
        });
      }
    }
    for (const version of ['1', '2', '3', '4', '0x3']) {
      assert.doesNotThrow(() => applyEdit(`version = ${version}\n`, kataEdit, 'c.toml'), version);
    }
  });

  it('without a record, leaves an imports list that holds no entry of its own (a node never installed)', () => {
    const text = 'version = 3\nimports = []\n\n[grpc]\t \n';
    assert.equal(revertEdit(text, kataEdit, undefined, 'c.toml'), text);
  });

  it('without a record, removes tables and entries but keeps values', () => {
    const { text: out } = applyEdit('version = 2\n', kataEdit, 'c.toml');
    const reverted = revertEdit(out, kataEdit, undefined, 'c.toml');
    const doc = parseToml(reverted, '');
    assert.equal(getAt(doc, [...RUNTIMES, 'kata-qemu']), undefined);
    assert.equal(getAt(doc, ['imports']), undefined);
    assert.equal(getAt(doc, ['debug', 'level']), 'debug');
  });
});

/** Random but valid containerd-like user configs: comments, indentation, inline comments, imports in several layouts. */
const indent = fc.constantFrom('', '  ', '    ');
const comment = fc.constantFrom('', ' # note', '  # keep this', ' #');
const blank = fc.constantFrom('', '\n', '\n\n');
const str = fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s));
const scalar = fc.oneof(str, fc.integer({ min: -5, max: 99999 }).map(String), fc.boolean().map(String));
const TABLES = [
  'grpc',
  'debug',
  'metrics',
  'plugins."io.containerd.grpc.v1.cri"',
  'plugins."io.containerd.grpc.v1.cri".containerd',
  'plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc',
  'plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options',
  'plugins."io.containerd.grpc.v1.cri".cni',
  'proxy_plugins.stargz',
];
const KEYS = [
  'address',
  'level',
  'uid',
  'runtime_type',
  'default_runtime_name',
  'SystemdCgroup',
  'bin_dir',
  'type',
];
const section = fc.record({
  indent,
  blank,
  comment,
  keys: fc.uniqueArray(fc.constantFrom(...KEYS), { maxLength: 4 }),
  values: fc.array(scalar, { minLength: 4, maxLength: 4 }),
});
const importsLine = fc.oneof(
  fc.constant(''),
  fc.constant('imports = ["/etc/containerd/a.toml"]\n'),
  fc.constant('imports = [\n  "/etc/a.toml",\n  "/etc/b.toml", # b\n]\n'),
  fc.constant('imports = []\n'),
);
const userConfig = fc
  .record({
    header: fc.constantFrom('', '# containerd config\n', '# a\n# b\n\n'),
    version: fc.constantFrom('', 'version = 2\n'),
    root: fc.constantFrom('', 'root = "/var/lib/containerd"\n', 'state = "/run/containerd" # st\n'),
    imports: importsLine,
    tables: fc.uniqueArray(fc.constantFrom(...TABLES), { maxLength: 6 }),
    sections: fc.array(section, { minLength: 6, maxLength: 6 }),
    trailing: fc.constantFrom('', '\n', '# end\n'),
  })
  .map((c) => {
    let text = `${c.header}${c.version}${c.root}${c.imports}`;
    c.tables.forEach((table, i) => {
      const s = c.sections[i]!;
      text += `${s.blank}${s.indent}[${table}]${s.comment}\n`;
      s.keys.forEach((k, j) => (text += `${s.indent}  ${k} = ${s.values[j]}${j === 0 ? s.comment : ''}\n`));
    });
    return text + c.trailing;
  });

describe('property: user configs survive install + cleanup', () => {
  it('apply then revert gives the original bytes', () => {
    fc.assert(
      fc.property(userConfig, (text) => {
        const { text: out, record } = applyEdit(text, kataEdit, 'c.toml');
        const doc = parseToml(out, 'c.toml');
        assert.ok(getAt(doc, [...RUNTIMES, 'kata-qemu']) !== undefined);
        assert.equal(undoEdit(out, text, kataEdit, record, 'c.toml'), text);
        assert.ok(parseToml(revertEdit(out, kataEdit, record, 'c.toml'), 'c.toml'));
        // Applying to the already edited file changes nothing more.
        assert.equal(applyEdit(out, kataEdit, 'c.toml').text, out);
      }),
      { numRuns: 300 },
    );
  });

  it('a comment the user adds on top after install survives cleanup', () => {
    fc.assert(
      fc.property(userConfig, (text) => {
        const { text: out, record } = applyEdit(text, kataEdit, 'c.toml');
        const edited = `# added later\n${out}`;
        assert.equal(undoEdit(edited, text, kataEdit, record, 'c.toml'), `# added later\n${text}`);
        // A value the user adds to one of their own tables, elsewhere in the file, survives too.
        const withKey = out.replace(/^(root|state) = /m, 'uid = 0\n$1 = ');
        if (withKey !== out) {
          assert.equal(
            undoEdit(withKey, text, kataEdit, record, 'c.toml'),
            text.replace(/^(root|state) = /m, 'uid = 0\n$1 = '),
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** The same configs with tabs and trailing blanks on lines kata-deploy has no business with. */
const messyConfig = fc
  .tuple(userConfig, fc.array(fc.constantFrom('', ' ', '\t', '  \t'), { minLength: 64, maxLength: 64 }))
  .map(([text, blanks]) =>
    text
      .split('\n')
      .map((line, i) => (line === '' || line.startsWith('imports') ? line : `${line}${blanks[i % 64]}`))
      .join('\n'),
  );

describe('property: two installs edit one file and are undone in either order', () => {
  const editOf = (entry: string): ConfigEdit => ({
    tables: [],
    values: [],
    arrayEntries: [{ path: ['imports'], entry }],
  });
  it('gives back the bytes whenever the file had an imports list', () => {
    fc.assert(
      fc.property(messyConfig, fc.boolean(), (text, aFirst) => {
        if (!/^imports = /m.test(text)) return;
        const a = editOf(IMPORT);
        const b = editOf('/opt/kata-coco/containerd/config.d/kata-deploy.toml');
        const withA = applyEdit(text, a, 'c.toml');
        const withB = applyEdit(withA.text, b, 'c.toml');
        const [first, second] = aFirst
          ? ([
              [a, withA.record],
              [b, withB.record],
            ] as const)
          : ([
              [b, withB.record],
              [a, withA.record],
            ] as const);
        const one = revertEdit(withB.text, first[0], first[1], 'c.toml');
        assert.equal(revertEdit(one, second[0], second[1], 'c.toml'), text);
      }),
      { numRuns: 300, seed: 2101 },
    );
  });
});

describe('property: the install plan and the cleanup plan on random user configs', () => {
  const layouts: ConfigLayout[] = [
    { mode: 'whole-file', file: '/etc/containerd/config.toml', configVersion: 2 },
    {
      mode: 'imported-drop-in',
      dropIn: '/opt/kata/containerd/config.d/kata-deploy.toml',
      importsFile: '/etc/containerd/config.toml',
      configVersion: 2,
    },
  ];
  it('cleanup gives back the original bytes, also after a user edit and after a reinstall', () => {
    fc.assert(
      fc.property(userConfig, fc.constantFrom(...layouts), fc.boolean(), (text, layout, userEdits) => {
        const main = '/etc/containerd/config.toml';
        const backup = `${main}.kata-deploy.bak`;
        const files = new Map<string, string | undefined>([[main, text]]);
        const edit = { ...kataEdit, arrayEntries: [] };
        const changes = planConfigInstall(layout, edit, { files, recorded: {}, backups: new Map() });
        const recorded = Object.fromEntries(
          changes.map((c) => [c.path, fileRecordFor(c, undefined, files.get(c.path), backup)]),
        );
        const installed = new Map(files);
        for (const c of changes) installed.set(c.path, c.content);
        const backups = new Map([[backup, text]]);
        const again = planConfigInstall(layout, edit, { files: installed, recorded, backups });
        for (const c of again) assert.equal(c.content, installed.get(c.path), 'reinstall is a no-op');
        if (userEdits) installed.set(main, `# later\n${installed.get(main)}`);
        const fallback = { dropIns: [], mainFile: main, edit };
        const cleaned = new Map(installed);
        for (const c of planConfigCleanup({ files: installed, recorded, backups }, fallback))
          cleaned.set(c.path, c.content);
        assert.equal(cleaned.get(main), userEdits ? `# later\n${text}` : text);
        for (const c of changes) if (c.path !== main) assert.equal(cleaned.get(c.path), undefined);
      }),
      { numRuns: 200 },
    );
  });
});
