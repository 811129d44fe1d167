export * from './types.js';
export { loadSettings, archFromNode, type SettingsFlags, type SettingsInput } from './load.js';
export { distributionOf, variableName } from './schema.js';
export { hypervisorOf, isRustShim, isKnownShim, defaultShimsFor, ALL_SHIMS } from './shims.js';
