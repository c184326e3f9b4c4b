// Short names for the wasm's imports. wasm-bindgen names each import after the JS it
// calls plus a 16-digit hash (`__wbg_setAttribute_7b5a…`), and every name is written
// twice in the visitor's download: in the wasm's import section and as a key of the JS
// glue's import object. The hashes do not compress, so both copies cost bytes on every
// page that opens the chat. Binaryen's `--minify-imports` renames only Emscripten's `env`
// imports, hence this small rewrite of the import section (WebAssembly binary format,
// §5.5.5), whose mapping the caller applies to the JS.

/** Reads an unsigned LEB128 at `at`: [value, next offset]. */
function leb(bytes, at) {
  let value = 0, shift = 0, byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

function writeLeb(value) {
  const out = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/** The n-th short name: a, b, …, z, A, …, Z, ba, bb, … (valid JS identifiers). */
export function shortName(n) {
  const digits = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let name = '';
  do {
    name = digits[n % digits.length] + name;
    n = Math.floor(n / digits.length);
  } while (n > 0);
  return name;
}

/** Skips an import's description (func, table, memory, global or tag): the next offset. */
function skipDescription(bytes, at, kind) {
  const limits = (p) => {
    const flags = bytes[p++];
    [, p] = leb(bytes, p);
    if (flags & 1) [, p] = leb(bytes, p);
    return p;
  };
  switch (kind) {
    case 0: return leb(bytes, at)[1]; // function: type index
    case 1: return limits(at + 1); // table: reference type, limits
    case 2: return limits(at); // memory: limits
    case 3: return at + 2; // global: value type, mutability
    case 4: return leb(bytes, at + 1)[1]; // tag: attribute, type index
    default: throw new Error(`unknown import kind ${kind}`);
  }
}

/**
 * Renames every import of `module` to a short name. Returns the new wasm bytes and the
 * mapping {old name: new name}.
 */
export function minifyImports(wasm, module) {
  const bytes = new Uint8Array(wasm);
  const decoder = new TextDecoder(), encoder = new TextEncoder();
  const out = [bytes.subarray(0, 8)];
  const mapping = {};
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, start] = leb(bytes, at + 1);
    const end = start + size;
    if (id !== 2) {
      out.push(bytes.subarray(at, end));
      at = end;
      continue;
    }
    let [count, p] = leb(bytes, start);
    const section = [...writeLeb(count)];
    const str = (q) => {
      const [length, from] = leb(bytes, q);
      return [decoder.decode(bytes.subarray(from, from + length)), from + length];
    };
    for (let i = 0; i < count; i++) {
      let from, name;
      [from, p] = str(p);
      [name, p] = str(p);
      const kind = bytes[p];
      const next = skipDescription(bytes, p + 1, kind);
      if (from === module) {
        mapping[name] ??= shortName(Object.keys(mapping).length);
        name = mapping[name];
      }
      for (const text of [from, name]) {
        const encoded = encoder.encode(text);
        section.push(...writeLeb(encoded.length), ...encoded);
      }
      section.push(...bytes.subarray(p, next));
      p = next;
    }
    if (p !== end) throw new Error('the import section did not read to its end');
    out.push(Uint8Array.of(2, ...writeLeb(section.length), ...section));
    at = end;
  }
  const joined = new Uint8Array(out.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of out) {
    joined.set(part, offset);
    offset += part.length;
  }
  return { wasm: joined, mapping };
}
