/**
 * What a kubelet would do with a rendered DaemonSet's pod, as `ctr run` flags for the node's containerd: the
 * end-to-end test runs kata-deploy's image the way the manifest says, not from a second list. Every field of
 * the pod and its container is either translated, named as the scheduler's or the kubelet's own business
 * (ignored here, on purpose), or refused: a field this file does not know fails the test instead of being
 * dropped, so the pod that runs is the pod the manifest describes.
 */

type Obj = Record<string, unknown>;

export interface PodContext {
  /** What the downward API's `spec.nodeName` gives. */
  readonly nodeName: string;
  /** The DaemonSet's namespace (`metadata.namespace`). */
  readonly namespace: string;
  /** Node path of the service-account files (token, ca.crt, namespace) the kubelet projects. */
  readonly serviceAccountDir: string;
  /** Node path of the container's termination-log file. */
  readonly terminationLog: string;
  /**
   * Capabilities (`CAP_…`) the node's containerd does not hold: CRI gives a privileged container every
   * capability the runtime holds, where `ctr run --privileged` asks for every one the kernel knows.
   */
  readonly capabilitiesNotHeld: readonly string[];
  /** The API as the kubelet announces it to every pod. */
  readonly apiHost: string;
  readonly apiPort: number;
}

export interface HttpProbe {
  readonly path: string;
  readonly port: number;
  readonly periodSeconds: number;
  readonly failureThreshold: number;
}

export interface PodPlan {
  readonly daemonSet: string;
  readonly image: string;
  /** The process: the container's `command` and `args` (the image's entrypoint is replaced, as Kubernetes does). */
  readonly argv: readonly string[];
  /** `ctr run` flags: namespaces, privileges, mounts, environment. */
  readonly flags: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly startupProbe: HttpProbe;
  readonly readinessProbe: HttpProbe;
  readonly livenessProbe: HttpProbe;
  readonly terminationGracePeriodSeconds: number;
  readonly podSpec: Obj;
}

/** Pod fields a scheduler or the kubelet's own machinery acts on, not the container's process. */
const POD_IGNORED = new Set([
  'priorityClassName',
  'tolerations',
  'nodeSelector',
  'affinity',
  'dnsPolicy',
  'serviceAccountName',
]);
const POD_TRANSLATED = new Set([
  'containers',
  'hostPID',
  'hostNetwork',
  'volumes',
  'terminationGracePeriodSeconds',
  'automountServiceAccountToken',
]);
/**
 * Container fields for the image pull, the scheduler and the kubelet's reading of the termination message:
 * `resources` are requests only (checked below); `ports` only name the probes' port on the host network.
 */
const CONTAINER_IGNORED = new Set([
  'name',
  'imagePullPolicy',
  'resources',
  'ports',
  'terminationMessagePolicy',
]);
const CONTAINER_TRANSLATED = new Set([
  'image',
  'command',
  'args',
  'env',
  'volumeMounts',
  'securityContext',
  'startupProbe',
  'readinessProbe',
  'livenessProbe',
]);

export class PodNotTranslatable extends Error {}

function refuseUnknown(obj: Obj, known: ReadonlySet<string>[], where: string): void {
  for (const key of Object.keys(obj))
    if (!known.some((k) => k.has(key)))
      throw new PodNotTranslatable(
        `${where}.${key} is not translated to ctr run: the test cannot run this pod faithfully`,
      );
}

const PROPAGATION: Record<string, string> = {
  None: 'rprivate',
  HostToContainer: 'rslave',
  Bidirectional: 'rshared',
};

/** Probe fields for the kubelet's timing, which the test's own polling stands in for. */
const PROBE_TIMING = new Set([
  'periodSeconds',
  'failureThreshold',
  'timeoutSeconds',
  'initialDelaySeconds',
  'successThreshold',
]);

function probe(container: Obj, name: string): HttpProbe {
  const p = container[name] as Obj | undefined;
  if (p === undefined) throw new PodNotTranslatable(`container.${name} is missing`);
  refuseUnknown(p, [PROBE_TIMING, new Set(['httpGet'])], `container.${name}`);
  const http = p['httpGet'] as Obj | undefined;
  if (http === undefined) throw new PodNotTranslatable(`container.${name} must be an httpGet probe`);
  // Only a plain GET to the pod's own address on a numeric port: what the test's polling does.
  refuseUnknown(http, [new Set(['path', 'port'])], `container.${name}.httpGet`);
  if (typeof http['port'] !== 'number')
    throw new PodNotTranslatable(`container.${name}.httpGet.port must be a number`);
  // Kubernetes' defaults: every 10 s, 3 failures.
  return {
    path: (http['path'] as string | undefined) ?? '/',
    port: http['port'],
    periodSeconds: (p['periodSeconds'] as number | undefined) ?? 10,
    failureThreshold: (p['failureThreshold'] as number | undefined) ?? 3,
  };
}

