/**
 * The systemd bed's root on disk: the directory systemd gets as `/`. Only the bed's own directories are in it
 * (etc, var, run, tmp, opt, root, usr/local by bind); the machine's /usr is bound read-only over its empty
 * `usr` inside the bed's namespace, and /bin, /sbin, /lib, /lib64 are the usual links into it. Its /etc is made
 * here: what systemd and the daemons need from the machine's (users, the dynamic linker's cache), a machine-id,
 * journald kept in /run, and every unit the bed does not need masked — tmpfiles above all (see README.md).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, cp, mkdir, mkdtemp, symlink, writeFile, chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface SystemdRootLayout {
  /** The bed's directory (`/tmp/kd-sd-XXXXXX`): everything of the bed is below it; teardown removes it. */
  readonly dir: string;
  /** systemd's `/` (the node's root file system). */
  readonly root: string;
  /** Bound at `<root>/usr/local`: the node's own binaries (containerd of the bed's version). */
  readonly local: string;
  /** The token in `<root>/.kata-systemd-bed`; the guard checks it is what `/` holds before systemd starts. */
  readonly id: string;
  /** systemd's own output (PID 1's stdout and stderr). */
  readonly consoleLog: string;
  /** Name of the bed's cgroup (cgroup v2, below this process's own). */
  readonly cgroupName: string;
}

export const ROOT_MARKER = '.kata-systemd-bed';
export const OLD_ROOT = '.bed-oldroot';

/**
 * Units the bed masks. tmpfiles would clean directories by the rules in /usr/lib/tmpfiles.d (it emptied the
 * machine's /tmp once when systemd shared the machine's root); the rest touch the kernel, devices, the network,
 * terminals or logins, none of which is the bed's.
 */
export const MASKED_UNITS: readonly string[] = [
  'systemd-tmpfiles-setup.service',
  'systemd-tmpfiles-setup-dev.service',
  'systemd-tmpfiles-setup-dev-early.service',
  'systemd-tmpfiles-clean.service',
  'systemd-tmpfiles-clean.timer',
  'tmp.mount',
  'getty.target',
  'getty-static.service',
  'getty@.service',
  'serial-getty@.service',
  'console-getty.service',
  'container-getty@.service',
  'systemd-logind.service',
  'systemd-user-sessions.service',
  'systemd-update-utmp.service',
  'systemd-update-utmp-runlevel.service',
  'systemd-ask-password-wall.path',
  'systemd-ask-password-console.path',
  'systemd-firstboot.service',
  'systemd-machine-id-commit.service',
  'systemd-modules-load.service',
  'kmod-static-nodes.service',
  'systemd-sysctl.service',
  'systemd-binfmt.service',
  'proc-sys-fs-binfmt_misc.automount',
  'proc-sys-fs-binfmt_misc.mount',
  'sys-fs-fuse-connections.mount',
  'sys-kernel-config.mount',
  'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount',
  'dev-hugepages.mount',
  'dev-mqueue.mount',
  'systemd-random-seed.service',
  'systemd-pcrphase.service',
  'systemd-pcrphase-sysinit.service',
  'systemd-repart.service',
  'systemd-sysusers.service',
  'systemd-udevd.service',
  'systemd-udevd-control.socket',
  'systemd-udevd-kernel.socket',
  'systemd-udev-trigger.service',
  'systemd-udev-settle.service',
  'systemd-hwdb-update.service',
  'systemd-journal-catalog-update.service',
  'ldconfig.service',
  'systemd-remount-fs.service',
  'systemd-journal-flush.service',
  'networking.service',
  'systemd-networkd.service',
  'systemd-resolved.service',
  'systemd-timesyncd.service',
  'systemd-pstore.service',
  'cryptsetup.target',
  'veritysetup.target',
  'integritysetup.target',
  'remote-fs.target',
  'dbus.service',
  'dbus.socket',
  'systemd-initctl.socket',
  'systemd-journald-audit.socket',
  'cron.service',
  'e2scrub_reap.service',
];

/** Files of the machine's /etc the bed's /etc copies (users and groups, the dynamic linker's configuration). */
const ETC_COPIES = [
  'passwd',
  'group',
  'shadow',
  'gshadow',
  'nsswitch.conf',
  'ld.so.cache',
  'ld.so.conf',
  'hosts',
];

const DIRS = [
  'etc/systemd/system',
  'etc/systemd/journald.conf.d',
  'etc/containerd',
  'etc/cni/net.d',
  'var/lib',
  'var/log',
  'var/tmp',
  'run/lock',
  'tmp',
  'opt',
  'root',
  'usr',
  'proc',
  'sys',
  'dev',
  OLD_ROOT,
];

/** Lays out a new bed directory under /tmp; nothing is mounted or started. */
export async function createSystemdRoot(): Promise<SystemdRootLayout> {
  const dir = await mkdtemp('/tmp/kd-sd-');
  const root = join(dir, 'root');
  const local = join(dir, 'local');
  for (const d of DIRS) await mkdir(join(root, d), { recursive: true });
  await mkdir(join(local, 'bin'), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  await chmod(join(root, 'var/tmp'), 0o1777);
  for (const link of ['bin', 'sbin', 'lib', 'lib64']) {
    const st = await stat(`/usr/${link}`).catch(() => undefined);
    if (st?.isDirectory()) await symlink(`usr/${link}`, join(root, link));
  }
  await symlink('../run', join(root, 'var/run'));
  await symlink('../run/lock', join(root, 'var/lock'));
  const etc = join(root, 'etc');
  for (const f of ETC_COPIES) await copyFile(`/etc/${f}`, join(etc, f)).catch(() => undefined);
  await cp('/etc/ld.so.conf.d', join(etc, 'ld.so.conf.d'), { recursive: true }).catch(() => undefined);
  await symlink('../usr/lib/os-release', join(etc, 'os-release'));
  await writeFile(join(etc, 'hostname'), 'kata-systemd-bed\n');
  await writeFile(join(etc, 'machine-id'), `${randomBytes(16).toString('hex')}\n`);
  const units = join(etc, 'systemd/system');
  for (const unit of MASKED_UNITS) await symlink('/dev/null', join(units, unit));
  await symlink('/usr/lib/systemd/system/multi-user.target', join(units, 'default.target'));
  await writeFile(join(etc, 'systemd/journald.conf.d/bed.conf'), '[Journal]\nStorage=volatile\n');
  const id = `kata-systemd-bed ${dir} ${randomBytes(8).toString('hex')}`;
  await writeFile(join(root, ROOT_MARKER), `${id}\n`);
  const suffix = dir.slice(dir.lastIndexOf('-') + 1).replace(/[^A-Za-z0-9]/g, '');
  return {
    dir,
    root,
    local,
    id,
    consoleLog: join(dir, 'console.log'),
    cgroupName: `kd-sd-${suffix}-${randomBytes(3).toString('hex')}`,
  };
}
