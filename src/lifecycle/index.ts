export { runLifecycle, type LifecycleAction, type RunOptions, type RunResult } from './run.js';
export { describeStep, type Step } from './steps.js';
export { type SnapshotterHook, type SnapshotterHookContext } from './hooks.js';
export { snapshotterHooks } from './registry.js';
export { describeOutcome, type SnapshotterOutcome, type HeldBy } from './snapshotters/outcome.js';
export { observe, detectRuntime, type Observed } from './observe.js';
export { planInstall } from './plan-install.js';
export { planCleanup, planReset } from './plan-cleanup.js';
export { createVerifier, type Verifier } from './verify/verifier.js';
