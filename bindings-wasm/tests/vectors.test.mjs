// The cross-runtime vectors in tests/vectors/: byte-identical to the Rust and Python runners.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Engine } from "phiguard";

const dir = new URL("../../tests/vectors/", import.meta.url).pathname;
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
const engine = new Engine();

test("there are vectors", () => assert.ok(files.length >= 8));

for (const file of files) {
  test(`vector ${file}`, () => {
    const vf = JSON.parse(readFileSync(join(dir, file), "utf8"));
    assert.equal(vf.pack, "default");
    const r = vf.request;
    const view = engine.view({
      roles: r.roles,
      purpose: r.purpose,
      user: r.user,
      catalog: r.catalog,
      operation: r.operation,
      breakGlassReason: r.break_glass_reason ?? undefined,
      department: r.department ?? undefined,
      asOfYear: r.as_of_year,
      key: vf.key_hex ?? undefined,
    });
    const fhir = vf.catalog === "fhir";
    const applyJson = (t) => (fhir ? view.applyFhirJson(t) : view.applyJson(t));
    const apply = (o) => (fhir ? view.applyFhir(o) : view.apply(o));
    for (const c of vf.cases) {
      const input = JSON.stringify(c.input);
      if (c.error_code) {
        assert.throws(() => applyJson(input), (e) => e.code === c.error_code, c.name);
        continue;
      }
      // serde_json's compact form is JSON.stringify's: same order, same escapes.
      assert.equal(applyJson(input), JSON.stringify(c.expected), `${vf.name} / ${c.name}`);
      assert.deepEqual(apply(c.input), c.expected, `${vf.name} / ${c.name}`);
    }
  });
}
