// Compiled by `tsc --noEmit` in CI: the generated declarations must describe the API as used.
import { Engine, type ExplainRow, type Limits, type PhiguardError, type ViewRequest } from "phiguard";

const engine: Engine = new Engine();
const request: ViewRequest = {
  role: "billing_analyst",
  purpose: "HPAYMT",
  catalog: "synthea-patients",
  asOfYear: 2026,
};
const view = engine.view(request);
const out: Record<string, unknown> = view.apply({ ssn: "999-53-8547" });
const many: Record<string, unknown>[] = view.applyMany([{ ssn: "999-53-8547" }]);
const rows: ExplainRow[] = view.explain({ labels: ["PSY"] });
const text: string | undefined = view.scrubText("Seen by Dr. Smith") ?? undefined;
const stream = view.csvStream("in.csv");
const bytes: Uint8Array = stream.push(new TextEncoder().encode("ssn\n"));
stream.finish();
const roles: string[] = engine.roles;
const capped = new Engine({ limits: { maxTextBytes: 1 << 16 } });
const limits: Limits = capped.limits;
const maxDepth: number | undefined = limits.maxDepth;
void maxDepth;
try {
  engine.view({ role: "nobody", purpose: "TREAT", catalog: "synthea-patients" });
} catch (e) {
  const err = e as PhiguardError;
  const code: "policy" | "catalog" | "request" | "input" | "key" | "audit" | "io" | "internal" =
    err.code;
  const line: number | undefined = err.location?.line;
  void code;
  void line;
}
void out;
void many;
void rows;
void text;
void bytes;
void roles;
