// The detection corpus (tests/detect/*.toml, format in its README.md) through the WASM
// package's Engine.detect: the same cases as core/tests/detect.rs, read with UTF-16 indices.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "smol-toml";
import { Engine } from "phiguard";

const dir = new URL("../../tests/detect/", import.meta.url).pathname;
const files = readdirSync(dir).filter((f) => f.endsWith(".toml")).sort();
const engine = new Engine();
const KEYS = new Set(["text", "spans", "absent"]);

test("there is a corpus", () => assert.ok(files.length > 0));

for (const file of files) {
  test(`detect corpus ${file}`, () => {
    const cases = parse(readFileSync(join(dir, file), "utf8")).case;
    assert.ok(Array.isArray(cases) && cases.length > 0, `${file}: no cases`);
    cases.forEach((c, i) => {
      const at = `${file} case ${i + 1} (${JSON.stringify(c.text)})`;
      for (const k of Object.keys(c)) assert.ok(KEYS.has(k), `${at}: unknown key ${k}`);
      assert.ok(c.spans !== undefined || c.absent?.length, `${at}: says neither spans nor absent`);
      const found = engine
        .detect(c.text)
        .map((s) => ({ category: s.category, value: c.text.slice(s.start, s.end) }));
      // smol-toml's tables have no prototype; compare as plain objects.
      if (c.spans !== undefined) {
        const spans = c.spans.map((s) => {
          for (const k of Object.keys(s)) assert.ok(k === "category" || k === "value", `${at}: span key ${k}`);
          return { category: s.category, value: s.value };
        });
        assert.deepEqual(found, spans, at);
      }
      for (const a of c.absent ?? []) {
        assert.ok(a.category !== undefined || a.value !== undefined, `${at}: empty absent entry`);
        const hit = found.find(
          (f) => (a.category === undefined || f.category === a.category) && (a.value === undefined || f.value === a.value),
        );
        assert.equal(hit, undefined, `${at}: must not find ${JSON.stringify(hit)}`);
      }
    });
  });
}
