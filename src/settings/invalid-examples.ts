/**
 * One invalid value for every variable kata-deploy validates, with the base environment it is tried in. Used by
 * the unit tests and by the CLI test that checks each one exits 2 and leaves the disk alone.
 */
export const INVALID_BASE_ENV: Readonly<Record<string, string>> = {
  NODE_NAME: 'node-1',
  SHIMS_X86_64: 'qemu qemu-runtime-rs',
};

/** `[variable, value]`; on x86_64, with `INVALID_BASE_ENV` underneath. */
export const INVALID_ENV: readonly [string, string][] = [
  ['NODE_NAME', ''],
  ['NODE_NAME', 'two words'],
  ['DEBUG', 'yes'],
  ['SHIMS_X86_64', 'qemu nosuchshim'],
  ['SHIMS_X86_64', 'qemu ../x'],
  ['DEFAULT_SHIM_X86_64', 'clh'],
  ['SNAPSHOTTER_HANDLER_MAPPING_X86_64', 'qemu'],
  ['SNAPSHOTTER_HANDLER_MAPPING_X86_64', 'qemu:nydus,qemu:erofs'],
  ['SNAPSHOTTER_HANDLER_MAPPING_X86_64', 'fc:nydus'],
  ['PULL_TYPE_MAPPING_X86_64', 'qemu:fast-pull'],
  ['EXPERIMENTAL_FORCE_GUEST_PULL_X86_64', 'clh'],
  ['ALLOWED_HYPERVISOR_ANNOTATIONS_X86_64', 'fc:default_vcpus'],
  ['ALLOWED_HYPERVISOR_ANNOTATIONS_X86_64', 'bad"name'],
  ['AGENT_HTTPS_PROXY', 'http://a b'],
  ['AGENT_HTTPS_PROXY', 'clh=http://p:3128'],
  ['AGENT_NO_PROXY', 'qemu=a";b'],
  ['EXPERIMENTAL_SETUP_SNAPSHOTTER', 'overlayfs'],
  ['SNAPSHOTTER_DATA_POLICY', 'wipe'],
  ['MULTI_INSTALL_SUFFIX', '..'],
  ['MULTI_INSTALL_SUFFIX', 'a/b'],
  ['MULTI_INSTALL_SUFFIX', 'a"b'],
  ['MULTI_INSTALL_SUFFIX', 'a\nb'],
  ['MULTI_INSTALL_SUFFIX', 'a b'],
  ['MULTI_INSTALL_SUFFIX', 'a]b'],
  ['MULTI_INSTALL_SUFFIX', 'a%ib'],
  ['INSTALLATION_PREFIX', 'relative/path'],
  ['INSTALLATION_PREFIX', '/a/../b'],
  ['INSTALLATION_PREFIX', '/a b'],
  ['INSTALLATION_PREFIX', '/a"b'],
  ['INSTALLATION_PREFIX', '/'],
  ['CONTAINERD_CONFIG_FILE_NAME', '../config.toml'],
  ['CONTAINERD_CONFIG_FILE_NAME', 'sub/config.toml'],
  ['CONTAINERD_CONFIG_FILE_NAME', '..'],
  ['CONTAINERD_CONFIG_FILE_NAME', '.'],
  ['K8S_DISTRIBUTION', 'openshift'],
  ['CONTAINER_RUNTIME_VERSION', 'containerd 1.7'],
  ['NODE_MACHINE_ID', 'xyz'],
  ['HELM_POST_DELETE_HOOK', 'maybe'],
];
