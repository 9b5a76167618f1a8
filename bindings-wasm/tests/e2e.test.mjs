// End to end in headless Chromium: the browser app de-identifies the sample CSV as a
// researcher; the preview and the downloaded file carry none of the input's identifiers.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { browser, serve } from "./server.mjs";

const SAMPLE = readFileSync(new URL("../../tests/data/patients.csv", import.meta.url), "utf8");
const ARTEFACTS = new URL("../../target/e2e/", import.meta.url).pathname;
let server;
let context;

before(async () => {
  server = await serve();
  context = await browser();
});
after(async () => {
  await context?.close();
  server?.close();
});

function identifiers() {
  const lines = SAMPLE.trim().split("\n");
  const head = lines[0].split(",");
  const col = (name) => head.indexOf(name);
  const out = { ssn: [], phone: [], given: [], family: [] };
  for (const line of lines.slice(1, 21)) {
    const cells = line.split(",");
    for (const k of Object.keys(out)) if (cells[col(k)]) out[k].push(cells[col(k)]);
  }
  return out;
}

test("researcher: preview and download hold no SSN, phone or name", async () => {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${server.url}/app/index.html`);
  await page.waitForSelector("body[data-ready='1']");
  await page.setInputFiles("#file", new URL("../../tests/data/patients.csv", import.meta.url).pathname);
  await page.waitForSelector("#preview table");
  assert.equal(await page.inputValue("#role"), "researcher");
  const preview = await page.textContent("#preview");
  const ids = identifiers();
  for (const [kind, values] of Object.entries(ids)) {
    assert.ok(values.length > 0, kind);
    for (const v of values) assert.ok(!preview.includes(v), `${kind} ${v} in the preview`);
  }
  const ssnHeader = await page.getAttribute("th:has-text('ssn')", "data-treatment");
  assert.equal(ssnHeader, "redact");
  mkdirSync(ARTEFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTEFACTS}/app.png`, fullPage: false });
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const path = `${ARTEFACTS}/patients.deidentified.csv`;
  await download.saveAs(path);
  const out = readFileSync(path, "utf8");
  assert.equal(out.trim().split("\n").length, SAMPLE.trim().split("\n").length);
  for (const [kind, values] of Object.entries(ids)) {
    for (const v of values) assert.ok(!out.includes(v), `${kind} ${v} in the download`);
  }
  assert.match(await page.textContent("#status"), /Done: 1144 records/);
  assert.deepEqual(errors, []);
});

test("a bad key is reported on the page, not thrown away", async () => {
  const page = await context.newPage();
  await page.goto(`${server.url}/app/index.html`);
  await page.waitForSelector("body[data-ready='1']");
  await page.selectOption("#role", "coder");
  await page.fill("#key", "not-a-key");
  await page.setInputFiles("#file", new URL("../../tests/data/patients.csv", import.meta.url).pathname);
  await page.waitForSelector("#status.error");
  assert.match(await page.textContent("#status"), /\[key\]/);
  assert.ok(!(await page.textContent("#status")).includes("not-a-key"));
});
