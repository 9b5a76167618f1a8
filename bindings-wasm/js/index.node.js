// Node entry point: the nodejs build loads its .wasm synchronously.
import { createRequire } from "node:module";
import { guard } from "./guard.js";

const raw = guard(createRequire(import.meta.url)("../pkg/node/phiguard_wasm.js"));
export const { Engine, View, CsvStream } = raw;
