// The JS API: views, CSV streaming, explain, free text, errors, audit events.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Engine } from "phiguard";

const sample = readFileSync(new URL("../../tests/data/patients.csv", import.meta.url));
const engine = new Engine();
const KEY = "phiguard-key-v1:" + "0123456789abcdef".repeat(4);

test("billing analyst sees SSNs masked", () => {
  const view = engine.view({ role: "billing_analyst", purpose: "HPAYMT", catalog: "synthea-patients" });
  const out = view.apply({ ssn: "999-53-8547", gender: "male", favourite: "blue" });
  assert.deepEqual(out, { ssn: "***-**-8547", gender: "male", favourite: null });
});

test("applyMany keeps order and pseudonyms are stable", () => {
  const view = engine.view({ role: "coder", purpose: "HOPERAT", catalog: "synthea-patients", key: KEY });
  const out = view.applyMany([{ id: "p1" }, { id: "p2" }, { id: "p1" }]);
  assert.equal(out.length, 3);
  assert.equal(out[0].id, out[2].id);
  assert.notEqual(out[0].id, out[1].id);
  assert.match(out[0].id, /^pid-/);
  assert.ok(view.keyId.length === 16);
});

test("CSV stream cut anywhere equals the whole-text path", () => {
  const view = engine.view({ role: "data_analyst", purpose: "HRESCH", catalog: "synthea-patients", asOfYear: 2026 });
  const whole = view.deidentifyCsv(sample.toString("utf8"));
  for (const size of [1, 13, 4096, 1 << 20]) {
    const s = view.csvStream("patients.csv");
    const parts = [];
    for (let i = 0; i < sample.length; i += size) parts.push(s.push(sample.subarray(i, i + size)));
    parts.push(s.finish());
    assert.equal(Buffer.concat(parts).toString("utf8"), whole, `slices of ${size}`);
    assert.equal(s.summary.rows, 1144);
  }
  const ssns = sample.toString("utf8").split("\n").slice(1, 20).map((l) => l.split(",")[2]);
  for (const ssn of ssns) if (ssn) assert.ok(!whole.includes(ssn));
});

test("explain names treatments and policies", () => {
  const view = engine.view({ role: "billing_analyst", purpose: "HPAYMT", catalog: "synthea-patients" });
  const rows = view.explain();
  const ssn = rows.find((r) => r.field === "ssn");
  assert.equal(ssn.treatment, "mask");
  assert.ok(ssn.policies.length > 0);
  assert.ok(rows.every((r) => r.reason.length > 0));
});

test("detect gives JS string indices, categories and detectors", () => {
  // Characters outside the BMP before the spans: indices are UTF-16 code units.
  const note = "𝒳 Émile — Pt Mr. John Smith, SSN 123-45-6789, call 617-555-0123.";
  const spans = new Engine().detect(note);
  const found = spans.map((s) => [s.category, note.slice(s.start, s.end)]);
  assert.deepEqual(found.filter(([c]) => c !== "name"), [["ssn", "123-45-6789"], ["phone", "617-555-0123"]]);
  assert.ok(found.some(([c, v]) => c === "name" && v === "John Smith"), JSON.stringify(found));
  assert.ok(spans.every((s) => s.confidence > 0 && s.confidence <= 1 && s.detector));
});

test("scrubText follows the role", () => {
  const note = "Pt Mr. John Smith, SSN 123-45-6789, seen 03/04/2024.";
  const analyst = engine.view({ role: "data_analyst", purpose: "HRESCH", catalog: "free-text", asOfYear: 2026 });
  assert.equal(analyst.scrubText(note), "Pt Mr. [NAME], SSN [SSN], seen 2024.");
  const physician = engine.view({ role: "physician", purpose: "TREAT", catalog: "free-text" });
  assert.equal(physician.scrubText(note), note);
});

test("scrubText finds the record's own values", () => {
  const view = engine.view({ role: "data_analyst", purpose: "HRESCH", catalog: "encounters", asOfYear: 2026 });
  const note = "quarrie called about zk7781 from 555.010.4477";
  assert.equal(view.scrubText(note), note.replace("555.010.4477", "[PHONE]"));
  const record = { patient_name: "Oswin Quarrie", account: ["ZK7781", "A-2"], phone: "555-010-4477" };
  assert.equal(view.scrubText(note, record), "[NAME] called about [ACCOUNT] from [PHONE]");
  assert.throws(() => view.scrubText(note, { nickname: "Ossie" }), (e) => e.code === "request" && !e.message.includes("Ossie"));
  assert.throws(() => view.scrubText(note, { name: 4471 }), (e) => e.code === "request" && !e.message.includes("4471"));
});

test("applyFhir treats a Bundle in one run, references intact", () => {
  const view = engine.view({ role: "data_analyst", purpose: "HRESCH", catalog: "fhir", asOfYear: 2026 });
  const bundle = {
    resourceType: "Bundle", type: "collection",
    entry: [
      { fullUrl: "urn:uuid:5d6d1f0e-0000-4000-8000-000000000001",
        resource: { resourceType: "Patient", id: "5d6d1f0e-0000-4000-8000-000000000001",
          name: [{ family: "Quarrie", given: ["Oswin"] }], birthDate: "1980-04-02", gender: "male" } },
      { fullUrl: "urn:uuid:5d6d1f0e-0000-4000-8000-000000000002",
        resource: { resourceType: "Observation", id: "5d6d1f0e-0000-4000-8000-000000000002", status: "final",
          code: { coding: [{ system: "http://loinc.org", code: "8302-2" }] },
          subject: { reference: "urn:uuid:5d6d1f0e-0000-4000-8000-000000000001", display: "Oswin Quarrie" },
          valueQuantity: { value: 180, unit: "cm" } } },
    ],
  };
  const out = view.applyFhir(bundle);
  const [p, o] = out.entry.map((e) => e.resource);
  assert.equal(p.name, undefined);
  assert.equal(p.birthDate, "1980");
  assert.equal(o.subject.reference, out.entry[0].fullUrl);
  assert.equal(o.subject.display, undefined);
  assert.deepEqual(o.valueQuantity, { value: 180, unit: "cm" });
  assert.ok(!JSON.stringify(out).includes("Quarrie"));
  assert.throws(() => view.applyFhir({ resourceType: "Pateint", id: "Quarrie" }),
    (e) => e.code === "input" && !e.message.includes("Quarrie"));
});

