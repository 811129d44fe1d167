/** Host capability check (`kata-deploy check`): public surface for the CLI and for other commands. */
export { runCheck, versionsYamlCandidates, type CheckOptions } from './run.js';
export { evaluate, type EvaluateOptions } from './evaluate.js';
export { gatherFacts, type HostFacts, type CheckFacts, RELEASE_CHECK_TIMEOUT_MS } from './facts.js';
export { systemHostFacts, fixtureHostFacts, FIXTURE_FILE } from './host.js';
export { renderReport } from './render.js';
export * from './types.js';
export { erofsWantsFromEnv } from './erofs-facts.js';
