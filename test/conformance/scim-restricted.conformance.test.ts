// The shared connector conformance suite against a second, restricted SCIM peer (SCIMMY behind
// Express: no PATCH, `eq`-only filters, pages of 2, startIndex quirks, no ETags; see
// test/servers/scim-restricted-server.ts).
import { startRestricted } from '../servers/scim-restricted.ts';
import { scimTarget } from './scim.target.ts';
import { describeConformance } from './suite.ts';

describeConformance('scim (restricted peer)', async () => scimTarget(await startRestricted()));