test("errors are PhiguardError with code and location", () => {
  const expect = (f, code) => assert.throws(f, (e) => e instanceof Error && e.name === "PhiguardError" && e.code === code);
  expect(() => engine.view({ role: "janitor", purpose: "TREAT", catalog: "synthea-patients" }), "request");
  expect(() => engine.view({ role: "physician", purpose: "BTG", catalog: "synthea-patients" }), "request");
  expect(() => engine.view({ purpose: "TREAT", catalog: "synthea-patients" }), "request");
  expect(() => engine.view({ role: "coder", purpose: "HOPERAT", catalog: "synthea-patients", key: "zz" }), "key");
  const coder = engine.view({ role: "coder", purpose: "HOPERAT", catalog: "synthea-patients" });
  expect(() => coder.apply({ id: "p1" }), "key");
  assert.throws(() => new Engine({ policies: ['permit(principal, action, resource) when { context.nope };'] }),
    (e) => e.code === "policy" && e.location.source === "<policies>[0]" && e.location.line === 1);
  assert.throws(() => engine.withCatalog('name = "x"\n[fields]\nssn = { category = "nope" }\n'),
    (e) => e.code === "catalog" && e.location.line === 3);
  const view = engine.view({ role: "physician", purpose: "TREAT", catalog: "synthea-patients" });
  assert.throws(() => view.applyJson('{"ssn":\n}'), (e) => e.code === "input" && e.location.line === 2);
  const cyclic = {};
  cyclic.self = cyclic;
  expect(() => view.apply(cyclic), "input");
  expect(() => view.apply(JSON.parse("[".repeat(500) + "]".repeat(500))), "input");
  const s = view.csvStream("bad.csv");
  s.push(Buffer.from('id,ssn\np1,"open\n'));
  assert.throws(() => s.finish(), (e) => e.code === "input" && e.location.source === "bad.csv");
});

test("audit events are kept for the host and name the released records", () => {
  const view = engine.view({ role: "coder", purpose: "HOPERAT", catalog: "synthea-patients", key: KEY, audit: true, user: "u-1" });
  view.applyMany([{ id: "p1" }, { id: "p2" }]);
  const events = view.takeAuditEvents();
  assert.deepEqual(events.map((e) => e.kind), ["decision", "disclosure"]);
  assert.deepEqual(events[1].records, ["p1", "p2"]);
  assert.match(events[0].time, /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(view.takeAuditEvents(), []);
});

test("the key never shows in errors or objects", () => {
  const secret = "phiguard-key-v1:" + "ab".repeat(31);
  try {
    engine.view({ role: "coder", purpose: "HOPERAT", catalog: "synthea-patients", key: secret });
    assert.fail("a 31-byte key must be refused");
  } catch (e) {
    assert.equal(e.code, "key");
    assert.ok(!e.message.includes("abab"));
  }
  const view = engine.view({ role: "coder", purpose: "HOPERAT", catalog: "synthea-patients", key: KEY });
  assert.ok(!JSON.stringify(view).includes("0123456789abcdef"));
  assert.ok(!String(view).includes("0123456789abcdef"));
});

test("limits are configurable and checked before the work they bound", () => {
  const capped = new Engine({ limits: { maxTextBytes: 32, maxDepth: 4 } });
  assert.equal(capped.limits.maxTextBytes, 32);
  assert.equal(capped.limits.maxDepth, 4);
  assert.equal(capped.limits.maxPolicies, engine.limits.maxPolicies);
  const analyst = capped.view({ role: "data_analyst", purpose: "HRESCH", catalog: "free-text", asOfYear: 2026 });
  assert.equal(analyst.scrubText("short note"), "short note");
  assert.throws(() => analyst.scrubText("a note that is longer than thirty-two bytes"), {
    name: "PhiguardError",
    code: "input",
  });
  const physician = capped.view({ role: "physician", purpose: "TREAT", catalog: "fhir-patient" });
  assert.throws(() => physician.apply({ a: { b: { c: { d: { e: {} } } } } }), { code: "input" });
  assert.throws(() => new Engine({ limits: { maxPolicies: 1 } }), { code: "policy" });
  assert.throws(() => new Engine({ limits: { maxDepth: 0 } }), { code: "request" });
  assert.throws(() => new Engine({ limits: { maxRows: 5 } }), { code: "request" });
  const small = new Engine({ limits: { maxRecordBytes: 4096 } });
  assert.equal(small.limits.maxRecordBytes, 4096);
  const stream = small.view({ role: "billing_analyst", purpose: "HPAYMT", catalog: "synthea-patients" }).csvStream("q.csv");
  const openQuote = new TextEncoder().encode('Id,SSN\np1,"' + "x".repeat(10000));
  assert.throws(() => stream.push(openQuote), { code: "input" });
});
