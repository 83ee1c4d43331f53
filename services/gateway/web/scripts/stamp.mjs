// Records which sources the build came from: a test recomputes the hash and fails when the committed build is stale.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const SKIP = new Set(["node_modules"]);

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? files(path) : [path];
  });
}

// sha256 over "<posix path>\n<sha256 of its bytes>\n" for every file, sorted by path
const lines = files(root)
  .map((path) => relative(root, path).split(sep).join("/"))
  .sort()
  .map((name) => `${name}\n${createHash("sha256").update(readFileSync(join(root, name))).digest("hex")}\n`);
const digest = createHash("sha256").update(lines.join("")).digest("hex");
writeFileSync(join(root, "../gateway/static/build-info.json"), JSON.stringify({ sources_sha256: digest }) + "\n");
console.log(`build-info.json: sources ${digest}`);
