/**
 * flock(2) from the C library, through koffi (Node has no file locks of its own). Loaded on first use, so
 * commands that take no lock never load the native module; the CLI bundle keeps koffi external.
 */
import { HostError } from '../errors/index.js';

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;
const EINTR = 4;

export interface Flock {
  /** Tries to take an exclusive lock on `fd` without blocking: true when taken, false when another holds it. */
  tryExclusive(fd: number): boolean;
}

let loaded: Promise<Flock> | undefined;

export function loadFlock(): Promise<Flock> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<Flock> {
  let koffi: (typeof import('koffi'))['default'];
  try {
    koffi = (await import('koffi')).default;
  } catch (error) {
    throw new HostError(`cannot load koffi to lock the node: ${String(error)}`, {
      input: 'koffi',
      hint: 'kata-deploy needs its koffi package (node_modules/koffi) next to it',
      cause: error,
    });
  }
  const failures: string[] = [];
  for (const name of ['libc.so.6', 'libc.so']) {
    try {
      const flock = koffi.load(name).func('int flock(int fd, int operation)') as (
        fd: number,
        op: number,
      ) => number;
      return {
        tryExclusive(fd) {
          for (;;) {
            if (flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
            const errno = koffi.errno();
            if (errno === EWOULDBLOCK) return false;
            if (errno !== EINTR) throw new HostError(`flock failed with errno ${errno}`, { input: 'flock' });
          }
        },
      };
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new HostError(`cannot load flock from the C library (${failures.join('; ')})`, { input: 'libc' });
}
