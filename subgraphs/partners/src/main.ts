import { exitOnError } from '@loyalty-graph/shared';
import { runSubgraph } from '@loyalty-graph/shared/subgraph';
import { partnersSubgraph } from './server';

runSubgraph(partnersSubgraph).catch(exitOnError);
