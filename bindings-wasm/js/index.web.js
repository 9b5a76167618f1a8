// Browser entry point: `await init()` (or `init(urlOrBytes)`) once, then use the classes.
import wasmInit, * as raw from "../pkg/web/phiguard_wasm.js";
import { guard } from "./guard.js";

const guarded = guard(raw);
export const { Engine, View, CsvStream } = guarded;

export default async function init(input) {
  await wasmInit(input === undefined ? undefined : { module_or_path: input });
}
