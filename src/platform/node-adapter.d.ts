// tsc finds no types for comlink's ESM node adapter (its .d.ts is read as
// CommonJS); platform.node.ts casts the export to its real signature.
declare module "comlink/dist/esm/node-adapter.mjs" {
  const nodeEndpoint: unknown;
  export default nodeEndpoint;
}
