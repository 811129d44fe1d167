export { applyEdit, revertEdit, undoEdit, type ConfigEdit, type EditRecord } from './edit.js';
export { chooseLayout, type ConfigLayout, type LayoutFacts } from './layout.js';
export {
  planConfigCleanup,
  planConfigInstall,
  readUserEdit,
  sha256Text,
  type ConfigFacts,
  type ConfigFileChange,
  type FallbackTargets,
  type UserEdit,
  fileRecordFor,
} from './plan.js';
export {
  describeHandlers,
  handlerTable,
  kataConfigEdit,
  pluginPaths,
  renderDropIn,
  type KataEditInput,
} from './runtimes.js';
export {
  parseToml,
  renderTable,
  formatString,
  getAt,
  tomlEqual,
  type TomlTable,
  type TomlValue,
  type TomlPath,
} from './toml.js';
export { configVersionOf, formatVersion, parseContainerdVersion, type ContainerdVersion } from './version.js';
