// Which ggml device a model runs on: the user's request ('auto', 'cpu',
// 'vulkan', 'cuda', optionally with an index: 'vulkan:1') resolved against the
// devices the loaded addon found.
import { loadNative, missingBackendMessage, type NativeAddon, type NativeDevice } from './native.js';

/** 'auto' | 'cpu' | 'vulkan' | 'cuda', or a GPU with its index among its backend's devices: 'vulkan:1', 'cuda:0' */
export type DeviceRequest = 'auto' | 'cpu' | 'vulkan' | 'cuda' | `${'vulkan' | 'cuda'}:${number}`;

/** The device used when none is given: TWEETSMITH_DEVICE, else 'auto'. */
export function defaultDevice(): DeviceRequest {
  const fromEnv = process.env.TWEETSMITH_DEVICE;
  return fromEnv ? parseDevice(fromEnv) : 'auto';
}

/** What a device request resolved to, and why (for the CLI's "device:" line). */
export interface ResolvedDevice {
  device: NativeDevice;
  /** how 'auto' chose, or that the device was asked for */
  reason: string;
}

/** Parses "auto", "cpu", "vulkan", "cuda:1" …; throws a clear error otherwise. */
export function parseDevice(value: string): DeviceRequest {
  const m = /^(auto|cpu|vulkan|cuda)(?::(\d+))?$/.exec(value.trim().toLowerCase());
  if (!m || (m[2] !== undefined && (m[1] === 'auto' || m[1] === 'cpu'))) {
    throw new Error(`unknown device "${value}": use auto, cpu, vulkan or cuda, with an index for a GPU if there are several (vulkan:1)`);
  }
  return (m[2] === undefined ? m[1] : `${m[1]}:${Number(m[2])}`) as DeviceRequest;
}

/** "CPU", or a GPU as "Vulkan0 (AMD Radeon RX 7900 XTX)". */
export function describeDevice(d: Pick<NativeDevice, 'backend' | 'name' | 'description'>): string {
  return d.backend === 'cpu' ? 'CPU' : `${d.name} (${d.description})`;
}

/**
 * 'auto' takes, in order: a CUDA GPU, a hardware Vulkan GPU (never a software
 * one such as Mesa's lavapipe unless asked for by name), the CPU.
 */
export function resolveDevice(request: DeviceRequest = defaultDevice(), addon: NativeAddon = loadNative()): ResolvedDevice {
  const checked = parseDevice(request);
  const devices = addon.devices();
  const cpu = devices.find((d) => d.backend === 'cpu');
  if (!cpu) throw new Error('the engine found no CPU device; this build is broken (rebuild with npm run build:native)');
  if (checked === 'cpu') return { device: cpu, reason: 'asked for' };
  if (checked === 'auto') {
    for (const kind of ['cuda', 'vulkan']) {
      const gpu = devices.find((d) => d.backend === kind && !d.software);
      if (gpu) return { device: gpu, reason: `auto: the first ${kind === 'cuda' ? 'CUDA' : 'hardware Vulkan'} GPU` };
    }
    const software = devices.filter((d) => d.software).map(describeDevice);
    return {
      device: cpu,
      reason: software.length > 0 ? `auto: no hardware GPU (passed over the software ${software.join(', ')})` : 'auto: no GPU found',
    };
  }
  const [kind, index = '0'] = checked.split(':') as ['vulkan' | 'cuda', string?];
  if (!addon.buildInfo()[kind]) throw new Error(missingBackendMessage(kind));
  const ofKind = devices.filter((d) => d.backend === kind);
  const device = ofKind.find((d) => d.index === Number(index));
  if (!device) {
    const label = kind === 'cuda' ? 'CUDA' : 'Vulkan';
    const found = ofKind.length === 0 ? `no ${label} device was found` : `the ${label} devices are ${ofKind.map((d) => `${kind}:${d.index} ${describeDevice(d)}`).join(', ')}`;
    const hint =
      kind === 'vulkan' && ofKind.length === 0
        ? ' (is a Vulkan driver installed? ggml skips CPU-emulated devices such as lavapipe unless GGML_VK_VISIBLE_DEVICES lists them)'
        : '';
    throw new Error(`device ${checked}: ${found}${hint}. Use --device auto or cpu.`);
  }
  return { device, reason: 'asked for' };
}

