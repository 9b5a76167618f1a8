export { Engine, View, CsvStream } from "../pkg/node/phiguard_wasm.js";
export type * from "../pkg/node/phiguard_wasm.js";
