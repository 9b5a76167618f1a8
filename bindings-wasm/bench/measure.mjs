// Shared by the Node and the Chromium runs of the benchmark: no Node or browser APIs here.

const KEY = "phiguard-key-v1:" + "2a".repeat(32);

export function records(csvText, n) {
  const lines = csvText.trim().split("\n");
  const head = lines[0].split(",");
  const base = lines.slice(1).map((l) => l.split(","));
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = {};
    const cells = base[i % base.length];
    head.forEach((h, k) => (r[h] = cells[k] ?? ""));
    r.id = r.mrn = `${i.toString(16).padStart(8, "0")}-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;
    out.push(r);
  }
  return out;
}

export function measure(Engine, rows) {
  const engine = new Engine();
  const result = {};
  for (const [role, purpose] of [["data_analyst", "HRESCH"], ["coder", "HOPERAT"]]) {
    const view = engine.view({ role, purpose, catalog: "synthea-patients", key: KEY, asOfYear: 2026 });
    view.applyMany(rows.slice(0, 1000));
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      view.applyMany(rows);
      best = Math.min(best, performance.now() - t);
    }
    result[role] = Math.round(rows.length / (best / 1000));
  }
  return result;
}
