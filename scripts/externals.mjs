// The packages the bundle leaves out and loads from node_modules at run time: native addons (koffi for `check`,
// zstd-napi for the .tar.zst payload) and tar-stream, which goes with zstd-napi (its package.json maps `fs` per
// runtime). scripts/bundle.mjs keeps them external; the image copies them with their dependencies.
export const EXTERNAL_PACKAGES = ['koffi', 'zstd-napi', 'tar-stream'];
