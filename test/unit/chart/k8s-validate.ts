/**
 * Offline schema validation of Kubernetes objects with the schemas shipped in npm packages:
 *  1. kubernetes-models (core kinds), @kubernetes-models/keda, @kubernetes-models/prometheus-operator:
 *     `new Model(obj).validate()` checks types, formats, enums and required fields.
 *  2. Those validators accept unknown fields, which a real API server (kubectl's strict field
 *     validation) rejects; so the same packages' TypeScript declarations are used as a closed schema:
 *     each object is type-checked as an object literal, where TypeScript reports every unknown field.
 * A kind with no model is a failure, never a skip.
 */
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../../helpers/k8s-tools';
import type { K8sObject } from './render';

const PACKAGE_BY_GROUP: Record<string, string> = {
  'keda.sh': '@kubernetes-models/keda',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'gateway.networking.k8s.io': '@kubernetes-models/gateway-api',
};

/** e.g. apps/v1 Deployment -> kubernetes-models/apps/v1/Deployment; v1 ConfigMap -> kubernetes-models/v1/ConfigMap */
export function modelModule(apiVersion: string, kind: string): string {
  const group = apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
  return `${PACKAGE_BY_GROUP[group] ?? 'kubernetes-models'}/${apiVersion}/${kind}`;
}

const describe = (obj: K8sObject): string => `${obj.apiVersion} ${obj.kind} ${obj.metadata?.name ?? '?'}`;

type ModelClass = new (data: unknown) => { validate(): void };

/** Validates one object with its kubernetes-models class; throws on a schema error or an unknown kind. */
export async function validateWithModel(obj: K8sObject): Promise<void> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modelModule(obj.apiVersion, obj.kind))) as Record<string, unknown>;
  } catch {
    throw new Error(`${describe(obj)}: no schema for this kind (unknown apiVersion/kind)`);
  }
  const Model = mod[obj.kind] as ModelClass | undefined;
  if (typeof Model !== 'function') throw new Error(`${describe(obj)}: no model class ${obj.kind}`);
  try {
    new Model(obj).validate();
  } catch (err) {
    throw new Error(`${describe(obj)}: ${(err as Error).message}`);
  }
}

const VIRTUAL_FILE = path.join(REPO_ROOT, 'test', 'unit', 'chart', '__k8s_objects__.ts');

/**
 * Type-checks objects against their models' declarations (closed world: unknown fields are errors).
 * Returns one message per problem, naming the object; empty when all are valid.
 */
export function strictFieldErrors(objects: K8sObject[]): string[] {
  const lines: string[] = [];
  objects.forEach((obj, i) => {
    lines.push(`import type { I${obj.kind} as T${i} } from ${JSON.stringify(modelModule(obj.apiVersion, obj.kind))};`);
    lines.push(`export const o${i}: T${i} = ${JSON.stringify(obj)};`);
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang, onError, create) =>
    file === VIRTUAL_FILE ? ts.createSourceFile(file, source, lang) : getSourceFile(file, lang, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => file === VIRTUAL_FILE || fileExists(file);
  const program = ts.createProgram([VIRTUAL_FILE], options, host);
  const sourceFile = program.getSourceFile(VIRTUAL_FILE);
  return ts.getPreEmitDiagnostics(program, sourceFile).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const obj = objects[Math.floor(line / 2)];
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    return `${obj ? describe(obj) : VIRTUAL_FILE}: ${message}`;
  });
}

/** Both checks over a set of objects; returns every problem found. */
export async function validateObjects(objects: K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const obj of objects) {
    await validateWithModel(obj).catch((err: Error) => problems.push(err.message));
  }
  return [...problems, ...strictFieldErrors(objects)];
}
