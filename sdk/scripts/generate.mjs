// Generates the SDK's typed views of two checked-in artefacts:
//   src/generated/relayer-api.ts  the relayer's paths and schemas (openapi-typescript),
//                                 from api/openapi.json;
//   src/generated/idl.ts          the program's Anchor IDL as a typed constant, from
//                                 idl/micropay.json.
// With --check, fails when a checked-in file is not what its source generates.

import { readFileSync, writeFileSync } from 'node:fs';

import openapiTS, { astToString } from 'openapi-typescript';

const read = (path) => readFileSync(new URL(path, import.meta.url), 'utf8');
const banner = (source) =>
  `// Generated from ${source} by sdk/scripts/generate.mjs. Do not edit: run\n` +
  '// `npm run generate` after it changes.\n\n';

const outputs = {
  '../src/generated/relayer-api.ts':
    banner('api/openapi.json') + astToString(await openapiTS(JSON.parse(read('../../api/openapi.json')))),
  '../src/generated/idl.ts':
    banner('idl/micropay.json') +
    `export const IDL = ${JSON.stringify(JSON.parse(read('../../idl/micropay.json')), null, 2)} as const;\n`,
};

const stale = [];
for (const [path, text] of Object.entries(outputs)) {
  const url = new URL(path, import.meta.url);
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(url, 'utf8');
    } catch {}
    if (current !== text) stale.push(path.replace('../', 'sdk/'));
  } else {
    writeFileSync(url, text);
  }
}
if (stale.length) {
  console.error(`stale: ${stale.join(', ')}; run \`npm run generate\` in sdk/`);
  process.exit(1);
}
