/**
 * The house shape of a subgraph lives in one place, `scripts/templates/subgraph/`: a tree of
 * `.tmpl` files (the suffix keeps the type-checker, the linter and vitest away from them) whose
 * paths and contents hold `{{placeholders}}`. Rendering is pure: it returns the files to write.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/subgraph/', import.meta.url));

/** The headings of every subgraph's README, in this order (a unit test holds every README to them). */
export const README_HEADINGS = ['Owns', 'Contributes to others', 'Produces', 'Consumes', 'Needs', 'Jobs', 'Gotchas', 'Checking it'] as const;

const PLACEHOLDER = /\{\{([a-zA-Z-]+)\}\}/g;

/**
 * What the placeholders stand for. The entity is a placeholder too (`<Name>Item`): its author
 * renames it, and a name derived from the subgraph's cannot clash with another subgraph's type.
 */
export function placeholders(name: string, port: number, now: Date): Record<string, string> {
  const Name = name[0]!.toUpperCase() + name.slice(1);
  return {
    name,
    Name,
    port: String(port),
    Type: `${Name}Item`,
    type: `${name}Item`,
    'type-file': `${name}-item`,
    table: `${name}_items`,
    // TypeORM orders migrations by the 13-digit timestamp at the end of their class name.
    timestamp: String(now.getTime()),
  };
}

export interface RenderedFile {
  /** Relative to the subgraph's folder, with `/` separators. */
  path: string;
  content: string;
}

function fill(text: string, values: Record<string, string>, where: string): string {
  return text.replace(PLACEHOLDER, (match, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`Unknown placeholder ${match} in ${where}`);
    return value;
  });
}

/** Every template file under `templateDir`, in a stable order. */
async function templateFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** The subgraph's files, rendered from the template tree. */
export async function renderTemplates(values: Record<string, string>, templateDir = TEMPLATE_DIR): Promise<RenderedFile[]> {
  const files: RenderedFile[] = [];
  for (const file of await templateFiles(templateDir)) {
    const templatePath = relative(templateDir, file).split(sep).join('/');
    if (!templatePath.endsWith('.tmpl')) throw new Error(`${templatePath} in ${templateDir} is not a template (templates end in .tmpl)`);
    files.push({
      path: fill(templatePath.slice(0, -'.tmpl'.length), values, templatePath),
      content: fill(await readFile(file, 'utf8'), values, templatePath),
    });
  }
  return files;
}
