// The shared connector conformance suite against a real SCIM 2.0 server (python-scim's
// scim2-server). The restricted peer runs the same suite in scim-restricted.conformance.test.ts.
import { start } from '../servers/scim.ts';
import { scimTarget } from './scim.target.ts';
import { describeConformance } from './suite.ts';

describeConformance('scim', async () => scimTarget(await start()));
