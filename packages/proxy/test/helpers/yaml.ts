import { compile, decodeDocuments, type CompileResult, type RawDocument } from '@gatehouse/core';
import { parseAllDocuments } from 'yaml';

/**
 * YAML text → RawDocuments → decode → compile, for data-plane tests that start from user config (the
 * positions are not needed here, so `locate` answers the document start).
 */
export function compileYaml(text: string, file = 'test.yaml'): CompileResult & { decodeErrors: string[] } {
  const docs: RawDocument[] = parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((v) => v !== null && v !== undefined)
    .map((value, index) => ({ file, index, order: index, value, locate: () => ({ file, line: 1, col: 1 }) }));
  const decoded = decodeDocuments(docs);
  const decodeErrors = decoded.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`);
  return { ...compile(decoded.resources), decodeErrors };
}
