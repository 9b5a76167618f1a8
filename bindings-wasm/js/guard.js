// Keeps wasm traps from reaching callers. The browser build aborts on a Rust panic (a bug: the
// core denies panics by lint), which surfaces in JS as a WebAssembly.RuntimeError. Here it
// becomes a PhiguardError with code "internal", and the instance is marked poisoned (its memory
// may be inconsistent), so every later call fails the same way instead of computing garbage.

function internal(message) {
  const err = new Error(message);
  err.name = "PhiguardError";
  err.code = "internal";
  err.location = null;
  err.entry = null;
  return err;
}

export function guard(mod) {
  let poisoned = false;
  const call = (f, self, args) => {
    if (poisoned) {
      throw internal("internal error: an earlier call hit a bug; reload phiguard");
    }
    try {
      return f.apply(self, args);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        poisoned = true;
        throw internal("internal error: phiguard hit a bug and stopped; nothing was released");
      }
      throw e;
    }
  };
  const out = { ...mod };
  for (const name of ["Engine", "View", "CsvStream"]) {
    const cls = mod[name];
    for (const key of Object.getOwnPropertyNames(cls.prototype)) {
      if (key === "constructor") continue;
      const d = Object.getOwnPropertyDescriptor(cls.prototype, key);
      if (typeof d.value === "function") {
        const f = d.value;
        d.value = function (...args) {
          return call(f, this, args);
        };
      }
      if (d.get) {
        const g = d.get;
        d.get = function () {
          return call(g, this, []);
        };
      }
      Object.defineProperty(cls.prototype, key, d);
    }
    out[name] = new Proxy(cls, {
      construct(target, args, newTarget) {
        return call(() => Reflect.construct(target, args, newTarget), null, []);
      },
    });
  }
  return out;
}
