/**
 * How each Kubernetes distribution lays out its containerd on a node: the unit that runs it, where its binary,
 * configuration and socket live. The bed runs the bed's own containerd under these names (stand-ins: k3s, rke2,
 * k0s and microk8s themselves are not available here), so detection and installs meet the real unit names and
 * paths. Pure data and text.
 */
import { nodeContainerdConfig } from '../../support/node-root.js';
import type { ContainerdVersion } from '../versions.js';

export type Distribution = 'containerd' | 'k3s' | 'rke2-server' | 'k0s-worker' | 'microk8s';

export interface DistributionLayout {
  readonly distribution: Distribution;
  readonly unit: string;
  /** Where the distribution keeps its containerd binary (node path of the directory). */
  readonly binDir: string;
  /** The file kata-deploy edits (k3s/rke2: the rendered config; microk8s: the template). */
  readonly configFile: string;
  /** The file containerd is started with (microk8s renders it from the template at start). */
  readonly runConfig: string;
  readonly socket: string;
  readonly root: string;
  readonly state: string;
  /** Drop-in directory the configuration imports, if the distribution has one. */
  readonly imports: string | undefined;
}

const RANCHER = (name: 'k3s' | 'rke2') => `/var/lib/rancher/${name}/agent/etc/containerd`;

export function distributionLayout(d: Distribution, version: ContainerdVersion): DistributionLayout {
  const v3 = version === '2.1';
  switch (d) {
    case 'containerd':
      return {
        distribution: d,
        unit: 'containerd.service',
        binDir: '/usr/local/bin',
        configFile: '/etc/containerd/config.toml',
        runConfig: '/etc/containerd/config.toml',
        socket: '/run/containerd/containerd.sock',
        root: '/var/lib/containerd',
        state: '/run/containerd',
        imports: undefined,
      };
    case 'k3s':
    case 'rke2-server': {
      const name = d === 'k3s' ? 'k3s' : 'rke2';
      const dir = RANCHER(name);
      return {
        distribution: d,
        unit: d === 'k3s' ? 'k3s.service' : 'rke2-server.service',
        binDir: d === 'k3s' ? '/var/lib/rancher/k3s/data/current/bin' : '/var/lib/rancher/rke2/bin',
        configFile: `${dir}/config.toml`,
        runConfig: `${dir}/config.toml`,
        socket: '/run/k3s/containerd/containerd.sock',
        root: `/var/lib/rancher/${name}/agent/containerd`,
        state: '/run/k3s/containerd',
        imports: `${dir}/${v3 ? 'config-v3.toml.d' : 'config.toml.d'}/*.toml`,
      };
    }
    case 'k0s-worker':
      return {
        distribution: d,
        unit: 'k0sworker.service',
        binDir: '/var/lib/k0s/bin',
        configFile: '/etc/k0s/containerd.toml',
        runConfig: '/etc/k0s/containerd.toml',
        socket: '/run/k0s/containerd.sock',
        root: '/var/lib/k0s/containerd',
        state: '/run/k0s/containerd',
        imports: '/etc/k0s/containerd.d/*.toml',
      };
    case 'microk8s':
      return {
        distribution: d,
        unit: 'snap.microk8s.daemon-containerd.service',
        binDir: '/snap/microk8s/current/bin',
        configFile: '/var/snap/microk8s/current/args/containerd-template.toml',
        runConfig: '/var/snap/microk8s/current/args/containerd.toml',
        socket: '/var/snap/microk8s/common/run/containerd.sock',
        root: '/var/snap/microk8s/common/var/lib/containerd',
        state: '/var/snap/microk8s/common/run/containerd',
        imports: undefined,
      };
  }
}

/** The configuration the distribution renders for its containerd (node paths throughout). */
export function distributionConfig(l: DistributionLayout, version: ContainerdVersion): string {
  let text = nodeContainerdConfig('', version)
    .replace(
      '# containerd of the sandbox node (kata-deploy integration test)',
      `# ${l.distribution} (kata-deploy systemd bed stand-in)`,
    )
    .replace('root = "/var/lib/containerd"', `root = "${l.root}"`)
    .replace('state = "/run/containerd"', `state = "${l.state}"`)
    .replaceAll('"/run/containerd/containerd.sock', `"${l.socket}`)
    .replace('"/run/containerd/debug.sock"', `"${l.state}/debug.sock"`);
  if (l.imports !== undefined) text = text.replace(/^(version = \d+)$/m, `$1\nimports = ["${l.imports}"]`);
  return text;
}

/** The unit file: containerd's own upstream unit, with the distribution's name, binary and configuration. */
export function distributionUnit(l: DistributionLayout, fullVersion: string): string {
  const render = l.runConfig === l.configFile ? '' : `ExecStartPre=/bin/cp ${l.configFile} ${l.runConfig}\n`;
  return `# kata-deploy systemd bed: containerd ${fullVersion} as ${l.unit} (a stand-in for ${l.distribution})
[Unit]
Description=${l.distribution} containerd (kata-deploy systemd bed, containerd ${fullVersion})
After=local-fs.target
StartLimitIntervalSec=0

[Service]
Type=notify
${render}ExecStart=${l.binDir}/containerd --config ${l.runConfig}
Environment=PATH=${l.binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
Delegate=yes
KillMode=process
Restart=always
RestartSec=2
LimitNOFILE=infinity
TasksMax=infinity

[Install]
WantedBy=multi-user.target
`;
}
