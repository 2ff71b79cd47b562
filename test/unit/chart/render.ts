/** Renders the chart with the pinned helm and parses every document. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { helm, KUBE_VERSION, REPO_ROOT } from '../../helpers/k8s-tools';

export const CHART_DIR = path.join(REPO_ROOT, 'charts', 'ledgerflow');
export const RELEASE = 'lf';
export const NAMESPACE = 'ledgerflow';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** ci/*-values.yaml: the value profiles that CI renders and validates. */
export function profiles(): string[] {
  return fs
    .readdirSync(path.join(CHART_DIR, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f) => path.join('charts', 'ledgerflow', 'ci', f));
}

export interface RenderOptions {
  valuesFiles?: string[];
  set?: string[];
  setString?: string[];
  chartDir?: string;
}

function templateArgs(opts: RenderOptions): string[] {
  const args = ['template', RELEASE, opts.chartDir ?? CHART_DIR, '--namespace', NAMESPACE, '--kube-version', KUBE_VERSION];
  for (const f of opts.valuesFiles ?? []) args.push('--values', f);
  for (const s of opts.set ?? []) args.push('--set', s);
  for (const s of opts.setString ?? []) args.push('--set-string', s);
  return args;
}

export function parseManifests(text: string): K8sObject[] {
  return YAML.parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`unparsable YAML: ${doc.errors[0]?.message}`);
    const obj = doc.toJS() as K8sObject | null;
    return obj === null ? [] : [obj];
  });
}

export function renderText(opts: RenderOptions = {}): string {
  return helm(templateArgs(opts));
}

export function render(opts: RenderOptions = {}): K8sObject[] {
  return parseManifests(renderText(opts));
}

/** Renders values that must be refused; returns helm's error output. Throws if the render succeeds. */
export function renderError(opts: RenderOptions): string {
  try {
    helm(templateArgs(opts));
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`helm template accepted ${JSON.stringify(opts)}`);
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

export function mustFind(objects: K8sObject[], kind: string, name: string): K8sObject {
  const obj = find(objects, kind, name);
  if (!obj) throw new Error(`no ${kind} ${name} in: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return obj;
}

export const componentName = (component: string): string => `${RELEASE}-ledgerflow-${component}`;

/** Copies the chart to a temporary directory (to render it with extra files, e.g. dashboards). */
export function copyChart(tmpRoot: string): string {
  const dir = path.join(tmpRoot, 'ledgerflow');
  execFileSync('cp', ['-R', CHART_DIR, dir]);
  return dir;
}
