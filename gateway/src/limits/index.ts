export { limitsEnv, limitsFromEnv } from './config';
export { ANY_OPERATION_SCOPE, createLimits, LimitCode, type CostExtension, type GatewayLimits, type LimitsOptions, type TrustedDocumentsMode } from './limits';
export { MemoryBudgetStore, type BudgetStore } from './budget';
export { RedisBudgetStore } from './redis-budget';
export { parseTrustedDocuments, sha256Hex, type TrustedDocuments } from './trusted-documents';
export { DEFAULT_BUDGETS, DEFAULT_OPERATION_LIMITS, DEFAULT_WEIGHTS, type BudgetPolicy, type CallerKind } from './weights';
