export { catalogSubgraph, createCatalogSubgraph, schema } from './server';
export type { SagaPoint } from './services/orders';
export { stockDiscrepancies } from './services/stock-check';
export type { RequestContext } from './context';
export { DEMO_PARTNER_ID, seedDemoCatalog, type DemoCatalogProgram } from './seed';
export { parseCodeKey, VoucherCipher } from './domain/voucher-codes';
export { VoucherService, type ClaimCodesInput, type VoucherCodeView, type OwnedVoucherCode } from './services/vouchers';
