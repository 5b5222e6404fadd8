import { exitOnError } from '@loyalty-graph/shared';
import { runSubgraph } from '@loyalty-graph/shared/subgraph';
import { ledgerSubgraph } from './server';

runSubgraph(ledgerSubgraph).catch(exitOnError);
