import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import path from 'node:path';

/**
 * The gRPC service definitions (ts-proto style, as nice-grpc takes them) that the installed
 * `modal` SDK itself uses. modal@0.11.1 does not export them, so we load its CommonJS bundle
 * once more as a private module whose source gets one extra line naming the two top-level
 * bindings; nothing of the SDK is copied into this repository and the definitions always match
 * the installed version.
 */

/** One RPC of a ts-proto service definition (the part the fake relies on). */
export interface RpcDefinition {
  name: string;
  requestStream: boolean;
  responseStream: boolean;
  requestType: { decode(input: Uint8Array): unknown; fromPartial(o: unknown): unknown };
  responseType: { encode(message: unknown): { finish(): Uint8Array }; fromPartial(o: unknown): unknown };
}

export interface ServiceDefinition {
  name: string;
  fullName: string;
  methods: Record<string, RpcDefinition>;
}

export interface ModalServiceDefinitions {
  /** `modal.client.ModalClient`: the control plane. */
  modalClient: ServiceDefinition;
  /** `modal.task_command_router.TaskCommandRouter`: exec and file I/O, dialled directly. */
  taskCommandRouter: ServiceDefinition;
}

const EXPORT_LINE =
  '\n;module.exports.__fakeModalDefinitions = { modalClient: ModalClientDefinition, taskCommandRouter: TaskCommandRouterDefinition };\n';

export function loadModalServiceDefinitions(): ModalServiceDefinitions {
  const require = createRequire(import.meta.url);
  const file = require.resolve('modal'); // the "require" export: dist/index.cjs
  const source = readFileSync(file, 'utf8');
  // Module internals (_compile, _nodeModulePaths) are stable in Node but not in @types/node.
  const ModuleCtor = Module as unknown as {
    new (id: string): {
      filename: string;
      paths: string[];
      exports: Record<string, unknown>;
      _compile(src: string, file: string): void;
    };
    _nodeModulePaths(dir: string): string[];
  };
  const mod = new ModuleCtor(file);
  mod.filename = file;
  mod.paths = ModuleCtor._nodeModulePaths(path.dirname(file));
  mod._compile(source + EXPORT_LINE, file);
  const defs = mod.exports.__fakeModalDefinitions as ModalServiceDefinitions | undefined;
  if (!defs?.modalClient?.methods || !defs.taskCommandRouter?.methods) {
    throw new Error(`modal service definitions not found in ${file}: has the SDK bundle changed?`);
  }
  return defs;
}
