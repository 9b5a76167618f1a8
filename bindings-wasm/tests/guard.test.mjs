// The trap guard: a WebAssembly.RuntimeError (what a Rust panic becomes in the browser build)
// reaches callers as a PhiguardError with code "internal", and the instance refuses later calls.
import assert from "node:assert/strict";
import { test } from "node:test";
import { guard } from "../js/guard.js";

function fakeModule() {
  class Engine {
    constructor(trap) {
      if (trap) throw new WebAssembly.RuntimeError("unreachable");
    }
    view() {
      return "view";
    }
    get roles() {
      return ["coder"];
    }
  }
  class View {
    apply(record) {
      if (record.trap) throw new WebAssembly.RuntimeError("unreachable");
      if (record.bad) {
        const e = new Error("input error");
        e.name = "PhiguardError";
        e.code = "input";
        throw e;
      }
      return record;
    }
  }
  class CsvStream {}
  return { Engine, View, CsvStream };
}

test("a trap becomes an internal PhiguardError and poisons the instance", () => {
  const m = guard(fakeModule());
  const e = new m.Engine(false);
  assert.equal(e.view(), "view");
  assert.deepEqual(e.roles, ["coder"]);
  const v = new m.View();
  assert.deepEqual(v.apply({ a: 1 }), { a: 1 });
  // Ordinary errors pass through unchanged and do not poison.
  assert.throws(() => v.apply({ bad: true }), (err) => err.code === "input");
  assert.deepEqual(v.apply({ a: 2 }), { a: 2 });
  assert.throws(() => v.apply({ trap: true }), (err) =>
    err.name === "PhiguardError" && err.code === "internal" && err.location === null);
  assert.throws(() => v.apply({ a: 3 }), (err) => err.code === "internal");
  assert.throws(() => e.view(), (err) => err.code === "internal");
});

test("a trap in a constructor is caught too", () => {
  const m = guard(fakeModule());
  assert.throws(() => new m.Engine(true), (err) => err.code === "internal");
  assert.ok(!(new Error() instanceof m.Engine));
});
