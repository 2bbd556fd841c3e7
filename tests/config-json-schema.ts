// The JSON Schema of a kvtier config file, generated from the valibot schemas that validate it
// (the engine's blocks and each built-in adapter's `configSchema`), and where it is published.
// `node --import tsx tests/config-json-schema.ts` writes it; config-schema.test.ts checks the
// committed file is what this generates.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toJsonSchema } from '@valibot/to-json-schema';
import { BUILTIN_ADAPTER_MODULES } from '@kvtier/adapters';
import { adapterModule, configSchema } from '@kvtier/core/authoring';

/** The published file, in `@kvtier/core`'s `files`. */
export const SCHEMA_FILE = fileURLToPath(new URL('../packages/core/schema/kvtier.config.schema.json', import.meta.url));

/** The JSON Schema of the whole config, as the text of the published file. */
export async function generatedConfigSchema(): Promise<string> {
  const blocks = [];
  for (const type of Object.keys(BUILTIN_ADAPTER_MODULES)) {
    const schema = (await adapterModule(type)).configSchema;
    if (schema === undefined) throw new Error(`built-in adapter ${type} exports no configSchema`);
    blocks.push(schema);
  }
  // Checks a JSON Schema cannot say (a registered policy, a reachable URL...) are left to the
  // validators: 'ignore' drops them from the schema instead of failing.
  const schema = toJsonSchema(configSchema(blocks), { errorMode: 'ignore' });
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...schema, title: 'kvtier config', description: 'A kvtier engine config (docs/core/config.md)' }, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeFileSync(SCHEMA_FILE, await generatedConfigSchema());
