/**
 * The layout follows the data: capture → decode → flow → classify → report, with pipeline composing the stages
 * and the CLI on top. This test reads every import in src/ and fails when one goes against that direction, or
 * when a third-party package is imported anywhere but its one owner module.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Top-level area of a file: its first folder under src/, or the file name for top-level files. */
function areaOf(file: string): string {
  const rel = relative(SRC, file).replaceAll('\\', '/');
  const first = rel.split('/')[0]!;
  return rel.includes('/') ? first : first.replace(/\.ts$/, '');
}

/** Which areas each area may import (besides itself). `types` and `address` are leaves anyone may use. */
const ALLOWED: Record<string, readonly string[]> = {
  types: [],
  address: [],
  capture: ['types'],
  decode: ['types', 'address'],
  flow: ['types', 'address'],
  /** A firewall's rule set (pf.conf) and how it decides one packet: beside flow, which models its memory. */
  policy: ['types', 'address'],
  classify: ['types', 'address', 'flow', 'policy'],
  report: ['types', 'address', 'flow', 'classify', 'policy'],
  pipeline: ['types', 'address', 'capture', 'decode', 'flow', 'policy', 'classify', 'report'],
  cli: ['types', 'address', 'pipeline', 'report'],
  index: ['types', 'address', 'capture', 'decode', 'flow', 'policy', 'classify', 'report', 'pipeline'],
};

/** Areas whose imports of `report`, `flow`, `classify`, `policy` must be type-only (they consume shapes, not behaviour). */
const TYPE_ONLY: Record<string, readonly string[]> = {
  report: ['flow', 'classify', 'policy'],
};

/**
 * Layouts: where each field of a shared record lives, as numeric constants and nothing else. A layout is a shape in
 * numbers, so a type-only area may import it as a value; and it imports nothing, because that is what lets the CLI's
 * bundler replace each constant by its value (scripts/build-bundles.mjs INLINED_LAYOUTS, issue 7).
 */
const LAYOUTS: readonly string[] = ['flow/flow-layout.ts', 'pipeline/ring-layout.ts'];

/**
 * Node built-ins by area, where they are restricted: the report renders strings and never touches files or the
 * process (the CLI writes the `--html` page), so a renderer cannot grow a side effect unnoticed.
 */
const NO_NODE_BUILTINS: readonly string[] = ['report'];

/** The one module allowed to import each third-party package. */
const PACKAGE_OWNERS: Record<string, string> = {
  commander: 'cli/program.ts',
  'cli-table3': 'report/table.ts',
  'date-fns': 'report/time.ts',
  cap: 'capture/live.ts',
};

function listTs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listTs(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

interface ImportRef {
  specifier: string;
  typeOnly: boolean;
}

function importsOf(source: string): ImportRef[] {
  const refs: ImportRef[] = [];
  const pattern = /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const match of source.matchAll(pattern)) {
    const specifier = match[3] ?? match[4];
    if (specifier !== undefined) refs.push({ specifier, typeOnly: match[2] !== undefined });
  }
  return refs;
}

const files = listTs(SRC);

describe('layouts', () => {
  for (const layout of LAYOUTS) {
    it(`${layout} holds numeric constants only and imports nothing`, () => {
      const code = readFileSync(join(SRC, layout), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      const statements = code.split(';').map((s) => s.trim()).filter((s) => s !== '');
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(statement, layout).toMatch(/^export const [A-Z][A-Z0-9_]* = [A-Z0-9_ ()+*\/-]+$/);
      }
    });
  }
});

describe('import direction', () => {
  it('finds the source files', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  for (const file of files) {
    const rel = relative(SRC, file).replaceAll('\\', '/');
    it(`${rel} imports only what its stage may`, () => {
      const area = areaOf(file);
      const allowed = ALLOWED[area];
      expect(allowed, `area '${area}' has no rule in architecture.test.ts`).toBeDefined();
      const problems: string[] = [];
      for (const ref of importsOf(readFileSync(file, 'utf8'))) {
        if (ref.specifier.startsWith('node:')) {
          // node:module in a package's owner module is how that package loads on first use (start-up, issue 7).
          const lazyPackageLoad = ref.specifier === 'node:module' && Object.values(PACKAGE_OWNERS).includes(rel);
          if (NO_NODE_BUILTINS.includes(area) && !lazyPackageLoad) problems.push(`${ref.specifier} (${area} renders strings; only the CLI touches files)`);
          continue;
        }
        if (ref.specifier.startsWith('.')) {
          const target = resolve(dirname(file), ref.specifier.replace(/\.js$/, '.ts'));
          const targetArea = areaOf(target);
          if (targetArea === area) continue;
          if (!allowed!.includes(targetArea)) problems.push(`${ref.specifier} (${area} → ${targetArea})`);
          else if (TYPE_ONLY[area]?.includes(targetArea) && !ref.typeOnly && !LAYOUTS.includes(relative(SRC, target).replaceAll('\\', '/'))) {
            problems.push(`${ref.specifier} (${area} may import only types from ${targetArea})`);
          }
          continue;
        }
        const pkg = ref.specifier.startsWith('@') ? ref.specifier.split('/').slice(0, 2).join('/') : ref.specifier.split('/')[0]!;
        const owner = PACKAGE_OWNERS[pkg];
        if (owner === undefined) problems.push(`${ref.specifier} (package without an owner module)`);
        else if (owner !== rel) problems.push(`${ref.specifier} (only ${owner} may import it)`);
      }
      expect(problems).toEqual([]);
    });
  }

  it('HTML markup is escaped by construction: only markup.ts makes SafeHtml, only the stylesheet goes in raw', () => {
    const problems: string[] = [];
    for (const file of files) {
      const rel = relative(SRC, file).replaceAll('\\', '/');
      if (rel === 'report/html/markup.ts') continue;
      const source = readFileSync(file, 'utf8');
      if (/new SafeHtml\(/.test(source)) problems.push(`${rel} makes SafeHtml directly`);
      for (const match of source.matchAll(/\braw\(([^)]*)\)/g)) {
        if (!(rel === 'report/html/page.ts' && match[1] === 'stylesheet(')) problems.push(`${rel}: raw(${match[1]})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('catches a forbidden import (self-check of the rule)', () => {
    expect(importsOf(`import { x } from '../cli/program.js';\nimport type { Y } from "../flow/table.js";`)).toEqual([
      { specifier: '../cli/program.js', typeOnly: false },
      { specifier: '../flow/table.js', typeOnly: true },
    ]);
    expect(areaOf(join(SRC, 'decode/net/ipv4.ts'))).toBe('decode');
    expect(areaOf(join(SRC, 'types.ts'))).toBe('types');
  });
});
