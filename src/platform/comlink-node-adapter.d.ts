// comlink ships this adapter's types as a CommonJS .d.ts next to an ES module;
// this declares the module as it really is (a default-exported function).
declare module "comlink/dist/esm/node-adapter.mjs" {
  import type { Endpoint } from "comlink";
  interface NodeEndpoint {
    // biome-ignore lint/suspicious/noExplicitAny: mirrors comlink's own declaration.
    postMessage(message: any, transfer?: any[]): void;
    on(type: string, listener: (value: unknown) => void): void;
    off(type: string, listener: (value: unknown) => void): void;
    start?: () => void;
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
