// The shared connector conformance suite against a real Keycloak (one per test run, a fresh realm
// here), the connector working as a least-privilege service account (keycloak.target.ts).
import { beforeAll } from 'vitest';
import { sharedKeycloak } from '../servers/keycloak.ts';
import { startKeycloakTarget } from './keycloak.target.ts';
import { describeConformance } from './suite.ts';

// Before the suite's own setup (whose timeout is shorter): the run's Keycloak may still be starting.
beforeAll(() => sharedKeycloak().then(() => undefined), 600_000);

describeConformance('keycloak', () => startKeycloakTarget());
