import { exitOnError } from '@loyalty-graph/shared';
import { runSubgraph } from '@loyalty-graph/shared/subgraph';
import { catalogSubgraph } from './server';

runSubgraph(catalogSubgraph).catch(exitOnError);
