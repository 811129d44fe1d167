/**
 * The guard: systemd never starts unless its `/` is the bed's prepared root. Checked twice — here, on disk,
 * before anything is spawned (`assertRootReady`), and inside the new namespaces after pivot_root, by the init
 * script, right before it execs systemd (`initScript`): PID 1 of its own PID namespace, `/` holds this bed's
 * marker, `/tmp` is the bed's own directory (same device and inode), `/usr` is read-only, the old root is gone.
 * Any check that fails ends the init script with exit 90–95 and a message; systemd is never reached.
 */
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MASKED_UNITS, OLD_ROOT, ROOT_MARKER, type SystemdRootLayout } from './root.js';

/** Units whose start-up would clean directories: the bed refuses to start unless each one is masked. */
const MUST_BE_MASKED = MASKED_UNITS.filter((u) => u.startsWith('systemd-tmpfiles') || u === 'tmp.mount');

export class RootNotReadyError extends Error {
  override name = 'RootNotReadyError';
}

/** What the init script compares against inside the namespace: `/tmp` as `<device>:<inode>`. */
export interface RootIdentity {
  readonly tmp: string;
}

export async function assertRootReady(layout: SystemdRootLayout): Promise<RootIdentity> {
  const refuse = (why: string): never => {
    throw new RootNotReadyError(`refusing to start systemd on ${layout.root}: ${why}`);
  };
  if (!/^\/tmp\/kd-sd-[A-Za-z0-9]+$/.test(layout.dir) || layout.root !== join(layout.dir, 'root')) {
    refuse('the root is not a bed directory (/tmp/kd-sd-*/root)');
  }
  const marker = await readFile(join(layout.root, ROOT_MARKER), 'utf8').catch(() => '');
  if (marker.trim() !== layout.id) refuse(`${ROOT_MARKER} does not hold this bed's id`);
  for (const dir of ['tmp', 'run', 'etc', 'var', 'usr', 'proc', 'sys', 'dev', OLD_ROOT]) {
    const st = await lstat(join(layout.root, dir)).catch(() => undefined);
    if (!st?.isDirectory())
      refuse(`${dir} is not a directory of its own (a link could lead out of the root)`);
  }
  if ((await readdir(join(layout.root, 'usr'))).length > 0)
    refuse('usr is not empty (the machine’s is bound there)');
  for (const unit of MUST_BE_MASKED) {
    const target = await readlink(join(layout.root, 'etc/systemd/system', unit)).catch(() => '');
    if (target !== '/dev/null') refuse(`${unit} is not masked`);
  }
  const tmp = await lstat(join(layout.root, 'tmp'));
  return { tmp: `${tmp.dev}:${tmp.ino}` };
}

/**
 * Runs in the node's mount namespace (a private copy of the machine's, held by the launcher): binds the
 * machine's /usr read-only and the bed's own /usr/local into the root, so the root is the node's file system
 * both for systemd (whose namespace is copied from this one) and for pods (which bind it at their /host).
 * Reads BED_ROOT and BED_LOCAL; then runs `"$@"` as its child and stays (holding the namespace) until it ends.
 */
export function nodeMountsScript(): string {
  return `set -eu
R="$BED_ROOT"
mount --make-rprivate /
mount --bind "$R" "$R"
mount --bind /usr "$R/usr"
mount -o remount,bind,ro,nosuid,nodev "$R/usr"
mount --bind "$BED_LOCAL" "$R/usr/local"
mount --bind "$R/run" "$R/run"
"$@" &
wait $!
`;
}

/**
 * Runs as PID 1 of the new namespaces (`/bin/sh -c`): adds the kernel's file systems to the root, pivots into
 * it, checks the guard, and execs `"$@"` (systemd, or a probe command in the root's own test). Reads BED_ROOT,
 * BED_ID and BED_TMP from the environment.
 */
export function initScript(): string {
  return `set -eu
R="$BED_ROOT"
fail() { echo "kata systemd bed guard: $2" >&2; exit "$1"; }
[ "$$" = 1 ] || fail 90 "not PID 1 of a new PID namespace"
mount --make-rprivate /
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
for p in sys sysrq-trigger irq bus fs; do
  if [ -e "$R/proc/$p" ]; then mount --bind "$R/proc/$p" "$R/proc/$p"; mount -o remount,bind,ro "$R/proc/$p"; fi
done
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$R/sys/fs/cgroup"
mount -t tmpfs -o nosuid,mode=755,size=4m bed-dev "$R/dev"
for d in null zero full random urandom tty; do : > "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mkdir "$R/dev/shm" "$R/dev/pts"
mount -t tmpfs -o nosuid,nodev,mode=1777 bed-shm "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
cd "$R"
pivot_root . ${OLD_ROOT}
cd /
umount -l /${OLD_ROOT}
[ "$(cat /${ROOT_MARKER} 2>/dev/null)" = "$BED_ID" ] || fail 91 "/ is not the bed's root"
[ "$(stat -c %d:%i /tmp)" = "$BED_TMP" ] || fail 92 "/tmp is not the bed's own"
if touch /usr/.kata-bed-write-probe 2>/dev/null; then rm -f /usr/.kata-bed-write-probe; fail 93 "/usr is writable"; fi
if grep -q " /${OLD_ROOT}" /proc/self/mountinfo; then fail 94 "the machine's root is still mounted"; fi
exec env -i container=kata-systemd-bed PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
`;
}

/** What systemd is started with (after the guard): no clock or kernel modules for it. */
export const SYSTEMD_COMMAND = [
  '/usr/bin/setpriv',
  '--bounding-set',
  '-sys_time,-sys_module',
  '/lib/systemd/systemd',
  '--system',
];
