// Parses each AsyncAPI document given with @asyncapi/parser, the AsyncAPI initiative's own
// parser (schema validation plus its rules); exits non-zero when any has an error or a
// warning.
import { Parser } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';

const parser = new Parser();
let invalid = 0;
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(readFileSync(file, 'utf8'), { source: file });
  // Severity 0 is an error, 1 a warning; hints and information are left out.
  const problems = diagnostics.filter((d) => d.severity <= 1);
  for (const d of problems) {
    const level = d.severity === 0 ? 'error' : 'warning';
    console.log(`${file}: ${level} ${d.code}: ${d.message} at ${d.path.join('.')}`);
  }
  if (!document || problems.length > 0) {
    invalid += 1;
    console.log(`${file}: INVALID`);
  } else {
    console.log(`${file}: OK`);
  }
}
process.exit(invalid > 0 ? 1 : 0);
