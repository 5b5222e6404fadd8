import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { README_HEADINGS, TEMPLATE_DIR } from './templates';

/**
 * Every subgraph's README has the same sections in the same order, so a reader finds what a
 * subgraph owns, produces or needs in the same place in each; the generator's template too.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const headingsOf = (markdown: string) =>
  markdown
    // Code blocks may hold lines starting with ##.
    .replace(/^```[\s\S]*?^```/gm, '')
    .split('\n')
    .filter((line) => line.startsWith('## '))
    .map((line) => line.slice(3).trim());

const readmes = readdirSync(join(ROOT, 'subgraphs'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
  .map((entry) => `subgraphs/${entry.name}/README.md`);

describe('subgraph READMEs', () => {
  it('there is one for every subgraph', () => {
    expect(readmes.length).toBeGreaterThanOrEqual(2);
    for (const readme of readmes) expect(existsSync(join(ROOT, readme)), readme).toBe(true);
  });

  it.each(readmes)('%s has exactly the fixed headings, in order', (readme) => {
    expect(headingsOf(readFileSync(join(ROOT, readme), 'utf8'))).toEqual(README_HEADINGS);
  });

  it('the generator’s template has them too', () => {
    expect(headingsOf(readFileSync(join(TEMPLATE_DIR, 'README.md.tmpl'), 'utf8'))).toEqual(README_HEADINGS);
  });
});
