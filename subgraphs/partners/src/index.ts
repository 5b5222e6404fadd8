export { partnersSubgraph, schema } from './server';
export type { RequestContext } from './context';
export { seedDemoPartner, type DemoPartner } from './seed';
export { PARTNER_SCOPES, type PartnerScopeName, type PartnerScopeString } from './domain/scopes';
export { parseApiKey, hashApiKey, KEY_PREFIX } from './domain/api-keys';
