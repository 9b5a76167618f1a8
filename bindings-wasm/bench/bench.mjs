// records/s of view.applyMany on 100,000 sample rows, in Node and in headless Chromium.
// Compare with the native figure: `cargo bench -p phiguard --features arrow -- json_records`.
// Run: node bench/bench.mjs [--rows 100000] [--no-browser]
import { readFileSync } from "node:fs";
import { Engine } from "phiguard";
import { measure, records } from "./measure.mjs";

const args = process.argv.slice(2);
const ROWS = Number(args[args.indexOf("--rows") + 1] || 100_000) || 100_000;

const BROWSER_PAGE = `
<!doctype html><meta charset="utf-8"><script type="module">
import init, { Engine } from "/js/index.web.js";
import { records, measure } from "/bench/measure.mjs";
await init();
const csv = await (await fetch("/data/patients.csv")).text();
window.result = measure(Engine, records(csv, ROWS));
</script>`;

async function inChromium() {
  const { browser, serve } = await import("../tests/server.mjs");
  const server = await serve();
  const context = await browser();
  try {
    const page = await context.newPage();
    await page.route("**/bench/page.html", (route) =>
      route.fulfill({ contentType: "text/html", body: BROWSER_PAGE.replace("ROWS", String(ROWS)) }));
    await page.goto(`${server.url}/bench/page.html`);
    await page.waitForFunction(() => window.result, null, { timeout: 600_000 });
    return await page.evaluate(() => window.result);
  } finally {
    await context.close();
    server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const csv = readFileSync(new URL("../../tests/data/patients.csv", import.meta.url), "utf8");
  const rows = records(csv, ROWS);
  const node = measure(Engine, rows);
  console.log(`applyMany, ${ROWS} records (records/s, 1 core)`);
  console.log(`  node      data_analyst ${node.data_analyst.toLocaleString("en")}  coder ${node.coder.toLocaleString("en")}`);
  if (!args.includes("--no-browser")) {
    const web = await inChromium();
    console.log(`  chromium  data_analyst ${web.data_analyst.toLocaleString("en")}  coder ${web.coder.toLocaleString("en")}`);
  }
}
