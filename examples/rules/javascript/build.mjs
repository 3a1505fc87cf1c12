// Build rule.js (and the modules it imports) into a component of the world
// `rules` (every hook), or the one named.
//
//   node build.mjs [--wit PATH] [--world NAME] [--out FILE] [--no-wasi]
//
// Defaults: the WIT of rules-sdk (../../../rules-sdk/wit from this file) and
// rule.wasm next to this file. --no-wasi leaves out the WASI features
// componentize-js can do without (stdio, random, clocks, http): the component
// then imports less WASI (see docs/rules-in-other-languages.md).
//
// This calls componentize-js directly: `jco componentize` 1.35.0 fails with
// "failed to get path metadata" (a jco bug), the library call does not.
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const { values } = parseArgs({
  options: {
    wit: { type: 'string', default: here('../../../rules-sdk/wit') },
    world: { type: 'string', default: 'rules' },
    out: { type: 'string', default: here('./rule.wasm') },
    'no-wasi': { type: 'boolean', default: false },
  },
});

const started = performance.now();
const { component } = await componentize({
  sourcePath: here('./rule.js'),
  witPath: values.wit,
  worldName: values.world,
  disableFeatures: values['no-wasi'] ? ['stdio', 'random', 'clocks', 'http', 'fetch-event'] : [],
});
await writeFile(values.out, component);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`built ${values.out}: ${component.length} bytes in ${seconds} s`);
