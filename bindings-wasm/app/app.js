// The browser app: file in, role and purpose picked, preview with each column's treatment and
// deciding policy, de-identified file out. Everything runs in this page.
import init, { Engine } from "../js/index.web.js";

const $ = (id) => document.getElementById(id);
const PREVIEW_ROWS = 20;
const SLICE = 1 << 20;
const USUAL = { physician: "TREAT", nurse: "TREAT", clinician: "TREAT", billing_analyst: "HPAYMT",
  data_analyst: "HRESCH", researcher: "HRESCH", patient: "PATRQT" };

let engine;
let file;

function status(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

function describe(e) {
  return e && e.name === "PhiguardError"
    ? `${e.message}` + (e.code ? ` [${e.code}]` : "")
    : String(e);
}

function makeView(catalog) {
  const key = $("key").value.trim();
  return engine.view({ role: $("role").value, purpose: $("purpose").value, catalog,
    user: "browser-user", key: key || undefined });
}

function parseCsvHead(text) {
  // Only for picking the catalog from the header; the data itself is parsed by the core.
  const line = text.split(/\r?\n/, 1)[0];
  return line.split(",").map((s) => s.replace(/^"|"$/g, ""));
}

async function preview() {
  $("download").disabled = true;
  $("preview").textContent = "";
  if (!file) return;
  try {
    const head = await file.slice(0, 256 * 1024).text();
    const catalog = engine.matchCatalog(parseCsvHead(head));
    const view = makeView(catalog);
    // The first records: cut at the last whole line of the head.
    const lines = head.split("\n");
    const sample = lines.slice(0, Math.min(lines.length - 1, PREVIEW_ROWS + 1)).join("\n") + "\n";
    const out = view.deidentifyCsv(sample);
    const plan = new Map(view.explain().map((r) => [r.field, r]));
    const rows = out.trimEnd().split("\n").map(splitCsvLine);
    const table = document.createElement("table");
    const thead = table.createTHead().insertRow();
    for (const name of rows[0]) {
      const th = document.createElement("th");
      const p = plan.get(name);
      const t = p ? p.treatment : "redact";
      th.innerHTML = "";
      th.append(name);
      const span = document.createElement("span");
      span.className = `t ${t}`;
      span.textContent = t;
      span.title = p ? p.reason : "not in the catalog: redacted";
      th.dataset.treatment = t;
      th.dataset.policies = p ? p.policies.join(" ") : "";
      th.append(span);
      thead.append(th);
    }
    const body = table.createTBody();
    for (const r of rows.slice(1)) {
      const tr = body.insertRow();
      for (const v of r) {
        const td = tr.insertCell();
        if (v === "") td.className = "null";
        td.textContent = v;
      }
    }
    $("preview").append(table);
    status(`${file.name}: catalog ${catalog}; preview of the first ${rows.length - 1} records as ${$("role").value} / ${$("purpose").value}.`);
    $("download").disabled = false;
  } catch (e) {
    status(describe(e), true);
  }
}

function splitCsvLine(line) {
  const out = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { out.push(cur); cur = ""; }
    else cur += c;
  }
  out.push(cur);
  return out;
}

async function download() {
  $("download").disabled = true;
  try {
    const head = await file.slice(0, 256 * 1024).text();
    const view = makeView(engine.matchCatalog(parseCsvHead(head)));
    const stream = view.csvStream(file.name);
    const parts = [];
    for (let at = 0; at < file.size; at += SLICE) {
      const bytes = new Uint8Array(await file.slice(at, at + SLICE).arrayBuffer());
      parts.push(stream.push(bytes));
      status(`Treating ${file.name}: ${Math.min(100, Math.round(((at + SLICE) / file.size) * 100))}%`);
    }
    parts.push(stream.finish());
    const s = stream.summary;
    const url = URL.createObjectURL(new Blob(parts, { type: "text/csv" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = file.name.replace(/\.csv$/i, "") + ".deidentified.csv";
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    status(`Done: ${s.rows} records, ${Object.entries(s.treatments).map(([k, v]) => `${k} ${v}`).join(", ")}.`);
  } catch (e) {
    status(describe(e), true);
  } finally {
    $("download").disabled = false;
  }
}

function choose(f) {
  file = f;
  preview();
}

async function main() {
  await init();
  engine = new Engine();
  for (const r of engine.roles) $("role").append(new Option(r, r));
  for (const p of engine.purposes) $("purpose").append(new Option(p, p));
  $("role").value = "researcher";
  $("purpose").value = USUAL.researcher;
  $("role").addEventListener("change", () => {
    $("purpose").value = USUAL[$("role").value] ?? "HOPERAT";
    preview();
  });
  $("purpose").addEventListener("change", preview);
  $("key").addEventListener("change", preview);
  $("file").addEventListener("change", (e) => choose(e.target.files[0]));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files[0]) choose(e.dataTransfer.files[0]);
  });
  $("download").addEventListener("click", download);
  status("Ready: choose a CSV file.");
  document.body.dataset.ready = "1";
}

main().catch((e) => status(describe(e), true));
