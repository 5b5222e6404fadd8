import { exitOnError } from '@loyalty-graph/shared';
import { runSubgraph } from '@loyalty-graph/shared/subgraph';
import { analyticsSubgraph } from './server';

runSubgraph(analyticsSubgraph).catch(exitOnError);
