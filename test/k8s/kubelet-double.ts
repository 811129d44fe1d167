/**
 * KubeletDouble: a TEST DOUBLE of the kubelet's node-status loop, for the test API server. It asks the bed's
 * real containerd for CRI's runtime status every 250 ms and publishes it as the kubelet does: the Ready
 * condition (containerd answers and CRI is ready) and `status.runtimeHandlers` (the default handler `""` and
 * every handler CRI lists) — or no runtimeHandlers at all, as a kubelet before 1.30. It can also drop the
 * node's kata labels once after they were set `true`, as a kubelet re-registering on k3s/rke2 does.
 */
import { criStatus } from '../support/node-tree.js';
import type { KubeApiDouble, Obj } from './api-double.js';

export interface KubeletOptions {
  /** false: a kubelet before Kubernetes 1.30, which does not report runtimeHandlers. */
  readonly reportHandlers?: boolean;
}

export class KubeletDouble {
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private dropArmed = false;
  /** How many times labels were dropped. */
  dropped = 0;

  constructor(
    private readonly api: KubeApiDouble,
    private readonly node: string,
    private readonly socket: string,
    private readonly options: KubeletOptions = {},
  ) {
    api.watchWrites((name, obj) => {
      const labels = ((obj['metadata'] as Record<string, unknown>)['labels'] ?? {}) as Record<string, string>;
      if (name !== this.node || !this.dropArmed || labels['katacontainers.io/kata-runtime'] !== 'true')
        return;
      this.dropArmed = false;
      // After the write that set them: the re-registration replaces the labels with the kubelet's own.
      setTimeout(() => {
        this.dropped++;
        this.api.mutateNode(this.node, (n) => {
          const meta = n['metadata'] as { labels: Record<string, string> };
          meta.labels = Object.fromEntries(
            Object.entries(meta.labels).filter(([k]) => !k.includes('katacontainers.io/')),
          );
        });
      }, 50);
    });
  }

  start(): void {
    const tick = async () => {
      await this.sync().catch(() => undefined);
      if (this.timer !== undefined) this.timer = setTimeout(() => void tick(), 250);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The next time the shared label becomes `true`, drop every kata label once. */
  dropLabelsOnce(): void {
    this.dropArmed = true;
  }

  private async sync(): Promise<void> {
    let ready = 'False';
    let handlers: string[] | undefined;
    try {
      const status = await criStatus(this.socket);
      if (status !== undefined) {
        ready = 'True';
        handlers = ['', ...status.handlers.filter((h) => h !== '')];
      }
    } catch {
      ready = 'False';
    }
    const key = JSON.stringify([ready, this.options.reportHandlers === false ? null : handlers]);
    if (key === this.last) return;
    this.last = key;
    this.api.mutateNode(
      this.node,
      (n) => {
        const status = (n['status'] ?? {}) as Record<string, unknown>;
        status['conditions'] = [
          {
            type: 'Ready',
            status: ready,
            reason: ready === 'True' ? 'KubeletReady' : 'ContainerRuntimeNotReady',
          },
        ];
        if (this.options.reportHandlers !== false && handlers !== undefined)
          status['runtimeHandlers'] = handlers.map((name) => ({
            name,
            features: { recursiveReadOnlyMounts: true, userNamespaces: false },
          }));
        n['status'] = status as Obj;
      },
      'kubelet-status',
    );
  }
}
