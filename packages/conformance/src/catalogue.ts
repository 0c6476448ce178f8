/**
 * The upstream test list (139 tests in conformance/tests and 23 in conformance/tests/mesh, main @ 4564255) with features, profiles and flags, kept
 * as data in cases/_catalogue.json. Decides which profile and feature each result counts for:
 * a test is Core in profile P when all its features are P's core features, otherwise it is Extended
 * and counts under each of its extended features (GEP-1709).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CatalogueEntry {
  name: string;
  /** Upstream file stem (`httproute-matching`). */
  file: string;
  /** Features besides `Gateway`. */
  features: string[];
  profiles: string[];
  provisional: boolean;
  mainOnly: boolean;
  summary: string;
  /** A GAMMA (service mesh) test from conformance/tests/mesh. */
  mesh?: boolean;
}

export const PROFILES = ['GATEWAY-HTTP', 'GATEWAY-TLS', 'GATEWAY-GRPC', 'GATEWAY-TCP', 'GATEWAY-UDP', 'MESH-HTTP', 'MESH-GRPC'] as const;

/** Why every mesh test is SKIP. */
export const MESH_SKIP_REASON =
  'a GAMMA (service mesh) test: it needs mesh clients and sidecars intercepting pod-to-pod Service traffic inside a cluster; a standalone edge proxy is not a mesh';

const CORE_FEATURES: Record<string, string[]> = {
  'GATEWAY-HTTP': ['Gateway', 'ReferenceGrant', 'HTTPRoute'],
  'GATEWAY-TLS': ['Gateway', 'ReferenceGrant', 'TLSRoute'],
  'GATEWAY-GRPC': ['Gateway', 'ReferenceGrant', 'GRPCRoute'],
  'GATEWAY-TCP': ['Gateway', 'ReferenceGrant', 'TCPRoute'],
  'GATEWAY-UDP': ['Gateway', 'ReferenceGrant', 'UDPRoute'],
  'MESH-HTTP': ['Mesh', 'HTTPRoute'],
  'MESH-GRPC': ['Mesh', 'GRPCRoute'],
};

export function loadCatalogue(casesDir: string): CatalogueEntry[] {
  return JSON.parse(readFileSync(join(casesDir, '_catalogue.json'), 'utf8')) as CatalogueEntry[];
}

/** The extended features of a test in a profile ([] = a Core test of that profile). */
export function extendedFeatures(entry: Pick<CatalogueEntry, 'features'>, profile: string): string[] {
  const core = CORE_FEATURES[profile] ?? [];
  return entry.features.filter((f) => !core.includes(f));
}

export function isCoreIn(entry: Pick<CatalogueEntry, 'features' | 'profiles'>, profile: string): boolean {
  return entry.profiles.includes(profile) && extendedFeatures(entry, profile).length === 0;
}
