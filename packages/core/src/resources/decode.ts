import type { Diagnostic } from '../diagnostics.js';
import type { RawDocument } from './document.js';
import type { ResourceSet } from './types.js';

export interface DecodeResult {
  resources: ResourceSet;
  /** Errors and warnings, each with file:line:col, object and field path. */
  diagnostics: Diagnostic[];
}

/**
 * Decode, validate, default and normalise (all served versions → v1; v1alpha1 converted) every document.
 * Never throws on user input. An object with errors is left out of `resources`.
 */
export function decodeDocuments(docs: readonly RawDocument[]): DecodeResult {
  void docs;
  throw new Error('decodeDocuments: not implemented yet');
}
