import type { ModuleFacts } from '../facts.js';
import { X86_ALTERNATIVE_KVM_BACKENDS } from '../requirements.js';

/** Where a module stands; the first three mean present. */
export type ModuleState = 'loaded' | 'built-in' | 'device' | 'on-disk' | 'not-built' | 'unknown';

export function moduleState(
  name: string,
  config: string,
  modules: ModuleFacts,
  deviceExists: boolean | undefined,
): ModuleState {
  const kconfig = modules.kernelConfig?.get(config);
  if (modules.loaded?.has(name)) return 'loaded';
  // Built-in modules with parameters appear in /sys/module but not in /proc/modules.
  if (modules.sysfs?.has(name)) return 'built-in';
  if (modules.builtin?.has(name) || kconfig === 'y') return 'built-in';
  if (deviceExists) return 'device';
  if (modules.onDisk?.has(name) || kconfig === 'm') return 'on-disk';
  if (modules.kernelConfig !== undefined && (kconfig === undefined || kconfig === 'n')) return 'not-built';
  return 'unknown';
}

export function isPresent(state: ModuleState): boolean {
  return state === 'loaded' || state === 'built-in' || state === 'device';
}

/** An x86 module other than kvm_intel/kvm_amd that provides /dev/kvm (it needs no VMX or SVM). */
export function alternativeKvmBackend(modules: ModuleFacts): string | undefined {
  return X86_ALTERNATIVE_KVM_BACKENDS.find((m) =>
    isPresent(moduleState(m, m.toUpperCase(), modules, undefined)),
  );
}