/** The pod of `daemonSet` (a rendered apps/v1 DaemonSet) as `ctr run` would start it on the node. */
export function planPodRun(daemonSet: Obj, ctx: PodContext): PodPlan {
  const meta = daemonSet['metadata'] as Obj;
  const template = (daemonSet['spec'] as Obj)['template'] as Obj;
  // Annotations can change a pod (AppArmor, seccomp, a runtime's): none is translated.
  refuseUnknown((template['metadata'] ?? {}) as Obj, [new Set(['labels'])], 'spec.template.metadata');
  const spec = template['spec'] as Obj;
  refuseUnknown(spec, [POD_IGNORED, POD_TRANSLATED], 'spec.template.spec');
  const containers = spec['containers'] as Obj[];
  if (containers.length !== 1) throw new PodNotTranslatable('the pod must have exactly one container');
  const c = containers[0]!;
  refuseUnknown(c, [CONTAINER_IGNORED, CONTAINER_TRANSLATED], 'container');
  const limits = (c['resources'] as Obj | undefined)?.['limits'];
  if (limits !== undefined)
    throw new PodNotTranslatable('container.resources.limits would need cgroup limits');

  const flags: string[] = [];
  if (spec['hostNetwork'] !== true)
    throw new PodNotTranslatable(
      'a pod without hostNetwork needs a CNI network, which the bed does not have',
    );
  flags.push('--net-host');
  // The node's PID namespace: PID 1's, as the shim resolves the path inside the node.
  if (spec['hostPID'] === true) flags.push('--with-ns', 'pid:/proc/1/ns/pid');

  const sc = (c['securityContext'] ?? {}) as Obj;
  refuseUnknown(sc, [new Set(['privileged', 'readOnlyRootFilesystem'])], 'container.securityContext');
  if (sc['privileged'] === true) {
    flags.push('--privileged');
    for (const cap of ctx.capabilitiesNotHeld) flags.push('--cap-drop', cap);
  }
  if (sc['readOnlyRootFilesystem'] === true) flags.push('--read-only');

  const volumes = new Map<string, Obj>();
  for (const v of (spec['volumes'] ?? []) as Obj[]) {
    refuseUnknown(v, [new Set(['name', 'hostPath'])], `volume ${String(v['name'])}`);
    const hostPath = v['hostPath'] as Obj;
    refuseUnknown(hostPath, [new Set(['path', 'type'])], `volume ${String(v['name'])}.hostPath`);
    if (!['Directory', 'DirectoryOrCreate', undefined].includes(hostPath['type'] as string | undefined))
      throw new PodNotTranslatable(`volume ${String(v['name'])}: hostPath type ${String(hostPath['type'])}`);
    volumes.set(v['name'] as string, hostPath);
  }
  for (const m of (c['volumeMounts'] ?? []) as Obj[]) {
    refuseUnknown(m, [new Set(['name', 'mountPath', 'readOnly', 'mountPropagation'])], 'volumeMount');
    const hostPath = volumes.get(m['name'] as string);
    if (hostPath === undefined)
      throw new PodNotTranslatable(`volumeMount ${String(m['name'])} has no hostPath volume`);
    const propagation = PROPAGATION[(m['mountPropagation'] as string | undefined) ?? 'None'];
    if (propagation === undefined)
      throw new PodNotTranslatable(`mountPropagation ${String(m['mountPropagation'])}`);
    const mode = m['readOnly'] === true ? 'ro' : 'rw';
    flags.push(
      '--mount',
      `type=bind,src=${String(hostPath['path'])},dst=${String(m['mountPath'])},options=rbind:${propagation}:${mode}`,
    );
  }
  if (spec['automountServiceAccountToken'] !== false)
    flags.push(
      '--mount',
      `type=bind,src=${ctx.serviceAccountDir},dst=/var/run/secrets/kubernetes.io/serviceaccount,options=rbind:ro`,
    );
  flags.push('--mount', `type=bind,src=${ctx.terminationLog},dst=/dev/termination-log,options=rbind:rw`);

  const env: Record<string, string> = {
    KUBERNETES_SERVICE_HOST: ctx.apiHost,
    KUBERNETES_SERVICE_PORT: String(ctx.apiPort),
  };
  const FIELDS: Record<string, string> = {
    'spec.nodeName': ctx.nodeName,
    'metadata.namespace': ctx.namespace,
  };
  for (const e of (c['env'] ?? []) as Obj[]) {
    const name = e['name'] as string;
    if (typeof e['value'] === 'string') env[name] = e['value'];
    else {
      const path = ((e['valueFrom'] as Obj | undefined)?.['fieldRef'] as Obj | undefined)?.[
        'fieldPath'
      ] as string;
      const value = FIELDS[path];
      if (value === undefined)
        throw new PodNotTranslatable(
          `env ${name}: only values and fieldRefs ${Object.keys(FIELDS).join(', ')}`,
        );
      env[name] = value;
    }
  }
  for (const [k, v] of Object.entries(env)) flags.push('--env', `${k}=${v}`);

  // ctr run's arguments replace the whole process; Kubernetes would keep the image's entrypoint without it.
  if (!Array.isArray(c['command']) || c['command'].length === 0)
    throw new PodNotTranslatable('container.command must be given: ctr run replaces the whole process');
  const argv = [...(c['command'] as string[]), ...((c['args'] ?? []) as string[])];
  return {
    daemonSet: meta['name'] as string,
    image: c['image'] as string,
    argv,
    flags,
    env,
    startupProbe: probe(c, 'startupProbe'),
    readinessProbe: probe(c, 'readinessProbe'),
    livenessProbe: probe(c, 'livenessProbe'),
    terminationGracePeriodSeconds: (spec['terminationGracePeriodSeconds'] as number | undefined) ?? 30,
    podSpec: spec,
  };
}
