export { Engine, View, CsvStream } from "../pkg/web/phiguard_wasm.js";
export type * from "../pkg/web/phiguard_wasm.js";
/** Loads the WebAssembly module (from next to this file unless a URL or bytes are given). */
export default function init(input?: string | URL | Request | BufferSource | WebAssembly.Module): Promise<void>;
