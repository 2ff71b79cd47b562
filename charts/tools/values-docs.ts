/**
 * Reads the `## @param path [modifiers] description` comments of a chart's values.yaml (Bitnami style)
 * and generates the README values table and values.schema.json from them, so the three never drift.
 *
 * Modifiers (comma-separated, inside one pair of brackets):
 *   object | array      free-form map / list (the default value's type is used otherwise)
 *   min=N max=N         integer/number bounds      minLength=N    string length
 *   enum=a|b|c          allowed values (an empty alternative allows "")
 *   pattern=REGEX       string pattern              keys=REGEX     pattern of a map's keys
 *   required=a|b        keys a free-form map must have
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export interface Param {
  path: string;
  description: string;
  modifiers: Map<string, string>;
  section: string;
  defaultValue: unknown;
}

type JsonSchema = Record<string, unknown>;

const PARAM = /^\s*## @param (\S+)\s*(.*)$/;
const SECTION = /^\s*## @section (.+)$/;

/** Splits "[a, b=c] text" into modifiers and text; brackets inside a value (a regex) must balance. */
function splitModifiers(rest: string): { modifiers: Map<string, string>; description: string } {
  const modifiers = new Map<string, string>();
  if (!rest.startsWith('[')) return { modifiers, description: rest.trim() };
  let depth = 0;
  let end = -1;
  for (let i = 0; i < rest.length && end < 0; i += 1) {
    if (rest[i] === '[') depth += 1;
    if (rest[i] === ']') depth -= 1;
    if (depth === 0) end = i;
  }
  if (end < 0) throw new Error(`unbalanced modifiers in "${rest}"`);
  for (const part of rest.slice(1, end).split(/,\s*/)) {
    const eq = part.indexOf('=');
    if (eq < 0) modifiers.set(part.trim(), '');
    else modifiers.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return { modifiers, description: rest.slice(end + 1).trim() };
}

export function getPath(values: unknown, dotted: string): unknown {
  let node: unknown = values;
  for (const key of dotted.split('.')) {
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

export function parseParams(valuesText: string): Param[] {
  const values: unknown = YAML.parse(valuesText);
  const params: Param[] = [];
  let section = '';
  for (const line of valuesText.split('\n')) {
    const sectionMatch = SECTION.exec(line);
    if (sectionMatch?.[1]) section = sectionMatch[1].trim();
    const m = PARAM.exec(line);
    if (!m?.[1]) continue;
    const { modifiers, description } = splitModifiers(m[2] ?? '');
    const defaultValue = getPath(values, m[1]);
    if (defaultValue === undefined) throw new Error(`@param ${m[1]} has no value in values.yaml`);
    params.push({ path: m[1], description, modifiers, section, defaultValue });
  }
  return params;
}

/** Dotted paths of every leaf of values.yaml; a map documented as a whole counts as one leaf. */
export function valueLeaves(values: unknown, documented: Set<string>, prefix = ''): string[] {
  if (values === null || typeof values !== 'object' || Array.isArray(values) || documented.has(prefix)) {
    return [prefix];
  }
  return Object.entries(values as Record<string, unknown>).flatMap(([k, v]) =>
    valueLeaves(v, documented, prefix ? `${prefix}.${k}` : k),
  );
}

function leafSchema(p: Param): JsonSchema {
  const mods = p.modifiers;
  const v = p.defaultValue;
  let schema: JsonSchema;
  if (mods.has('object') || (typeof v === 'object' && v !== null && !Array.isArray(v))) schema = { type: 'object' };
  else if (mods.has('array') || Array.isArray(v)) schema = { type: 'array' };
  else if (typeof v === 'number') schema = { type: Number.isInteger(v) ? 'integer' : 'number' };
  else if (typeof v === 'boolean') schema = { type: 'boolean' };
  else schema = { type: 'string' };
  const num = (key: string) => Number(mods.get(key));
  if (mods.has('min')) schema.minimum = num('min');
  if (mods.has('max')) schema.maximum = num('max');
  if (mods.has('minLength')) schema.minLength = num('minLength');
  if (mods.has('pattern')) schema.pattern = mods.get('pattern');
  if (mods.has('enum')) schema.enum = (mods.get('enum') ?? '').split('|');
  if (mods.has('required')) schema.required = (mods.get('required') ?? '').split('|');
  if (mods.has('keys')) schema.propertyNames = { pattern: mods.get('keys') };
  if (mods.has('keys')) schema.additionalProperties = { type: ['string', 'number', 'boolean'] };
  return { description: p.description, ...schema };
}

/** A closed schema: unknown keys are rejected at every documented level, every documented key is required. */
export function generateSchema(params: Param[]): JsonSchema {
  const root: JsonSchema = { $schema: 'http://json-schema.org/draft-07/schema#', title: 'Ledgerflow chart values' };
  const objectNode = (node: JsonSchema): JsonSchema => {
    node.type ??= 'object';
    node.additionalProperties ??= false;
    node.required ??= [];
    node.properties ??= {};
    return node;
  };
  for (const p of params) {
    const keys = p.path.split('.');
    let node = objectNode(root);
    keys.forEach((key, i) => {
      const props = node.properties as Record<string, JsonSchema>;
      (node.required as string[]).push(key);
      if (i === keys.length - 1) props[key] = leafSchema(p);
      else node = objectNode((props[key] ??= {}));
    });
  }
  const dedupe = (node: JsonSchema): void => {
    if (Array.isArray(node.required)) node.required = [...new Set(node.required as string[])];
    for (const child of Object.values((node.properties ?? {}) as Record<string, JsonSchema>)) dedupe(child);
  };
  dedupe(root);
  return root;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The constraints of a value, in words, for the README (e.g. "one of: a, b; ≥ 1"). */
function constraints(p: Param): string {
  const m = p.modifiers;
  const words: string[] = [];
  if (m.has('enum')) words.push(`one of: ${(m.get('enum') ?? '').split('|').map((v) => `\`${JSON.stringify(v)}\``).join(', ')}`);
  if (m.has('min')) words.push(`≥ ${m.get('min')}`);
  if (m.has('max')) words.push(`≤ ${m.get('max')}`);
  if (m.has('minLength')) words.push('not empty');
  if (m.has('pattern')) words.push(`matches \`${m.get('pattern')}\``);
  if (m.has('keys')) words.push(`keys match \`${m.get('keys')}\``);
  if (m.has('required')) words.push(`needs ${(m.get('required') ?? '').split('|').join(' and ')}`);
  return words.length > 0 ? ` (${words.join('; ')})` : '';
}

export function generateTable(params: Param[]): string {
  const out: string[] = [];
  let section = '';
  for (const p of params) {
    if (p.section !== section) {
      section = p.section;
      out.push('', `### ${section}`, '', '| Name | Description | Default |', '| --- | --- | --- |');
    }
    const description = cell(`${p.description}${constraints(p)}`);
    out.push(`| \`${p.path}\` | ${description} | \`${cell(JSON.stringify(p.defaultValue))}\` |`);
  }
  return `${out.join('\n').trim()}\n`;
}

export const README_START = '<!-- values-table:start (generated by charts/tools/sync.ts) -->';
export const README_END = '<!-- values-table:end -->';

export function replaceTable(readme: string, table: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error('README has no values-table markers');
  return `${readme.slice(0, start + README_START.length)}\n\n${table}\n${readme.slice(end)}`;
}

/** What the generated files should contain for a chart directory. */
export function expectedFiles(chartDir: string): Record<string, string> {
  const params = parseParams(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'));
  const readmePath = path.join(chartDir, 'README.md');
  return {
    'values.schema.json': `${JSON.stringify(generateSchema(params), null, 2)}\n`,
    'README.md': replaceTable(fs.readFileSync(readmePath, 'utf8'), generateTable(params)),
  };
}
