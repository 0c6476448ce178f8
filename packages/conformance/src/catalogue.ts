/**
 * The upstream test list (139 non-mesh tests at main @ 4564255) with features, profiles and flags, kept
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
}

export const PROFILES = ['GATEWAY-HTTP', 'GATEWAY-TLS', 'GATEWAY-GRPC', 'GATEWAY-TCP', 'GATEWAY-UDP'] as const;

const CORE_FEATURES: Record<string, string[]> = {
  'GATEWAY-HTTP': ['Gateway', 'ReferenceGrant', 'HTTPRoute'],
  'GATEWAY-TLS': ['Gateway', 'ReferenceGrant', 'TLSRoute'],
  'GATEWAY-GRPC': ['Gateway', 'ReferenceGrant', 'GRPCRoute'],
  'GATEWAY-TCP': ['Gateway', 'ReferenceGrant', 'TCPRoute'],
  'GATEWAY-UDP': ['Gateway', 'ReferenceGrant', 'UDPRoute'],
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
