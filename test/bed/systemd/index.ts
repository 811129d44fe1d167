// The systemd bed: a real systemd as PID 1 of its own namespaces and root, reached the way a pod reaches a node.
export { startSystemdBed, runInBedRoot, POD_HOST_ROOT, type SystemdBed, type PodRunOptions } from './bed.js';
export { assertRootReady, RootNotReadyError } from './guard.js';
export { createSystemdRoot, MASKED_UNITS, type SystemdRootLayout } from './root.js';
export { installDistribution, startSystemdNode, type SystemdNode } from './node.js';
export { distributionLayout, type Distribution, type DistributionLayout } from './distributions.js';
