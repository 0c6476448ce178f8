import t from 'tap';
import { readFileSync } from 'node:fs';
// @ts-expect-error: a plain .mjs build script without types
import { generate, OUT } from '../../ui/build.mjs';

t.test('src/dashboard/assets.generated.ts is up to date with ui/ (run: node packages/proxy/ui/build.mjs)', async (t) => {
  t.equal(readFileSync(OUT as string, 'utf8'), (generate as () => string)());
});
