/**
 * Starting and stopping node services (containerd, kubelet, snapshotters). Two implementations: systemd for
 * real nodes, and a plain process supervisor for the sandbox and the tests (no systemd as PID 1 there).
 * Units are named as systemd names them (`containerd.service`).
 */
export interface ServiceManager {
  readonly kind: 'systemd' | 'process';
  restart(unit: string): Promise<void>;
  stop(unit: string): Promise<void>;
  start(unit: string): Promise<void>;
  isActive(unit: string): Promise<boolean>;
  daemonReload(): Promise<void>;
  /** Start at boot (systemd `enable`); managers without boot ordering leave it out. */
  enable?(unit: string): Promise<void>;
  disable?(unit: string): Promise<void>;
  /** A few lines that explain why a unit is not running (journal or log tail), for error messages. */
  describeFailure(unit: string): Promise<string>;
}
